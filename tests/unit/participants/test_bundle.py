"""Bundle table checks, on small hand-written files (no VCFs, no database)."""

import json

import pytest

from participants import bundle as fmt

HEADER = "\t".join(fmt.TABLES[fmt.PARTICIPANTS].columns)


def _person(pid="P1", programme="rare_disease", vital="alive", death="", family="", relationship="", **kw):
    values = {
        "participant_id": pid,
        "programme": programme,
        "sex": "female",
        "year_of_birth": "1980",
        "genetic_ancestry": "EUR",
        "recruiting_centre": "Oxford GMC",
        "consent_status": "consenting",
        "consent_month": "2017-04",
        "vital_status": vital,
        "death_month": death,
        "family_id": family,
        "relationship_to_proband": relationship,
        "affection_status": "affected",
        **kw,
    }
    return "\t".join(values[c] for c in fmt.TABLES[fmt.PARTICIPANTS].columns)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / fmt.RELEASE_JSON).write_text(
        json.dumps({"name": "t", "date": "2025-01-01", "genome_build": "GRCh38", "format_version": 1})
    )
    (tmp_path / fmt.PARTICIPANTS).write_text(f"{HEADER}\n{_person('P1')}\n{_person('P2', programme='cancer')}\n")
    (tmp_path / fmt.PHENOTYPES).write_text("participant_id\thpo_id\tobserved\nP1\tHP:0001250\tyes\n")
    (tmp_path / fmt.DISEASES).write_text("participant_id\tdisease_group\tdisease_subgroup\tspecific_disease\n")
    (tmp_path / fmt.TUMOURS).write_text(
        "participant_id\ttumour_sample_id\tdisease_type\tstage\tsample_type\tdiagnosis_month\n"
        "P2\tP2-T1\tBREAST\tII\tprimary\t2017-01\n"
    )
    (tmp_path / fmt.GENES).write_text("symbol\tchrom\tstart\tend\tstrand\nTP53\tchr17\t7668402\t7687550\t-\n")
    return tmp_path


def _problems(folder, **kwargs):
    return [str(p) for p in fmt.read_bundle(folder, check_vcfs=False, **kwargs).problems]


def test_well_formed_tables_have_no_problems(folder):
    assert _problems(folder, known_hpo={"HP:0001250"}) == []


def test_wrong_number_of_cells_names_the_line(folder):
    with (folder / fmt.PARTICIPANTS).open("a") as handle:
        handle.write("P3\trare_disease\n")
    assert _problems(folder) == ["participants.tsv:4: has 2 cells; the header has 13"]


def test_duplicate_participant_and_inconsistent_rows_are_each_reported(folder):
    (folder / fmt.PARTICIPANTS).write_text(
        f"{HEADER}\n{_person('P1', death='2020-01')}\n{_person('P1')}\n{_person('P2', programme='cancer')}\n"
        f"{_person('P4', relationship='mother')}\n"
    )
    problems = _problems(folder)
    assert "participants.tsv:2 [death_month]: a death month is given for a participant recorded as alive" in problems
    assert "participants.tsv:3 [participant_id]: participant P1 appears more than once" in problems
    assert "participants.tsv:5 [family_id]: a relative of a proband needs a family id" in problems


def test_tumour_of_a_rare_disease_participant_is_refused(folder):
    with (folder / fmt.TUMOURS).open("a") as handle:
        handle.write("P1\tP1-T1\tLUNG\t\tprimary\t2018-02\n")
    assert "tumours.tsv:3 [participant_id]: participant P1 is not in the cancer programme" in _problems(folder)


def test_bad_month_and_bad_stage_are_explained(folder):
    with (folder / fmt.TUMOURS).open("a") as handle:
        handle.write("P2\tP2-T2\tBREAST\tV\tprimary\t2018-13\n")
    problems = _problems(folder)
    assert any(p.startswith("tumours.tsv:3 [stage]: 'V' is not one of I, II, III, IV, (empty)") for p in problems)


def test_release_json_with_an_unsupported_version_is_refused(folder):
    (folder / fmt.RELEASE_JSON).write_text(
        json.dumps({"name": "t", "date": "2025-02-30", "genome_build": "GRCh37", "format_version": 2})
    )
    problems = _problems(folder)
    assert "release.json [date]: '2025-02-30' is not a date written YYYY-MM-DD" in problems
    assert "release.json [genome_build]: genome build 'GRCh37' is not supported (only GRCh38)" in problems
    assert "release.json [format_version]: format version 2 is not supported (this portal reads 1)" in problems


def test_text_that_is_not_utf8_is_refused(folder):
    (folder / fmt.DISEASES).write_bytes(
        b"participant_id\tdisease_group\tdisease_subgroup\tspecific_disease\n\xff\xfe\n"
    )
    assert any(p.startswith("diseases.tsv: is not UTF-8 text") for p in _problems(folder))


def test_gene_end_before_start_is_refused(folder):
    (folder / fmt.GENES).write_text("symbol\tchrom\tstart\tend\tstrand\nTP53\tchr17\t200\t100\t-\n")
    assert "genes.tsv:2 [end]: end is before start" in _problems(folder)


def test_withdrawn_participants_rows_are_checked_then_left_out_and_counted(folder):
    (folder / fmt.PARTICIPANTS).write_text(
        f"{HEADER}\n{_person('P1')}\n{_person('P2', programme='cancer', consent_status='withdrawn')}\n"
        f"{_person('P3', consent_status='withdrawn')}\n"
    )
    with (folder / fmt.PHENOTYPES).open("a") as handle:
        handle.write("P3\tHP:0001250\tyes\nP3\tHP:0001263\tno\n")
    with (folder / fmt.DISEASES).open("a") as handle:
        handle.write("P3\tNeurology\tEpilepsy\tGenetic epilepsy syndromes\n")
    (folder / fmt.SOMATIC_DIR).mkdir()
    (folder / fmt.somatic_vcf("P2-T1")).write_bytes(b"their somatic calls")

    bundle = fmt.read_bundle(folder, check_vcfs=False, known_hpo={"HP:0001250", "HP:0001263"})
    assert bundle.problems == []
    assert {name: [r["participant_id"] for r in bundle.rows[name]] for name in fmt.CLINICAL_TABLES} == {
        fmt.PHENOTYPES: ["P1"],
        fmt.DISEASES: [],
        fmt.TUMOURS: [],
    }
    assert bundle.left_out == {fmt.PHENOTYPES: 2, fmt.DISEASES: 1, fmt.TUMOURS: 1, fmt.SOMATIC_DIR: 1}
    assert fmt.left_out_lines(bundle.left_out) == [
        "phenotypes.tsv: 2 rows of withdrawn participants left out",
        "diseases.tsv: 1 row of withdrawn participants left out",
        "tumours.tsv: 1 row of withdrawn participants left out",
        "somatic/: 1 file of withdrawn participants left out",
    ]


def test_a_withdrawn_participants_rows_must_still_be_well_formed(folder):
    (folder / fmt.PARTICIPANTS).write_text(f"{HEADER}\n{_person('P1', consent_status='withdrawn')}\n")
    with (folder / fmt.PHENOTYPES).open("a") as handle:
        handle.write("P1\tHP:12\tyes\n")
    assert "phenotypes.tsv:3 [hpo_id]: 'HP:12' is not an HPO id (HP: and seven digits)" in _problems(folder)


def test_only_kept_tumours_somatic_files_are_copied(folder, tmp_path_factory):
    (folder / fmt.PARTICIPANTS).write_text(
        f"{HEADER}\n{_person('P2', programme='cancer')}\n"
        f"{_person('P3', programme='cancer', consent_status='withdrawn')}\n"
    )
    with (folder / fmt.TUMOURS).open("a") as handle:
        handle.write("P3\tP3-T1\tLUNG\t\tprimary\t2018-02\n")
    (folder / fmt.SOMATIC_DIR).mkdir()
    for name in ("P2-T1", "P3-T1"):
        (folder / fmt.somatic_vcf(name)).write_bytes(name.encode())
        (folder / (fmt.somatic_vcf(name) + ".tbi")).write_bytes(b"index")
    (folder / fmt.SOMATIC_DIR / "notes.txt").write_text("not a tumour's file")
    target = tmp_path_factory.mktemp("release")

    bundle = fmt.read_bundle(folder, copy_somatic_to=target)

    assert sorted(p.name for p in (target / fmt.SOMATIC_DIR).iterdir()) == ["P2-T1.vcf.gz", "P2-T1.vcf.gz.tbi"]
    assert (target / fmt.somatic_vcf("P2-T1")).read_bytes() == b"P2-T1"
    # the copy was checked, and its problems name the bundle's file
    assert {p.file for p in bundle.problems if p.code == "not_bgzipped"} == {fmt.somatic_vcf("P2-T1")}
