"""Ingest: a generated bundle loads; every kind of bad input is refused with
its place named, leaving the database and DATA_ROOT exactly as they were."""

import csv
import gzip
import io
import os
from collections import Counter
from pathlib import Path

import pysam
import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditAction, AuditEvent
from genomics.store import GenotypeStore
from participants import bundle as fmt
from participants.models import DataRelease, Disease, Gene, Participant, Phenotype, Tumour, Withdrawal
from participants.services import ReleaseRefused, release_ingest
from participants.synthetic import generate_release

pytestmark = pytest.mark.django_db


def _tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _write_tsv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> None:
    columns = columns or list(rows[0])
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, delimiter="\t", lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _vcf_lines(path: Path) -> list[str]:
    with gzip.open(path, "rt") as handle:
        return handle.readlines()


def _write_vcf(path: Path, lines: list[str], *, index: bool = True) -> None:
    plain = path.with_suffix("")
    plain.write_text("".join(lines))
    os.remove(path)
    pysam.tabix_compress(str(plain), str(path), force=True)
    os.remove(plain)
    if index:
        pysam.tabix_index(str(path), preset="vcf", force=True, keep_original=True)


def test_generated_bundle_ingests_with_counts_matching_the_files(bundle, data_root):
    result = release_ingest(bundle_path=bundle, name="v1")
    release = result.release
    participants = _tsv(bundle / fmt.PARTICIPANTS)
    consenting = [r for r in participants if r["consent_status"] == "consenting"]
    kept = {r["participant_id"] for r in consenting}

    def rows(name):
        return [r for r in _tsv(bundle / name) if r["participant_id"] in kept]

    assert Participant.objects.filter(release=release).count() == len(participants)
    assert Phenotype.objects.filter(participant__release=release).count() == len(rows(fmt.PHENOTYPES))
    assert Disease.objects.filter(participant__release=release).count() == len(rows(fmt.DISEASES))
    assert Tumour.objects.filter(participant__release=release).count() == len(rows(fmt.TUMOURS))
    assert Gene.objects.filter(release=release).count() == len(_tsv(bundle / fmt.GENES))
    programmes = Counter(Participant.objects.filter(release=release).values_list("programme", flat=True))
    assert programmes == Counter(r["programme"] for r in participants)
    observed = Counter(Phenotype.objects.filter(participant__release=release).values_list("observed", flat=True))
    assert observed[True] == sum(r["observed"] == "yes" for r in rows(fmt.PHENOTYPES))

    # Each participant's sample index is their column in the germline VCF.
    header = next(line for line in _vcf_lines(bundle / fmt.GERMLINE) if line.startswith("#CHROM"))
    columns = header.rstrip("\n").split("\t")[9:]
    indexed = dict(Participant.objects.filter(release=release).values_list("participant_id", "sample_index"))
    assert {pid: idx for pid, idx in indexed.items() if idx is not None} == {pid: i for i, pid in enumerate(columns)}
    assert len(columns) == len(consenting)

    store = GenotypeStore(data_root / release.store_path)
    assert list(store.sample_ids) == columns
    assert (data_root / "releases" / "v1" / "somatic").is_dir()
    assert release.status == DataRelease.Status.CURRENT
    assert AuditEvent.objects.filter(action=AuditAction.RELEASE_INGESTED, target_id=str(release.pk)).exists()


def test_column_order_may_vary_and_extra_columns_are_ignored(bundle, data_root):
    rows = _tsv(bundle / fmt.PARTICIPANTS)
    for row in rows:
        row["notes_from_provider"] = "ignored"
    columns = list(reversed(list(rows[0])))
    _write_tsv(bundle / fmt.PARTICIPANTS, rows, columns)
    release = release_ingest(bundle_path=bundle, name="v1").release
    assert release.participants.count() == len(rows)


def _drop_column(bundle: Path, column: str) -> None:
    rows = _tsv(bundle / fmt.PARTICIPANTS)
    _write_tsv(bundle / fmt.PARTICIPANTS, rows, [c for c in rows[0] if c != column])


def _unknown_participant_in_phenotypes(bundle: Path) -> None:
    rows = _tsv(bundle / fmt.PHENOTYPES)
    rows[2]["participant_id"] = "NOBODY0001"
    _write_tsv(bundle / fmt.PHENOTYPES, rows)


def _malformed_hpo_id(bundle: Path) -> None:
    rows = _tsv(bundle / fmt.PHENOTYPES)
    rows[0]["hpo_id"] = "HP:12"
    _write_tsv(bundle / fmt.PHENOTYPES, rows)


def _unknown_hpo_term(bundle: Path) -> None:
    rows = _tsv(bundle / fmt.PHENOTYPES)
    rows[1]["hpo_id"] = "HP:9999999"
    _write_tsv(bundle / fmt.PHENOTYPES, rows)


def _bad_year(bundle: Path) -> None:
    rows = _tsv(bundle / fmt.PARTICIPANTS)
    rows[4]["year_of_birth"] = "19x0"
    _write_tsv(bundle / fmt.PARTICIPANTS, rows)


def _vcf_sample_not_in_participants(bundle: Path) -> None:
    rows = _tsv(bundle / fmt.PARTICIPANTS)
    referenced = {
        r["participant_id"] for name in (fmt.PHENOTYPES, fmt.DISEASES, fmt.TUMOURS) for r in _tsv(bundle / name)
    }
    victim = next(r for r in rows if r["participant_id"] not in referenced and r["consent_status"] == "consenting")
    _write_tsv(bundle / fmt.PARTICIPANTS, [r for r in rows if r is not victim])


def _multi_allelic_record(bundle: Path) -> None:
    lines = _vcf_lines(bundle / fmt.GERMLINE)
    first = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    fields = lines[first].split("\t")
    fields[4] = fields[4] + ",T" if fields[4] != "T" else "G,C"
    lines[first] = "\t".join(fields)
    _write_vcf(bundle / fmt.GERMLINE, lines)


def _truncated_vcf(bundle: Path) -> None:
    path = bundle / fmt.GERMLINE
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


def _unindexed_vcf(bundle: Path) -> None:
    os.remove(bundle / (fmt.GERMLINE + ".tbi"))


def _missing_somatic_vcf(bundle: Path) -> None:
    tumour = _tsv(bundle / fmt.TUMOURS)[0]["tumour_sample_id"]
    os.remove(bundle / fmt.SOMATIC_DIR / f"{tumour}.vcf.gz")


def _missing_file(bundle: Path) -> None:
    os.remove(bundle / fmt.DISEASES)


@pytest.mark.parametrize(
    ("damage", "expected_file", "expected_line", "expected_code", "expected_words"),
    [
        (lambda b: _drop_column(b, "sex"), "participants.tsv", 1, "missing_column", "required column sex"),
        (_unknown_participant_in_phenotypes, "phenotypes.tsv", 4, "unknown_participant", "NOBODY0001"),
        (_malformed_hpo_id, "phenotypes.tsv", 2, "invalid_value", "not an HPO id"),
        (_unknown_hpo_term, "phenotypes.tsv", 3, "unknown_hpo_term", "HP:9999999"),
        (_bad_year, "participants.tsv", 6, "invalid_value", "year of birth"),
        (_vcf_sample_not_in_participants, "germline.vcf.gz", None, None, "not"),
        (_multi_allelic_record, "germline.vcf.gz", 37, None, "several alleles"),
        (_truncated_vcf, "germline.vcf.gz", None, None, None),
        (_unindexed_vcf, "germline.vcf.gz", None, None, "index"),
        (_missing_somatic_vcf, "somatic/", None, "missing_file", "missing"),
        (_missing_file, "diseases.tsv", None, "missing_file", "missing"),
    ],
    ids=[
        "missing-column",
        "unknown-participant",
        "malformed-hpo",
        "unknown-hpo",
        "bad-year",
        "vcf-sample-unknown",
        "multi-allelic",
        "truncated-vcf",
        "unindexed-vcf",
        "missing-somatic",
        "missing-file",
    ],
)
def test_bad_input_is_refused_naming_the_place_and_changes_nothing(
    bundle, data_root, damage, expected_file, expected_line, expected_code, expected_words
):
    damage(bundle)
    before_rows = {m: m.objects.count() for m in (DataRelease, Participant, Phenotype, Disease, Tumour, Gene)}
    before_files = _snapshot(data_root)

    with pytest.raises(ReleaseRefused) as refused:
        release_ingest(bundle_path=bundle, name="v1")

    matching = [p for p in refused.value.problems if p.file.startswith(expected_file)]
    assert matching, [str(p) for p in refused.value.problems]
    problem = matching[0]
    if expected_line is not None:
        assert problem.line == expected_line, str(problem)
    if expected_code is not None:
        assert problem.code == expected_code, str(problem)
    if expected_words is not None:
        assert any(expected_words in str(p) for p in matching), [str(p) for p in matching]
    assert {m: m.objects.count() for m in before_rows} == before_rows
    assert _snapshot(data_root) == before_files
    assert AuditEvent.objects.filter(action=AuditAction.RELEASE_REJECTED, target_id="v1").exists()


def test_refused_release_leaves_the_current_release_untouched(generated_bundle, bundle, data_root):
    current = release_ingest(bundle_path=generated_bundle, name="v1").release
    before_files = _snapshot(data_root)
    before_rows = Participant.objects.count()
    _unknown_participant_in_phenotypes(bundle)
    with pytest.raises(ReleaseRefused):
        release_ingest(bundle_path=bundle, name="v2")
    current.refresh_from_db()
    assert current.status == DataRelease.Status.CURRENT
    assert Participant.objects.count() == before_rows
    assert _snapshot(data_root) == before_files


def test_every_problem_is_reported_not_just_the_first(bundle, data_root):
    _bad_year(bundle)
    _unknown_hpo_term(bundle)
    _unindexed_vcf(bundle)
    with pytest.raises(ReleaseRefused) as refused:
        release_ingest(bundle_path=bundle, name="v1")
    codes = {p.code for p in refused.value.problems}
    assert {"invalid_value", "unknown_hpo_term"} <= codes
    assert any(p.file == "germline.vcf.gz" for p in refused.value.problems)


def test_failure_while_loading_rolls_back_rows_and_files(bundle, data_root, monkeypatch):
    before_files = _snapshot(data_root)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    # The loader's last step, after every table's rows are written.
    monkeypatch.setattr("participants.loader.consenting_by", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        release_ingest(bundle_path=bundle, name="v1")
    assert not DataRelease.objects.exists() and not Participant.objects.exists()
    assert _snapshot(data_root) == before_files


def test_duplicate_release_name_is_refused(bundle, data_root):
    release_ingest(bundle_path=bundle, name="v1")
    with pytest.raises(ReleaseRefused, match="1 problem"):
        release_ingest(bundle_path=bundle, name="v1")


def test_newer_release_records_participants_withdrawn_since_the_last(bundle, data_root, tmp_path):
    first = release_ingest(bundle_path=bundle, name="v1").release
    rows = _tsv(bundle / fmt.PARTICIPANTS)
    tumour_owners = {r["participant_id"] for r in _tsv(bundle / fmt.TUMOURS)}
    leaver = next(r for r in rows if r["consent_status"] == "consenting" and r["participant_id"] not in tumour_owners)
    leaver["consent_status"] = "withdrawn"
    _write_tsv(bundle / fmt.PARTICIPANTS, rows)
    for name in (fmt.PHENOTYPES, fmt.DISEASES):
        kept = [r for r in _tsv(bundle / name) if r["participant_id"] != leaver["participant_id"]]
        _write_tsv(bundle / name, kept, list(_tsv(bundle / name)[0]))
    _remove_sample(bundle / fmt.GERMLINE, leaver["participant_id"])

    result = release_ingest(bundle_path=bundle, name="v2")
    assert result.withdrawn_since_previous == 1
    assert list(Withdrawal.objects.filter(release=result.release).values_list("participant_id", flat=True)) == [
        leaver["participant_id"]
    ]
    first.refresh_from_db()
    assert first.status == DataRelease.Status.SUPERSEDED
    assert result.release.previous == first
    # The earlier release keeps its own copy of the participant, as consenting.
    assert (
        Participant.objects.get(release=first, participant_id=leaver["participant_id"]).consent_status == "consenting"
    )


def _remove_sample(path: Path, sample: str) -> None:
    source = pysam.VariantFile(str(path))
    keep = [s for s in source.header.samples if s != sample]
    source.subset_samples(keep)
    out_path = path.with_name("subset.vcf.gz")
    with pysam.VariantFile(str(out_path), "wz", header=source.header) as out:
        for rec in source:
            out.write(rec)
    source.close()
    os.replace(out_path, path)
    pysam.tabix_index(str(path), preset="vcf", force=True, keep_original=True)


def test_a_generated_release_with_withdrawn_data_in_every_file_ingests_and_reports_what_was_left_out(
    tmp_path, data_root, administrator, client_for
):
    bundle = tmp_path / "withdrawn"
    generate_release(bundle, participants=160, variants=400, seed=3, withdrawn_fraction=0.08)
    people = _tsv(bundle / fmt.PARTICIPANTS)
    withdrawn = {r["participant_id"] for r in people if r["consent_status"] == "withdrawn"}
    theirs = {
        name: [r for r in _tsv(bundle / name) if r["participant_id"] in withdrawn] for name in fmt.CLINICAL_TABLES
    }
    assert all(theirs.values()), "the generator wrote withdrawn participants' rows in every clinical file"
    their_files = [fmt.somatic_vcf(t["tumour_sample_id"]) for t in theirs[fmt.TUMOURS]]
    assert all((bundle / f).exists() for f in their_files)

    out = io.StringIO()
    call_command("ingest_release", str(bundle), "--version", "v1", stdout=out)
    release = DataRelease.objects.get(name="v1")

    expected = {**{name: len(rows) for name, rows in theirs.items()}, fmt.SOMATIC_DIR: len(their_files)}
    assert release.counts["left_out"] == expected
    for line in fmt.left_out_lines(expected):
        assert line in out.getvalue()
    assert f"{fmt.TUMOURS}: {expected[fmt.TUMOURS]} row" in out.getvalue()
    assert f"{fmt.SOMATIC_DIR}/: {expected[fmt.SOMATIC_DIR]} file" in out.getvalue()
    # Nothing of theirs reached a participant-level table or the environment store.
    of_withdrawn = {"participant__participant_id__in": withdrawn, "participant__release": release}
    assert not Phenotype.objects.filter(**of_withdrawn).exists()
    assert not Disease.objects.filter(**of_withdrawn).exists()
    assert not Tumour.objects.filter(**of_withdrawn).exists()
    release_dir = data_root / "releases" / "v1"
    # the germline VCF holds their columns unmasked: the release keeps the store, not the VCF
    assert not (release_dir / fmt.GERMLINE).exists() and not (release_dir / f"{fmt.GERMLINE}.tbi").exists()
    for name in their_files:
        assert not (release_dir / name).exists() and not (release_dir / f"{name}.tbi").exists()
    for tumour in Tumour.objects.filter(participant__release=release):
        assert (release_dir / tumour.somatic_vcf).exists()
    assert {p.name for p in (release_dir / fmt.SOMATIC_DIR).iterdir() if p.suffix == ".gz"} == {
        Path(t.somatic_vcf).name for t in Tumour.objects.filter(participant__release=release)
    }
    # The audit trail records it, and the release's admin page says it.
    event = AuditEvent.objects.get(action=AuditAction.RELEASE_INGESTED, target_id=str(release.pk))
    assert event.details["counts"]["left_out"] == expected
    administrator.is_staff = administrator.is_superuser = True
    administrator.save()
    page = client_for(administrator).get(reverse("admin:participants_datarelease_change", args=[release.pk]))
    assert page.status_code == 200
    for line in fmt.left_out_lines(expected):
        assert line in page.content.decode()


def test_data_of_someone_not_in_participants_tsv_is_refused_even_beside_withdrawn_data(tmp_path, data_root):
    bundle = tmp_path / "withdrawn"
    generate_release(bundle, participants=60, variants=200, seed=3, withdrawn_fraction=0.1)
    rows = _tsv(bundle / fmt.DISEASES)
    rows.append({**rows[0], "participant_id": "NOBODY0002"})
    _write_tsv(bundle / fmt.DISEASES, rows)
    with pytest.raises(ReleaseRefused) as refused:
        release_ingest(bundle_path=bundle, name="v1")
    assert [(p.file, p.line, p.code) for p in refused.value.problems] == [
        (fmt.DISEASES, len(rows) + 1, "unknown_participant")
    ]
    assert not DataRelease.objects.exists()
