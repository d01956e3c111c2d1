"""The VCF validator reports each kind of bad input with its file and line."""

from __future__ import annotations

import gzip
import os
import shutil

import pytest
from pysam.libcbgzf import BGZFile

from genomics.validate import BGZF_EOF, validate_germline_vcf, validate_somatic_vcf
from genomics.vcf import tabix_index


@pytest.fixture(scope="module")
def lines(cohort_vcf):
    with gzip.open(cohort_vcf, "rt") as fh:
        return fh.read().splitlines()


@pytest.fixture(scope="module")
def header_end(lines):
    """0-based index of the #CHROM line; data line k (0-based) is file line header_end + 2 + k."""
    return next(i for i, line in enumerate(lines) if line.startswith("#CHROM"))


@pytest.fixture(scope="module")
def samples(lines, header_end):
    return lines[header_end].split("\t")[9:]


def _write(path, lines, *, index=True):
    with BGZFile(str(path), "wb") as fh:
        fh.write(("\n".join(lines) + "\n").encode())
    if index:
        tabix_index(path)
    return path


def _codes(problems):
    return sorted({p.code for p in problems})


def test_the_fixture_vcf_has_no_problems(cohort_vcf, samples):
    assert validate_germline_vcf(cohort_vcf, samples) == []


def test_a_missing_file_is_reported(tmp_path, samples):
    (problem,) = validate_germline_vcf(tmp_path / "absent.vcf.gz", samples)
    assert problem.code == "missing_file"


def test_missing_index_is_reported(tmp_path, cohort_vcf, samples):
    path = tmp_path / "x.vcf.gz"
    shutil.copy(cohort_vcf, path)

    (problem,) = validate_germline_vcf(path, samples)

    assert (problem.code, problem.line, problem.field) == ("missing_index", None, "index")
    assert "tabix" in problem.message


def test_index_older_than_the_vcf_is_reported(tmp_path, cohort_vcf, samples):
    path = tmp_path / "x.vcf.gz"
    shutil.copy(cohort_vcf, path)
    shutil.copy(f"{cohort_vcf}.tbi", f"{path}.tbi")
    os.utime(f"{path}.tbi", (1_000_000, 1_000_000))

    assert _codes(validate_germline_vcf(path, samples)) == ["stale_index"]


def test_index_of_another_version_of_the_file_is_reported(tmp_path, cohort_vcf, lines, header_end, samples):
    path = _write(tmp_path / "x.vcf.gz", lines[: header_end + 1] + lines[header_end + 101 :], index=False)
    shutil.copy(f"{cohort_vcf}.tbi", f"{path}.tbi")

    problems = validate_germline_vcf(path, samples)

    assert "inconsistent_index" in _codes(problems)
    assert all(p.field == "index" for p in problems if p.code == "inconsistent_index")


def test_truncated_file_is_reported_with_the_first_unreadable_line(tmp_path, cohort_vcf, samples, lines):
    data = cohort_vcf.read_bytes()
    path = tmp_path / "x.vcf.gz"
    path.write_bytes(data[: len(data) // 2])
    shutil.copy(f"{cohort_vcf}.tbi", f"{path}.tbi")

    problems = validate_germline_vcf(path, samples)

    assert "truncated" in _codes(problems)
    (broken,) = [p for p in problems if p.code == "corrupt_compression"]
    assert 100 < broken.line < len(lines)


def test_missing_end_of_file_block_alone_is_reported(tmp_path, cohort_vcf, samples):
    path = tmp_path / "x.vcf.gz"
    path.write_bytes(cohort_vcf.read_bytes()[: -len(BGZF_EOF)])
    shutil.copy(f"{cohort_vcf}.tbi", f"{path}.tbi")
    os.utime(path, (1_000_000, 1_000_000))

    problems = validate_germline_vcf(path, samples)

    assert _codes(problems) == ["truncated"]
    assert problems[0].line is None


def test_corrupt_block_is_reported_at_its_first_line_without_garbage_lines(tmp_path, cohort_vcf, samples, lines):
    data = bytearray(cohort_vcf.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = b"\x00" * 64
    path = tmp_path / "x.vcf.gz"
    path.write_bytes(bytes(data))
    shutil.copy(f"{cohort_vcf}.tbi", f"{path}.tbi")
    os.utime(path, (1_000_000, 1_000_000))

    problems = validate_germline_vcf(path, samples)

    assert _codes(problems) == ["corrupt_compression"]
    assert 100 < problems[0].line < len(lines)


@pytest.mark.parametrize("compress", ["gzip", "plain"])
def test_file_not_compressed_with_bgzip_is_reported(tmp_path, cohort_vcf, samples, compress):
    text = gzip.decompress(cohort_vcf.read_bytes())
    path = tmp_path / "x.vcf.gz"
    path.write_bytes(gzip.compress(text) if compress == "gzip" else text)

    assert "not_bgzipped" in _codes(validate_germline_vcf(path, samples))


def test_samples_outside_the_expected_set_and_missing_samples_are_reported(cohort_vcf, samples, header_end):
    expected = samples[2:] + ["P999998", "P999999"]

    problems = validate_germline_vcf(cohort_vcf, expected)

    unexpected = [p for p in problems if p.code == "unexpected_sample"]
    missing = [p for p in problems if p.code == "missing_sample"]
    assert [p.field for p in unexpected] == [f"sample column 10 ({samples[0]})", f"sample column 11 ({samples[1]})"]
    assert {p.line for p in unexpected + missing} == {header_end + 1}
    assert sorted(m.message for m in missing) == [
        "expected sample 'P999998' has no column",
        "expected sample 'P999999' has no column",
    ]


def test_every_record_problem_is_reported_with_its_line(tmp_path, lines, header_end, samples):
    bad = list(lines)
    first = header_end + 1  # 0-based index of the first record

    def edit(k, column, value):
        cols = bad[first + k].split("\t")
        cols[column] = value
        bad[first + k] = "\t".join(cols)

    edit(5, 4, bad[first + 5].split("\t")[4] + ",G")  # multi-allelic
    edit(9, 8, "AD:DP")  # no GT in FORMAT
    bad[first + 20], bad[first + 21] = bad[first + 21], bad[first + 20]  # unsorted positions
    bad[first + 30] = "\t".join(bad[first + 30].split("\t")[:-4])  # too few columns
    edit(40, 1, "12x")  # POS not an integer
    edit(50, 3, "QQ")  # REF not DNA
    path = _write(tmp_path / "bad.vcf.gz", bad, index=False)  # tabix refuses unsorted input

    problems = validate_germline_vcf(path, samples)
    found = {(p.code, p.line) for p in problems}

    line = header_end + 2  # 1-based line number of record 0
    assert ("multiallelic", line + 5) in found
    assert ("missing_gt", line + 9) in found
    assert ("unsorted", line + 21) in found
    assert ("malformed_line", line + 30) in found
    assert ("malformed_line", line + 40) in found
    assert ("malformed_line", line + 50) in found
    by_line = {p.line: p for p in problems if p.code in {"multiallelic", "missing_gt"}}
    assert by_line[line + 5].field == "ALT" and "bcftools norm" in by_line[line + 5].message
    assert str(by_line[line + 9]).startswith(f"{path}:{line + 9} [FORMAT]: ")


def test_records_of_a_contig_split_in_two_blocks_are_unsorted(tmp_path, lines, header_end, samples):
    records = lines[header_end + 1 :]
    chr1 = [r for r in records if r.startswith("chr1\t")]
    rest = [r for r in records if not r.startswith("chr1\t")]
    moved = chr1[:-1] + rest[:3] + chr1[-1:] + rest[3:]
    path = _write(tmp_path / "x.vcf.gz", lines[: header_end + 1] + moved, index=False)

    problems = [p for p in validate_germline_vcf(path, samples) if p.code == "unsorted"]

    # chr1 comes back after chr2, and then chr2 comes back after chr1.
    assert [p.line for p in problems] == [header_end + 2 + len(chr1) + 2, header_end + 2 + len(chr1) + 3]
    assert all("appear again" in p.message for p in problems)


def test_header_without_a_gt_definition_is_reported(tmp_path, lines, header_end, samples):
    edited = [line for line in lines if not line.startswith("##FORMAT=<ID=GT")]
    path = _write(tmp_path / "x.vcf.gz", edited)

    problems = validate_germline_vcf(path, samples)

    assert ("missing_gt", header_end) in {(p.code, p.line) for p in problems}


def test_problem_counts_can_be_capped_with_a_summary(tmp_path, lines, header_end, samples):
    records = lines[header_end + 1 :]
    path = _write(tmp_path / "x.vcf.gz", lines[: header_end + 1] + list(reversed(records[:200])), index=False)

    problems = validate_germline_vcf(path, samples, max_per_code=5)

    unsorted = [p for p in problems if p.code == "unsorted"]
    assert len(unsorted) == 6
    assert unsorted[-1].line is None and "further problems" in unsorted[-1].message


def test_somatic_fixture_is_valid(fixtures_dir):
    assert validate_somatic_vcf(fixtures_dir / "somatic.vcf.gz") == []


def test_somatic_vcf_with_wrong_samples_and_no_ad_is_reported(tmp_path, fixtures_dir):
    with gzip.open(fixtures_dir / "somatic.vcf.gz", "rt") as fh:
        text = fh.read().splitlines()
    edited = []
    for line in text:
        if line.startswith("#CHROM"):
            line = line.replace("\tTUMOR", "\tTUMOUR")
        elif not line.startswith("#"):
            cols = line.split("\t")
            cols[8] = "GT:DP"
            cols[9] = ":".join(cols[9].split(":")[::2])
            cols[10] = ":".join(cols[10].split(":")[::2])
            line = "\t".join(cols)
        edited.append(line)
    path = _write(tmp_path / "T.vcf.gz", edited)

    codes = _codes(validate_somatic_vcf(path))

    assert {"unexpected_sample", "missing_sample", "sample_order", "missing_format_field"} <= set(codes)


def test_every_bad_call_is_reported_with_its_line_sample_and_field(tmp_path, lines, header_end, samples):
    bad = list(lines)
    first = header_end + 1

    def call(k, s, value):
        cols = bad[first + k].split("\t")
        cols[9 + s] = value
        bad[first + k] = "\t".join(cols)

    call(3, 0, "0/2:10,2:12:30")  # allele index 2 in a biallelic record
    call(7, 4, "0/1:10,x:12:30")  # AD not an integer
    call(11, 2, "0/1/1:10,2:12:30")  # triploid
    call(12, 5, "0/1:10,2,4:16:30")  # three depths for two alleles
    path = _write(tmp_path / "calls.vcf.gz", bad)

    problems = validate_germline_vcf(path, samples)

    line = header_end + 2
    by_line = {p.line: p for p in problems}
    assert set(by_line) == {line + 3, line + 7, line + 11, line + 12}
    calls = [(p.line, p.field, p.message) for p in problems if p.code == "malformed_call"]
    assert (line + 11, f"sample {samples[2]}", "ploidy above 2 is not supported in FORMAT/GT") in calls
    assert (line + 12, f"sample {samples[5]}", "more than two values (REF and ALT depths) in FORMAT/AD") in calls
    assert len(calls) >= 3  # htslib names at most the first line it cannot parse


def test_columns_of_allowed_samples_are_accepted_and_others_are_still_unexpected(cohort_vcf, samples):
    expected, allowed = samples[2:], samples[:1]  # a withdrawn participant's column stays in a joint-called VCF

    problems = validate_germline_vcf(cohort_vcf, expected, allowed_samples=allowed)

    assert [(p.code, p.field) for p in problems] == [("unexpected_sample", f"sample column 11 ({samples[1]})")]


def test_the_checking_pass_writes_the_store_when_the_file_is_valid(tmp_path, cohort_vcf, samples):
    from genomics.store import GenotypeStore

    assert validate_germline_vcf(cohort_vcf, samples, store=tmp_path / "store") == []

    store = GenotypeStore(tmp_path / "store")
    assert store.sample_ids == samples
    assert (tmp_path / "store" / "packed" / "genotypes.bed").exists()


def test_the_checking_pass_leaves_no_store_behind_when_it_finds_a_problem(tmp_path, lines, header_end, samples):
    bad = list(lines)
    cols = bad[header_end + 1 + 1500].split("\t")
    cols[9] = "0/7:1,1:2:3"
    bad[header_end + 1 + 1500] = "\t".join(cols)
    path = _write(tmp_path / "late.vcf.gz", bad)

    problems = validate_germline_vcf(path, samples, store=tmp_path / "store")

    assert [(p.code, p.line, p.field) for p in problems] == [
        ("malformed_call", header_end + 1502, f"sample {samples[0]}")
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["late.vcf.gz", "late.vcf.gz.tbi"]


def test_an_index_problem_found_after_the_pass_removes_the_store_it_wrote(tmp_path, cohort_vcf, samples):
    path = tmp_path / "x.vcf.gz"
    shutil.copy(cohort_vcf, path)
    shutil.copy(f"{cohort_vcf}.tbi", f"{path}.tbi")
    os.utime(f"{path}.tbi", (1_000_000, 1_000_000))

    assert _codes(validate_germline_vcf(path, samples, store=tmp_path / "store")) == ["stale_index"]
    assert not (tmp_path / "store").exists()


def test_a_somatic_record_htslib_cannot_parse_is_reported_at_its_line(tmp_path, fixtures_dir):
    with gzip.open(fixtures_dir / "somatic.vcf.gz", "rt") as fh:
        text = fh.read().splitlines()
    first = next(i for i, line in enumerate(text) if not line.startswith("#"))
    cols = text[first + 2].split("\t")
    cols[10] = "0/1:abc,3:7"  # TUMOR's AD is not an integer
    text[first + 2] = "\t".join(cols)
    path = _write(tmp_path / "T.vcf.gz", text)

    problems = validate_somatic_vcf(path)

    assert [(p.code, p.line) for p in problems] == [("unparseable_record", first + 3)]


def test_a_somatic_vcf_checked_through_a_copy_is_copied_byte_for_byte_with_its_times(tmp_path, fixtures_dir):
    source = tmp_path / "bundle" / "T.vcf.gz"
    source.parent.mkdir()
    shutil.copy(fixtures_dir / "somatic.vcf.gz", source)
    shutil.copy(fixtures_dir / "somatic.vcf.gz.tbi", f"{source}.tbi")
    os.utime(source, (2_000_000, 2_000_000))
    os.utime(f"{source}.tbi", (3_000_000, 3_000_000))
    copy = tmp_path / "release" / "T.vcf.gz"
    copy.parent.mkdir()

    assert validate_somatic_vcf(source, copy_to=copy) == []

    for name in ("T.vcf.gz", "T.vcf.gz.tbi"):
        assert (copy.parent / name).read_bytes() == (source.parent / name).read_bytes()
        assert (copy.parent / name).stat().st_mtime == (source.parent / name).stat().st_mtime


def test_a_somatic_copy_finds_what_a_check_in_place_finds_and_names_the_source(tmp_path, fixtures_dir):
    with gzip.open(fixtures_dir / "somatic.vcf.gz", "rt") as fh:
        text = fh.read().splitlines()
    first = next(i for i, line in enumerate(text) if not line.startswith("#"))
    cols = text[first + 2].split("\t")
    cols[10] = "0/1:abc,3:7"  # htslib cannot parse it
    text[first + 2] = "\t".join(cols)
    source = _write(tmp_path / "T.vcf.gz", text)
    os.utime(f"{source}.tbi", (1_000_000, 1_000_000))  # and the index is older than the file
    (tmp_path / "release").mkdir()

    in_place = validate_somatic_vcf(source)
    through_copy = validate_somatic_vcf(source, copy_to=tmp_path / "release" / "T.vcf.gz")

    assert sorted((p.code, p.line) for p in through_copy) == [("stale_index", None), ("unparseable_record", first + 3)]
    assert through_copy == in_place
    assert {p.file for p in through_copy} == {str(source)}
