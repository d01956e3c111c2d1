"""The synthetic release generator: structure, consistency and determinism,
checked by reading the bundle it writes (no database)."""

import csv
import gzip
import hashlib
import json
from collections import Counter, defaultdict

import pytest

from participants import bundle as fmt
from participants.synthetic import SIGNAL_GENE, generate_release


def _rows(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    path = tmp_path_factory.mktemp("synthetic") / "bundle"
    summary = generate_release(path, participants=400, variants=1500, seed=5, withdrawn_fraction=0.02)
    return path, summary


def test_bundle_is_valid_by_the_ingest_rules(release):
    path, _ = release
    checked = fmt.read_bundle(path)
    assert checked.problems == []


def test_families_are_trios_or_singletons_with_parents_of_the_right_sex(release):
    path, _ = release
    people = _rows(path / fmt.PARTICIPANTS)
    families = defaultdict(list)
    for person in people:
        if person["family_id"]:
            families[person["family_id"]].append(person)
    assert families, "no families generated"
    for members in families.values():
        roles = Counter(m["relationship_to_proband"] for m in members)
        assert roles == Counter({"proband": 1, "mother": 1, "father": 1})
        by_role = {m["relationship_to_proband"]: m for m in members}
        assert by_role["mother"]["sex"] == "female" and by_role["father"]["sex"] == "male"
        assert int(by_role["mother"]["year_of_birth"]) < int(by_role["proband"]["year_of_birth"])
        assert len({m["genetic_ancestry"] for m in members}) == 1
    singletons = [p for p in people if p["programme"] == "rare_disease" and not p["family_id"]]
    assert singletons


def _samples(path):
    with gzip.open(path / fmt.GERMLINE, "rt") as handle:
        return next(line for line in handle if line.startswith("#CHROM")).rstrip().split("\t")[9:]


def test_withdrawn_participants_keep_their_clinical_data_and_somatic_files_by_default(release):
    path, summary = release
    people = _rows(path / fmt.PARTICIPANTS)
    withdrawn = {p["participant_id"] for p in people if p["consent_status"] == "withdrawn"}
    assert len(withdrawn) == summary["withdrawn"] > 0
    in_files = {
        name: [r for r in _rows(path / name) if r["participant_id"] in withdrawn] for name in fmt.CLINICAL_TABLES
    }
    assert all(in_files.values()), {name: len(rows) for name, rows in in_files.items()}
    assert summary["withdrawn_rows"] == {
        **{name: len(rows) for name, rows in in_files.items()},
        fmt.SOMATIC_DIR: len(in_files[fmt.TUMOURS]),
    }
    for tumour in in_files[fmt.TUMOURS]:
        assert (path / fmt.somatic_vcf(tumour["tumour_sample_id"])).exists()
    assert set(_samples(path)) == {p["participant_id"] for p in people} - withdrawn


def test_the_stripped_form_is_the_default_less_withdrawn_participants_data(release, tmp_path):
    path, summary = release
    stripped = tmp_path / "stripped"
    stripped_summary = generate_release(
        stripped, participants=400, variants=1500, seed=5, withdrawn_fraction=0.02, withdrawn_data=False
    )
    withdrawn = {p["participant_id"] for p in _rows(path / fmt.PARTICIPANTS) if p["consent_status"] == "withdrawn"}
    assert (stripped / fmt.PARTICIPANTS).read_bytes() == (path / fmt.PARTICIPANTS).read_bytes()
    for name in fmt.CLINICAL_TABLES:
        assert _rows(stripped / name) == [r for r in _rows(path / name) if r["participant_id"] not in withdrawn]
    kept = {f.name for f in (path / fmt.SOMATIC_DIR).iterdir() if f.name.split("-T")[0] not in withdrawn}
    assert {f.name for f in (stripped / fmt.SOMATIC_DIR).iterdir()} == kept
    for name in kept:
        assert (stripped / fmt.SOMATIC_DIR / name).read_bytes() == (path / fmt.SOMATIC_DIR / name).read_bytes()
    assert _samples(stripped) == _samples(path)
    assert set(stripped_summary["withdrawn_rows"].values()) == {0}
    assert fmt.read_bundle(stripped).problems == []


def test_cancer_participants_have_tumours_consistent_with_sex_and_survival(release):
    path, _ = release
    people = {p["participant_id"]: p for p in _rows(path / fmt.PARTICIPANTS)}
    tumours = _rows(path / fmt.TUMOURS)
    assert {t["participant_id"] for t in tumours} == {pid for pid, p in people.items() if p["programme"] == "cancer"}
    for tumour in tumours:
        person = people[tumour["participant_id"]]
        if tumour["disease_type"] in ("PROSTATE",):
            assert person["sex"] == "male"
        if tumour["disease_type"] in ("OVARIAN", "ENDOMETRIAL"):
            assert person["sex"] == "female"
        assert (path / fmt.SOMATIC_DIR / f"{tumour['tumour_sample_id']}.vcf.gz").exists()
        if person["vital_status"] == "deceased":
            assert person["death_month"] > tumour["diagnosis_month"] or tumour["sample_type"] == "metastatic"
    assert any(p["vital_status"] == "deceased" for p in people.values())


def test_probands_have_phenotypes_from_the_ontology_and_a_disease(release):
    path, _ = release
    people = _rows(path / fmt.PARTICIPANTS)
    probands = {
        p["participant_id"]
        for p in people
        if p["programme"] == "rare_disease" and p["relationship_to_proband"] in ("proband", "")
    }
    phenotyped = Counter(r["participant_id"] for r in _rows(path / fmt.PHENOTYPES) if r["observed"] == "yes")
    assert probands <= set(phenotyped)
    assert min(phenotyped[p] for p in probands) >= 1
    assert {r["participant_id"] for r in _rows(path / fmt.DISEASES)} == probands


def test_truth_records_planted_variants_in_the_vcf(release):
    path, summary = release
    truth = json.loads((path / "truth.json").read_text())
    assert truth["pathogenic"] and summary["planted"] == len(truth["pathogenic"])
    assert any(v["kind"] == "de_novo" for v in truth["injected"])
    positions = {(v["chrom"], v["pos"]) for v in truth["injected"]}
    with gzip.open(path / fmt.GERMLINE, "rt") as handle:
        records = {(f[0], int(f[1])) for f in (line.split("\t", 2) for line in handle if not line.startswith("#"))}
    assert positions <= records
    if truth["case_control_signal"]:
        assert truth["case_control_signal"]["gene"] == SIGNAL_GENE


def test_same_seed_gives_the_same_bundle(tmp_path):
    def digest(path):
        h = hashlib.sha256()
        for name in (fmt.PARTICIPANTS, fmt.PHENOTYPES, fmt.TUMOURS):
            h.update((path / name).read_bytes())
        with gzip.open(path / fmt.GERMLINE, "rt") as handle:
            h.update("".join(line for line in handle if not line.startswith("##fileDate")).encode())
        return h.hexdigest()

    a = generate_release(tmp_path / "a", participants=60, variants=300, seed=9)
    b = generate_release(tmp_path / "b", participants=60, variants=300, seed=9)
    generate_release(tmp_path / "c", participants=60, variants=300, seed=10)
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")
    assert a["participants"] == b["participants"] == 60


def test_refuses_to_write_over_a_folder_with_files(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError):
        generate_release(tmp_path / "busy", participants=20, variants=200, seed=1)
    assert (tmp_path / "busy" / "keep.txt").read_text() == "x"
