"""A withdrawn participant influences nothing (Hypothesis).

Two kinds of withdrawn participant are given arbitrary data in each draw:

- marked ``withdrawn`` in the release's participants.tsv, with phenotypes,
  diseases, tumours and germline genotypes still delivered (ingest leaves
  their clinical rows out; their genotype column is in the store and masked);
- consenting in the release, so all their data is loaded, then withdrawn
  through the register, before or after cohorts are saved.

Every count (with the total and its breakdowns, and each criterion's own,
by every path: per-value counts, rollup, database, genotype store), the kept
per-value counts and rollup, every carrier lookup and allele count through
the sample mask, every genotype chunk and matrix and a PLINK export read
through it, the members an analysis gets, summaries and comparisons of
saved cohorts are then the same as when they have no data at all.

That includes cohort-AF filters (``max_cohort_af``, criteria and carrier
lookups): the AF they compare is computed over the mask's samples, so a
withdrawn participant's genotypes cannot move which variants pass. The
thresholds sit at the usable participants' AFs (0.125-0.341 over the sites),
where four more columns of arbitrary calls would move variants across them.
"""

from __future__ import annotations

import csv
import json
import random
import uuid
from pathlib import Path

import pysam
import pytest
from django.core.cache import cache
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cohorts.compiler import compile_criteria, count_cells
from cohorts.criteria import parse
from cohorts.genotypes import release_genotypes
from cohorts.selectors import cohort_compare, cohort_summary
from cohorts.services import cohort_create, cohort_members_for_job, criterion_counts
from genomics.store import GenotypeStore
from genomics.validate import validate_germline_vcf
from genomics.vcf import tabix_index, vcf_header_lines
from participants import bundle as fmt
from participants import vocabularies as vocab
from participants.loader import release_load, rows_from_bundle, store_path_for
from participants.models import HpoTerm, PhenotypeAncestor, RegisteredWithdrawal
from participants.selectors import release_current
from participants.services import withdrawals_record
from participants.withdrawal_list import WithdrawalLine

pytestmark = pytest.mark.django_db

TERMS = ["HP:0001250", "HP:0002069", "HP:0001263", "HP:0000252", "HP:0000478", "HP:0000707", "HP:0001166"]
DISEASES = [
    ("Neurology and neurodevelopmental disorders", "Epilepsy", "Genetic epilepsy syndromes"),
    ("Cardiovascular disorders", "Cardiomyopathy", "Hypertrophic cardiomyopathy"),
    ("Renal and urinary tract disorders", "Cystic kidney disease", "Cystic kidney disease"),
]
CENTRES = ["Wessex GMC", "Oxford GMC", "Only-withdrawn GMC"]
TUMOUR_TYPES = ["BREAST", "LUNG", "SARCOMA"]
BRCA1 = ("chr17", 43044295, 43125483)
TP53 = ("chr17", 7668402, 7687550)
# (position, gene, consequence, popaf): sites in two genes and between them.
SITES = [
    (43045000, "BRCA1", "stop_gained", None), (43050000, "BRCA1", "missense_variant", 0.002),
    (43060000, "BRCA1", "synonymous_variant", 0.2), (43070000, "BRCA1", "missense_variant", None),
    (43100000, "BRCA1", "frameshift_variant", 0.0005), (7670000, "TP53", "missense_variant", 0.01),
    (7675000, "TP53", "stop_gained", None), (7680000, "TP53", "intron_variant", 0.4),
    (20000000, "", "intergenic_variant", 0.3), (30000000, "", "intergenic_variant", None),
]  # fmt: skip
SITES.sort()
GENOTYPES = ["0/0", "0/1", "1/1", "./."]

CRITERIA = [
    {},
    {"include_all": [{"type": "programme", "values": ["cancer"]}, {"type": "sex", "values": ["female"]}]},
    {"include_all": [{"type": "age_band", "values": ["30-39", "40-49", "70-79"]}]},
    {"include_all": [{"type": "ancestry", "values": ["EUR", "SAS"]}]},
    {"include_all": [{"type": "recruiting_centre", "values": CENTRES[1:]}]},
    {"include_all": [{"type": "family_role", "values": ["proband", "none"]}]},
    {"include_all": [{"type": "affection", "values": ["unaffected"]}]},
    {"include_all": [{"type": "vital_status", "values": ["alive"]}]},
    {"include_all": [{"type": "disease", "values": [DISEASES[0][2]]}]},
    {"include_all": [{"type": "disease", "field": "disease_group", "values": [DISEASES[1][0], DISEASES[2][0]]}]},
    {"include_all": [{"type": "hpo", "term": "HP:0000707"}]},
    {"include_all": [{"type": "hpo", "term": "HP:0001250"}]},
    {"include_all": [{"type": "hpo", "term": "HP:0001250", "include_descendants": False}]},
    {"include_all": [{"type": "hpo", "term": "HP:0001263", "observed": False}]},
    {"include_all": [{"type": "tumour", "disease_types": ["BREAST"]}]},
    {"include_all": [{"type": "tumour", "stages": ["II", "unknown"]}]},
    {"include_all": [{"type": "tumour", "sample_types": ["metastatic"]}]},
    {"include_all": [{"type": "genotype", "gene": "BRCA1"}]},
    {"include_all": [{"type": "genotype", "gene": "BRCA1", "genotype": "hom"}]},
    {"include_all": [{"type": "genotype", "gene": "TP53", "genotype": "het", "max_population_af": 0.05}]},
    {"include_all": [{"type": "genotype", "region": "chr17:43040000-43080000"}]},
    {"include_all": [{"type": "genotype", "gene": "BRCA1", "consequence_classes": ["loss_of_function"]}]},
    {
        "include_all": [{"type": "programme", "values": ["rare_disease"]}],
        "include_any": [{"type": "hpo", "term": "HP:0000707"}, {"type": "disease", "values": [DISEASES[1][2]]}],
        "exclude": [{"type": "genotype", "gene": "BRCA1"}],
    },
    {"include_any": [{"type": "tumour", "disease_types": ["LUNG"]}, {"type": "genotype", "gene": "TP53"}]},
    {"include_all": [{"type": "genotype", "gene": "BRCA1", "max_cohort_af": 0.25}]},
    {"include_all": [{"type": "genotype", "gene": "TP53", "genotype": "het", "max_cohort_af": 0.26}]},
    {"include_all": [{"type": "genotype", "region": "chr17:1-50000000", "max_cohort_af": 0.2}]},
    {
        "include_all": [{"type": "programme", "values": ["rare_disease"]}],
        "exclude": [{"type": "genotype", "gene": "BRCA1", "max_cohort_af": 0.3, "max_population_af": 0.01}],
    },
]
CARRIER_LOOKUPS = [
    {"gene": "BRCA1"}, {"gene": "BRCA1", "genotype": "het"}, {"gene": "TP53", "genotype": "hom"},
    {"region": "chr17:7660000-7690000"}, {"gene": "BRCA1", "consequences": ["stop_gained", "frameshift_variant"]},
    {"max_popaf": 0.01}, {"max_cohort_af": 0.25}, {"gene": "TP53", "genotype": "het", "max_cohort_af": 0.26},
    {"max_cohort_af": 0.3, "max_popaf": 0.05}, {"region": "chr17:1-50000000", "max_cohort_af": 0.2},
]  # fmt: skip


def _person(pid: str, **values) -> dict:
    return {
        "participant_id": pid, "programme": vocab.RARE_DISEASE, "sex": "female", "year_of_birth": 1980,
        "genetic_ancestry": "EUR", "recruiting_centre": "Wessex GMC", "consent_status": vocab.CONSENTING,
        "consent_month": "2018-05", "vital_status": vocab.ALIVE, "death_month": "", "family_id": "",
        "relationship_to_proband": "", "affection_status": "affected", **values,
    }  # fmt: skip


def _fixed_world():
    """Consenting participants with fixed data: rows per file and genotypes per sample."""
    rng = random.Random(7)  # fixed test data
    people, phenotypes, diseases, tumours, genotypes = [], [], [], [], {}
    for i in range(24):
        cancer = i % 3 == 0
        family = f"FAM{i // 3}" if i % 3 == 1 and i < 12 else ""
        pid = f"C{i:03d}"
        people.append(_person(
            pid, programme=vocab.CANCER if cancer else vocab.RARE_DISEASE, sex=rng.choice(["female", "male"]),
            year_of_birth=rng.randint(1935, 2005), genetic_ancestry=rng.choice(["EUR", "SAS", "AFR"]),
            recruiting_centre=rng.choice(CENTRES[:2]), consent_month=f"201{rng.randint(5, 9)}-0{rng.randint(1, 9)}",
            family_id=family, relationship_to_proband="proband" if family or i % 2 else "",
            affection_status=rng.choice(["affected", "unaffected"]),
        ))  # fmt: skip
        for term in rng.sample(TERMS, rng.randint(0, 3)):
            phenotypes.append({"participant_id": pid, "hpo_id": term, "observed": rng.random() < 0.8})
        if not cancer and rng.random() < 0.7:
            group, subgroup, specific = rng.choice(DISEASES)
            diseases.append({"participant_id": pid, "disease_group": group, "disease_subgroup": subgroup,
                             "specific_disease": specific})  # fmt: skip
        if cancer:
            tumours.append({"participant_id": pid, "tumour_sample_id": f"{pid}-T1",
                            "disease_type": rng.choice(TUMOUR_TYPES), "stage": rng.choice(vocab.STAGES.values),
                            "sample_type": rng.choice(vocab.SAMPLE_TYPES.values),
                            "diagnosis_month": "2018-01"})  # fmt: skip
        genotypes[pid] = [rng.choices(GENOTYPES, weights=[6, 3, 1, 1])[0] for _ in SITES]
    return people, phenotypes, diseases, tumours, genotypes


FIXED = _fixed_world()
IN_RELEASE = ["W01", "W02"]  # marked withdrawn in participants.tsv
REGISTERED = ["R01", "R02"]  # consenting in the release, withdrawn through the register


@st.composite
def withdrawn_data(draw, pid: str, *, status: str) -> dict:
    programme = draw(st.sampled_from(vocab.RECRUITMENT_PROGRAMMES.values))
    person = _person(
        pid,
        programme=programme,
        consent_status=status,
        sex=draw(st.sampled_from(vocab.SEXES.values)),
        year_of_birth=draw(st.integers(1930, 2010)),
        genetic_ancestry=draw(st.sampled_from(vocab.ANCESTRIES.values)),
        recruiting_centre=draw(st.sampled_from(CENTRES)),
        consent_month=f"{draw(st.integers(2015, 2019))}-{draw(st.integers(1, 12)):02d}",
        relationship_to_proband=draw(st.sampled_from(["", "proband"])),
        affection_status=draw(st.sampled_from(vocab.AFFECTION.values)),
    )
    terms = draw(st.lists(st.sampled_from(TERMS), unique=True, max_size=5))
    tumours = draw(st.lists(st.tuples(st.sampled_from(TUMOUR_TYPES), st.sampled_from(vocab.STAGES.values),
                                      st.sampled_from(vocab.SAMPLE_TYPES.values)), max_size=2))  # fmt: skip
    return {
        "person": person,
        "phenotypes": [{"participant_id": pid, "hpo_id": t, "observed": draw(st.booleans())} for t in terms],
        "diseases": [
            {"participant_id": pid, "disease_group": g, "disease_subgroup": s, "specific_disease": d}
            for g, s, d in draw(st.lists(st.sampled_from(DISEASES), unique=True, max_size=2))
        ],
        "tumours": [
            {
                "participant_id": pid,
                "tumour_sample_id": f"{pid}-T{i + 1}",
                "disease_type": kind,
                "stage": stage,
                "sample_type": sample,
                "diagnosis_month": "2018-06",
            }
            for i, (kind, stage, sample) in enumerate(tumours if programme == vocab.CANCER else [])
        ],  # fmt: skip
        "genotypes": draw(st.lists(st.sampled_from(GENOTYPES), min_size=len(SITES), max_size=len(SITES))),
        "withdrawal_month": draw(st.sampled_from(["2020-01", "2024-11", "2025-06"])),
    }


def _no_data(pid: str, *, status: str) -> dict:
    return {"person": _person(pid, consent_status=status), "phenotypes": [], "diseases": [], "tumours": [],
            "genotypes": ["0/0"] * len(SITES), "withdrawal_month": "2025-06"}  # fmt: skip


def _draw():
    return st.fixed_dictionaries(
        {
            "withdrawn": st.fixed_dictionaries(
                {pid: withdrawn_data(pid, status=vocab.WITHDRAWN) for pid in IN_RELEASE}
                | {pid: withdrawn_data(pid, status=vocab.CONSENTING) for pid in REGISTERED}
            ),
            "saved_before_withdrawal": st.booleans(),
        }
    )


def _write_tsv(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("yes" if v is True else "no" if v is False else v) for k, v in row.items()})


def _write_bundle(folder: Path, withdrawn: dict) -> None:
    people, phenotypes, diseases, tumours, genotypes = FIXED
    extra = list(withdrawn.values())
    folder.mkdir(parents=True)
    (folder / fmt.RELEASE_JSON).write_text(
        json.dumps({"name": "p", "date": "2025-07-01", "genome_build": "GRCh38", "format_version": 1})
    )
    tables = {
        fmt.PARTICIPANTS: people + [w["person"] for w in extra],
        fmt.PHENOTYPES: phenotypes + [r for w in extra for r in w["phenotypes"]],
        fmt.DISEASES: diseases + [r for w in extra for r in w["diseases"]],
        fmt.TUMOURS: tumours + [r for w in extra for r in w["tumours"]],
        fmt.GENES: [{"symbol": g, "chrom": c, "start": s, "end": e, "strand": "+"} for g, (c, s, e) in
                    (("BRCA1", BRCA1), ("TP53", TP53))],
    }  # fmt: skip
    for name, rows in tables.items():
        _write_tsv(folder / name, list(fmt.TABLES[name].columns), rows)
    samples = {**genotypes, **{pid: w["genotypes"] for pid, w in withdrawn.items()}}
    lines = vcf_header_lines(list(samples), ["chr17"], format_fields=("GT",))
    for i, (pos, gene, csq, popaf) in enumerate(SITES):
        info = ";".join([*([f"GENE={gene}"] if gene else []), f"CSQ={csq}", *([f"POPAF={popaf}"] if popaf else [])])
        lines.append("\t".join(["chr17", str(pos), ".", "A", "G", ".", "PASS", info, "GT",
                                *(gts[i] for gts in samples.values())]))  # fmt: skip
    plain = folder / "germline.vcf"
    plain.write_text("\n".join(lines) + "\n")
    pysam.tabix_compress(str(plain), str(folder / fmt.GERMLINE))
    plain.unlink()
    tabix_index(folder / fmt.GERMLINE)


def ids_of(ids: list[str], sample_index) -> list[str]:
    return [ids[int(i)] for i in sample_index]


def _outputs(*, root: Path, withdrawn: dict, saved_before: bool, by, project, record: bool = True) -> dict:
    """Everything the portal can answer about the release, with ``withdrawn``
    given their data (``record=False``: the register withdrawals are not made)."""
    name = f"prop-{uuid.uuid4().hex[:10]}"
    folder = root / name
    _write_bundle(folder, withdrawn)
    store = root / "data" / store_path_for(name)
    bundle = fmt.read_bundle(folder, known_hpo=set(HpoTerm.objects.values_list("id", flat=True)), check_vcfs=False)
    assert bundle.problems == [], [str(p) for p in bundle.problems]
    # The germline VCF, withdrawn columns and all, is checked in the pass that writes the store.
    germline = folder / fmt.GERMLINE
    ok = validate_germline_vcf(germline, bundle.consenting_ids(), allowed_samples=bundle.withdrawn_ids(), store=store)
    assert ok == [], [str(p) for p in ok]
    index = {sid: i for i, sid in enumerate(GenotypeStore(store).sample_ids)}
    release_load(rows=rows_from_bundle(bundle, name=name, checksum="0" * 64, sample_index=index))

    def save():
        return [
            cohort_create(by=by, project=project, name=f"Cohort {i}", criteria_json=CRITERIA[i]) for i in (0, 22, 23)
        ]

    cohorts = save() if saved_before else []
    lines = [WithdrawalLine(pid, withdrawn[pid]["withdrawal_month"]) for pid in REGISTERED]
    if record:
        withdrawals_record(by=None, lines=lines, source=RegisteredWithdrawal.Source.FILE, file="withdrawals.tsv")
    cohorts = cohorts or save()
    release = release_current()  # as the next request reads it

    out: dict = {"kept": release.counts["consenting_by"]}
    rollup = PhenotypeAncestor.objects.filter(release=release)
    out["rollup"] = sorted(rollup.values_list("ancestor_id", "observed", "participant__participant_id"))
    for i, raw in enumerate(CRITERIA):
        criteria = parse(raw)
        out[f"criteria {i}"] = (
            count_cells(criteria, release),
            sorted(compile_criteria(criteria, release).values_list("participant_id", flat=True)),
            criterion_counts(criteria.all_criteria(), release),
        )
    genotypes = release_genotypes(release)
    ids = genotypes.store.sample_ids
    for i, lookup in enumerate(CARRIER_LOOKUPS):
        out[f"carriers {i}"] = sorted(ids[s] for s in genotypes.carriers(**lookup))
    counts = genotypes.allele_counts().for_group("usable")
    out["allele counts"] = [a.tolist() for a in (counts.ac, counts.an, counts.n_het, counts.n_hom_alt)]
    out["allele counts BRCA1"] = genotypes.allele_counts(gene="BRCA1").for_group("usable").ac.tolist()
    chunks = list(genotypes.iter_chunks(fields=("GT",)))
    out["genotype chunks"] = [(c.variant_index.tolist(), ids_of(ids, c.sample_index), c.gt.tolist()) for c in chunks]
    out["genotype matrix BRCA1"] = genotypes.genotype_matrix(gene="BRCA1").tolist()
    prefix = genotypes.export_plink(root / f"{name}-export")
    out["plink export"] = [Path(f"{prefix}.{ext}").read_bytes() for ext in ("bed", "bim", "fam")]
    for i, cohort in enumerate(cohorts):
        cohort.refresh_from_db()
        out[f"cohort {i}"] = (cohort_members_for_job(cohort=cohort), cohort_summary(cohort=cohort))
    comparison = cohort_compare(a=cohorts[1], b=cohorts[2])
    out["comparison"] = (comparison.cells, comparison.total, comparison.size_a, comparison.size_b)
    return out


@pytest.fixture
def project(world):
    return world.approved_project


def test_withdrawn_participants_influence_no_count_lookup_membership_or_summary(tmp_path, settings, project):
    settings.DATA_ROOT = tmp_path / "data"
    owner = project.owner

    def outputs(withdrawn: dict, saved_before: bool) -> dict:
        cache.clear()
        with transaction.atomic():
            found = _outputs(root=tmp_path, withdrawn=withdrawn, saved_before=saved_before, by=owner, project=project)
            transaction.set_rollback(True)
        return found

    nothing = {pid: _no_data(pid, status=vocab.WITHDRAWN) for pid in IN_RELEASE} | {
        pid: _no_data(pid, status=vocab.CONSENTING) for pid in REGISTERED
    }
    baseline = outputs(nothing, saved_before=False)
    assert baseline["criteria 0"][1] == sorted(p["participant_id"] for p in FIXED[0]), "only the fixed people count"
    empty = [i for i in range(len(CRITERIA)) if not baseline[f"criteria {i}"][1]]
    assert len(empty) <= 2, f"criteria {empty} match nobody: the fixed data should exercise them"
    assert all(baseline[f"carriers {i}"] for i in range(len(CARRIER_LOOKUPS))), "the lookups find carriers"

    @hypothesis_settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(draw=_draw())
    def check(draw):
        found = outputs(draw["withdrawn"], draw["saved_before_withdrawal"])
        for key, value in baseline.items():
            assert found[key] == value, key

    check()


def test_the_comparison_would_see_a_participant_who_is_not_withdrawn(tmp_path, settings, project):
    """The same outputs, without recording the register's withdrawals, do move with their data."""
    settings.DATA_ROOT = tmp_path / "data"
    with_data = {pid: _no_data(pid, status=vocab.WITHDRAWN) for pid in IN_RELEASE} | {
        pid: {**_no_data(pid, status=vocab.CONSENTING), "genotypes": ["1/1"] * len(SITES),
              "phenotypes": [{"participant_id": pid, "hpo_id": "HP:0001250", "observed": True}]}
        for pid in REGISTERED
    }  # fmt: skip
    found = {}
    for record in (True, False):
        with transaction.atomic():
            found[record] = _outputs(root=tmp_path, withdrawn=with_data, saved_before=True, by=project.owner,
                                     project=project, record=record)  # fmt: skip
            transaction.set_rollback(True)
        cache.clear()
    everyone = set(found[False]["criteria 0"][1])
    assert set(REGISTERED) <= everyone and not set(IN_RELEASE) & everyone
    assert not set(REGISTERED) & set(found[True]["criteria 0"][1])
    changed = {key for key in found[True] if found[True][key] != found[False][key]}
    assert {"kept", "rollup", "allele counts", "carriers 0", "criteria 11", "cohort 0"} <= changed
