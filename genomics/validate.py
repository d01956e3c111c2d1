"""Validation of a release's germline and somatic VCFs.

Every problem found is reported as a :class:`Problem` with the file, the
1-based line number (``None`` for whole-file problems such as a missing index),
the column or field concerned and a message a data manager can act on. The
checks never stop at the first problem, except that nothing past a corrupt or
truncated compressed block can be read.

A germline VCF is read and inflated once: after a look at the BGZF container
(magic bytes, end-of-file block), the genotype store converter's own pass
(``genomics.vcfzarr.convert`` with :class:`~genomics.vcfzarr.Checks`) checks
the header, the samples, every record's fixed columns (a release's rules:
DNA alleles, declared contigs and FORMAT keys, sort order) and every call it
parses, and, given a store directory, writes the genotype store in the same
pass when nothing is wrong (docs/adr/0012). A somatic VCF (two samples, small)
gets a line scan of the decompressed text and a parse of every record with
htslib (through ``cyvcf2``, whose files open at a third of ``pysam``'s
cost; its errors are mapped back to line numbers by counting records). The tabix index is then checked for presence,
age and agreement with the records. Given a place to copy it to, a somatic
VCF and its index are copied there first and the copy is what is checked:
a release holds exactly the bytes that were checked.
"""

from __future__ import annotations

import os
import re
import shutil
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cyvcf2
import pysam

from genomics.store import import_vcf
from genomics.vcfzarr import DEFAULT_THREADS, Checks, ConversionResult, convert, iter_gzip_text

# The 28-byte empty block that ends every complete BGZF file (SAM/BAM spec 4.1.2).
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_BGZF_MAGIC = bytes.fromhex("1f8b0804")
_FIXED_COLUMNS = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
_ALLELE = re.compile(rb"^[ACGTNacgtn]+$")
_SYMBOLIC = re.compile(rb"^(<[^<>]+>|\*)$")
_HEADER_ID = re.compile(rb"^##(INFO|FORMAT|contig)=<ID=([^,>]+)")


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in one file: where it is and what is wrong."""

    file: str
    line: int | None
    field: str | None
    code: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = f" [{self.field}]" if self.field else ""
        return f"{where}{what}: {self.message}"


class _Report:
    def __init__(self, path: Path, max_per_code: int | None):
        self.path = str(path)
        self.problems: list[Problem] = []
        self.lines: set[int] = set()  # lines with a problem, listed or not
        self._counts: dict[str, int] = {}
        self._max = max_per_code

    def add(self, code: str, message: str, *, line: int | None = None, field: str | None = None) -> None:
        if line is not None:
            self.lines.add(line)
        n = self._counts.get(code, 0) + 1
        self._counts[code] = n
        if self._max is None or n <= self._max:
            self.problems.append(Problem(self.path, line, field, code, message))

    def finish(self) -> list[Problem]:
        if self._max is not None:
            for code, n in self._counts.items():
                if n > self._max:
                    self.problems.append(
                        Problem(
                            self.path, None, None, code, f"{n - self._max} further problems of kind {code!r} not listed"
                        )
                    )
        return self.problems


@dataclass(slots=True)
class _ScanResult:
    header_lines: int = 0
    samples: list[str] | None = None
    records: int = 0
    readable: bool = True
    # contig -> (first pos, first line, last pos, last line)
    contig_spans: dict[str, list[int]] | None = None
    bad_lines: set[int] | None = None


def validate_germline_vcf(
    path: str | Path,
    expected_samples: Iterable[str],
    *,
    allowed_samples: Iterable[str] = (),
    required_format: Sequence[str] = ("GT",),
    max_per_code: int | None = None,
    store: str | Path | None = None,
    workers: int = DEFAULT_THREADS,
) -> list[Problem]:
    """Check a release's multi-sample germline VCF; return every problem found.

    ``expected_samples`` must each have a column; ``allowed_samples`` may
    have one too (withdrawn participants: a joint-called VCF keeps their
    columns); any other column is a problem.

    One pass over the file: with ``store``, the same pass writes the genotype
    store there (``genomics.store.import_vcf``, ``workers`` threads) and it
    is kept only when no problem is found; otherwise nothing is left there.
    """
    path = Path(path)
    report = _Report(path, max_per_code)
    if not path.exists():
        report.add("missing_file", "file does not exist")
        return report.finish()
    container = _check_container(path, report)
    if container == "unreadable":
        return report.finish()
    checks = Checks(
        samples=tuple(expected_samples), allowed=frozenset(allowed_samples), required_format=tuple(required_format)
    )
    if container == "bgzf" and store is not None:
        summary = import_vcf(path, store, workers=workers, checks=checks)
        assert summary.conversion is not None
        result = summary.conversion
    else:
        result = convert(
            path, None, threads=workers, checks=checks, text=iter_gzip_text if container == "gzip" else None
        )
    _add_pass_problems(path, result, report)
    if container == "bgzf":
        _check_index(path, _ScanResult(readable=result.readable, contig_spans=result.contig_spans), report)
    problems = report.finish()
    if problems and store is not None:
        shutil.rmtree(store, ignore_errors=True)  # the index's problems are found after the pass
    return problems


def _add_pass_problems(path: Path, result: ConversionResult, report: _Report) -> None:
    prefix = f"{path}: "
    for problem in sorted(result.problems, key=lambda p: p.line or 0):
        detail = problem.detail.removeprefix(prefix)
        if problem.code == "corrupt_compression":
            after = (problem.line or 1) - 1
            message = f"data after line {after} cannot be decompressed ({detail}); the file is truncated or corrupt"
            report.add("corrupt_compression", message, line=problem.line)
        elif problem.code == "index_count":
            message = f"the index belongs to another version of the file: {detail}"
            report.add("inconsistent_index", message, field="index")
        else:
            report.add(problem.code or "malformed_line", detail, line=problem.line, field=problem.column)


def validate_somatic_vcf(
    path: str | Path,
    *,
    expected_samples: Sequence[str] = ("NORMAL", "TUMOR"),
    required_format: Sequence[str] = ("GT", "AD", "DP"),
    max_per_code: int | None = None,
    copy_to: str | Path | None = None,
) -> list[Problem]:
    """Check a tumour/normal somatic VCF (samples NORMAL and TUMOR, GT:AD:DP).

    ``copy_to``: copy the file there (and its index beside it, under the
    same suffix), keeping their modification times, and check the copy;
    problems still name ``path``, the file a data manager can fix.
    """
    return _validate(
        Path(path),
        list(expected_samples),
        tuple(required_format),
        max_per_code,
        exact_samples=True,
        copy_to=None if copy_to is None else Path(copy_to),
    )


def _validate(
    path: Path,
    expected: list[str],
    required_format: tuple[str, ...],
    max_per_code: int | None,
    *,
    exact_samples: bool,
    copy_to: Path | None = None,
) -> list[Problem]:
    report = _Report(path, max_per_code)
    if not path.exists():
        report.add("missing_file", "file does not exist")
        return report.finish()
    copy_index = None
    if copy_to is not None:
        _copy_keeping_mtime(path, copy_to)
        if (index := _index_path(path)) is not None:  # copied after the htslib parse, below
            copy_index = (index, copy_to.with_name(copy_to.name + index.name[len(path.name) :]))
        path = copy_to
    container = _check_container(path, report)
    scan = (
        None
        if container == "unreadable"
        else _scan_text(path, expected, required_format, report, exact_samples=exact_samples)
    )
    # htslib needs BGZF; for plain gzip the line scan is all that can be done. A copy's index is not beside
    # it yet: htslib's header read loads an index it finds (to add contigs the header lacks; the scan
    # reports those), most of the cost of opening a small file.
    if container == "bgzf" and scan is not None and scan.readable and scan.samples is not None:
        _parse_with_htslib(path, scan, report)
    if copy_index is not None:
        _copy_keeping_mtime(*copy_index)
    if container == "bgzf" and scan is not None:
        _check_index(path, scan, report)
    return report.finish()


def _copy_keeping_mtime(source: Path, target: Path) -> None:
    """Copy ``source``'s bytes to ``target`` and give it ``source``'s times (an index must not look
    older than its VCF because it was copied first). A read and a write: for the small files this is
    for, shutil's copy (sendfile and every piece of metadata) takes several times longer."""
    stat = source.stat()
    target.write_bytes(source.read_bytes())
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _check_container(path: Path, report: _Report) -> str:
    """BGZF magic and end-of-file block: ``"bgzf"``, ``"gzip"`` or ``"unreadable"``."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(18)
        if size >= len(BGZF_EOF):
            fh.seek(size - len(BGZF_EOF))
            tail = fh.read(len(BGZF_EOF))
        else:
            tail = b""
    if head[:2] != b"\x1f\x8b":
        report.add("not_bgzipped", "file is not gzip-compressed; compress it with 'bgzip' (not gzip)", line=None)
        return "unreadable"
    if head[:4] != _BGZF_MAGIC or head[12:14] != b"BC":
        report.add("not_bgzipped", "file is gzip but not BGZF; recompress it with 'bgzip' so it can be indexed")
        return "gzip"
    if tail != BGZF_EOF:
        report.add(
            "truncated",
            "the BGZF end-of-file block is missing: the file is truncated or was not closed properly",
        )
    return "bgzf"


def _scan_text(
    path: Path,
    expected: list[str],
    required_format: tuple[str, ...],
    report: _Report,
    *,
    exact_samples: bool,
) -> _ScanResult:
    res = _ScanResult(contig_spans={}, bad_lines=set())
    assert res.contig_spans is not None and res.bad_lines is not None
    header_ids: dict[bytes, set[bytes]] = {b"INFO": set(), b"FORMAT": set(), b"contig": set()}
    n_samples = 0
    seen_contigs: list[str] = []
    last_contig: str | None = None
    last_pos = 0
    lineno = 0
    format_checked: dict[bytes, bool] = {}
    try:
        for line in _iter_lines(path):
            lineno += 1
            line = line.rstrip(b"\r")
            if res.samples is None:
                if lineno == 1 and not line.startswith(b"##fileformat=VCF"):
                    report.add("malformed_header", "first line must be '##fileformat=VCFv4.x'", line=1)
                if line.startswith(b"##"):
                    m = _HEADER_ID.match(line)
                    if m:
                        header_ids[m.group(1)].add(m.group(2))
                    continue
                if line.startswith(b"#CHROM"):
                    res.header_lines = lineno
                    res.samples = _check_sample_line(line, lineno, expected, report, exact_samples)
                    n_samples = len(res.samples)
                    if b"GT" not in header_ids[b"FORMAT"]:
                        report.add("missing_gt", "header declares no FORMAT/GT field", line=lineno, field="FORMAT")
                    continue
                report.add("malformed_header", "header line before #CHROM does not start with '##'", line=lineno)
                res.bad_lines.add(lineno)
                continue

            res.records += 1
            cols = line.split(b"\t", 9)
            if len(cols) < 10 or cols[9].count(b"\t") + 1 != n_samples:
                found = len(cols) if len(cols) < 10 else 9 + cols[9].count(b"\t") + 1
                report.add(
                    "malformed_line",
                    f"expected {9 + n_samples} tab-separated columns, found {found}",
                    line=lineno,
                )
                res.bad_lines.add(lineno)
                if len(cols) < 9:
                    continue
            chrom = cols[0].decode(errors="replace")
            try:
                pos = int(cols[1])
                if pos < 1:
                    raise ValueError
            except ValueError:
                report.add(
                    "malformed_line",
                    f"POS {cols[1].decode(errors='replace')!r} is not a positive integer",
                    line=lineno,
                    field="POS",
                )
                res.bad_lines.add(lineno)
                continue
            if not _ALLELE.match(cols[3]):
                report.add(
                    "malformed_line",
                    f"REF {cols[3].decode(errors='replace')!r} is not a DNA sequence",
                    line=lineno,
                    field="REF",
                )
                res.bad_lines.add(lineno)
            alt = cols[4]
            if b"," in alt:
                report.add(
                    "multiallelic",
                    f"ALT {alt.decode(errors='replace')!r} has several alleles; split with 'bcftools norm -m-'",
                    line=lineno,
                    field="ALT",
                )
            elif alt == b".":
                report.add("malformed_line", "ALT is missing ('.')", line=lineno, field="ALT")
            elif not (_ALLELE.match(alt) or _SYMBOLIC.match(alt)):
                report.add(
                    "malformed_line",
                    f"ALT {alt.decode(errors='replace')!r} is not a DNA sequence",
                    line=lineno,
                    field="ALT",
                )
                res.bad_lines.add(lineno)
            fmt = cols[8]
            if fmt not in format_checked:
                keys = fmt.split(b":")
                format_checked[fmt] = True
                undeclared = [k for k in keys if k not in header_ids[b"FORMAT"]]
                if undeclared:
                    format_checked[fmt] = False
                    names = ", ".join(k.decode(errors="replace") for k in undeclared)
                    report.add(
                        "undeclared_field",
                        f"FORMAT field(s) {names} not declared in the header",
                        line=lineno,
                        field="FORMAT",
                    )
            if not fmt.startswith(b"GT:") and fmt != b"GT":
                report.add(
                    "missing_gt", "FORMAT does not start with GT (genotypes are required)", line=lineno, field="FORMAT"
                )
            missing_req = [f for f in required_format if f != "GT" and f.encode() not in fmt.split(b":")]
            if missing_req:
                report.add(
                    "missing_format_field",
                    f"FORMAT lacks required field(s) {', '.join(missing_req)}",
                    line=lineno,
                    field="FORMAT",
                )

            # Ordering: contigs in one block each, positions non-decreasing.
            if chrom != last_contig:
                if chrom in res.contig_spans:
                    report.add(
                        "unsorted",
                        f"records for {chrom} appear again after {last_contig}; sort with 'bcftools sort'",
                        line=lineno,
                        field="CHROM",
                    )
                else:
                    if header_ids[b"contig"] and chrom.encode() not in header_ids[b"contig"]:
                        report.add(
                            "undeclared_contig",
                            f"contig {chrom} has no ##contig header line",
                            line=lineno,
                            field="CHROM",
                        )
                    res.contig_spans[chrom] = [pos, lineno, pos, lineno]
                    seen_contigs.append(chrom)
                last_contig, last_pos = chrom, pos
            else:
                if pos < last_pos:
                    report.add(
                        "unsorted",
                        f"POS {pos} comes after {last_pos} on {chrom}; sort with 'bcftools sort'",
                        line=lineno,
                        field="POS",
                    )
                last_pos = pos
            span = res.contig_spans[chrom]
            if pos >= span[2]:
                span[2], span[3] = pos, lineno
    except _CompressionError as exc:
        res.readable = False
        report.add(
            "corrupt_compression",
            f"data after line {lineno} cannot be decompressed ({exc}); the file is truncated or corrupt",
            line=lineno + 1,
        )
    if res.samples is None and res.readable:
        report.add("malformed_header", "no '#CHROM' header line found", line=None)
    return res


class _CompressionError(Exception):
    pass


def _iter_lines(path: Path, read_size: int = 1 << 20) -> Iterator[bytes]:
    """Lines of a (multi-member) gzip file, released one whole member at a time.

    Each gzip member (a BGZF block) is inflated completely and its CRC checked
    by zlib before any of its lines are given out, so a corrupt block never
    yields garbage lines: the error is raised at the first line it holds.
    """
    carry = b""
    member: list[bytes] = []
    in_member = False
    d = zlib.decompressobj(31)
    with open(path, "rb") as fh:
        while data := fh.read(read_size):
            while data:
                in_member = True
                try:
                    member.append(d.decompress(data))
                except zlib.error as exc:
                    raise _CompressionError(str(exc)) from exc
                if not d.eof:
                    break
                data = d.unused_data
                block = carry + b"".join(member)
                member, in_member = [], False
                d = zlib.decompressobj(31)
                lines = block.split(b"\n")
                carry = lines.pop()
                yield from lines
    if in_member:
        raise _CompressionError("compressed data ends in the middle of a block")
    if carry:
        yield carry


def _check_sample_line(line: bytes, lineno: int, expected: list[str], report: _Report, exact: bool) -> list[str]:
    cols = line.decode(errors="replace").split("\t")
    fixed = tuple(cols[:8])
    if fixed != _FIXED_COLUMNS:
        report.add("malformed_header", f"#CHROM line columns are {fixed}, expected {_FIXED_COLUMNS}", line=lineno)
    if len(cols) < 10 or cols[8] != "FORMAT":
        report.add("missing_gt", "no FORMAT column or no sample columns: genotypes are required", line=lineno)
        return cols[9:]
    samples = cols[9:]
    seen: set[str] = set()
    expected_set = set(expected)
    for i, s in enumerate(samples):
        column = f"sample column {10 + i} ({s})"
        if s in seen:
            report.add("duplicate_sample", f"sample {s!r} appears more than once", line=lineno, field=column)
        seen.add(s)
        if s not in expected_set:
            report.add(
                "unexpected_sample",
                f"sample {s!r} is not an expected participant of this release",
                line=lineno,
                field=column,
            )
    for s in expected:
        if s not in seen:
            report.add("missing_sample", f"expected sample {s!r} has no column", line=lineno, field="#CHROM")
    if exact and samples != list(expected):
        report.add("sample_order", f"sample columns must be exactly {', '.join(expected)} in that order", line=lineno)
    return samples


def _parse_with_htslib(path: Path, scan: _ScanResult, report: _Report) -> None:
    """Parse every record with htslib; map its first error to a line number."""
    assert scan.bad_lines is not None
    # Through cyvcf2: the same htslib parse (vcf_parse) as pysam.VariantFile, at a third of
    # the cost of opening a file, which is most of the cost for a small somatic VCF.
    record_no = 0
    try:
        vcf = cyvcf2.VCF(str(path), lazy=True)
        try:
            for record_no, _rec in enumerate(vcf, start=1):  # noqa: B007
                pass
        finally:
            vcf.close()
    except Exception as exc:  # cyvcf2 raises a bare Exception for a record htslib cannot parse
        lineno = scan.header_lines + record_no + 1
        # A missing EOF block is reported by the container check already.
        eof_only = "EOF marker" in str(exc) or lineno > scan.header_lines + scan.records
        if lineno not in scan.bad_lines and not eof_only:
            report.add("unparseable_record", f"htslib cannot parse this record: {exc}", line=lineno)


def _index_path(path: Path) -> Path | None:
    for suffix in (".tbi", ".csi"):
        p = path.with_name(path.name + suffix)
        if p.exists():
            return p
    return None


def _check_index(path: Path, scan: _ScanResult, report: _Report) -> None:
    idx = _index_path(path)
    if idx is None:
        report.add(
            "missing_index", f"no tabix index: expected {path.name}.tbi (make it with 'tabix -p vcf')", field="index"
        )
        return
    if idx.stat().st_mtime < path.stat().st_mtime:
        report.add(
            "stale_index",
            f"{idx.name} is older than the VCF; rebuild it with 'tabix -f -p vcf'",
            field="index",
        )
    if not scan.readable or not scan.contig_spans:
        return
    previous = pysam.set_verbosity(0)
    try:
        with pysam.TabixFile(str(path), index=str(idx)) as tbx:
            indexed = set(tbx.contigs)
            in_file = set(scan.contig_spans)
            for c in sorted(in_file - indexed):
                report.add("inconsistent_index", f"contig {c} has records but is not in the index", field="index")
            for c in sorted(indexed - in_file):
                report.add("inconsistent_index", f"index lists contig {c} which has no records", field="index")
            for c in sorted(in_file & indexed):
                first, first_line, last, last_line = scan.contig_spans[c]
                for pos, line in ((first, first_line), (last, last_line)):
                    try:
                        hits = [r.split("\t", 2)[1] for r in tbx.fetch(c, pos - 1, pos)]
                    except (ValueError, OSError) as exc:
                        hits = []
                        report.add(
                            "inconsistent_index", f"index lookup of {c}:{pos} failed: {exc}", line=line, field="index"
                        )
                        continue
                    if str(pos) not in hits:
                        report.add(
                            "inconsistent_index",
                            f"index does not find the record at {c}:{pos}; it belongs to another version of the file",
                            line=line,
                            field="index",
                        )
    except (ValueError, OSError) as exc:
        report.add("inconsistent_index", f"index cannot be used with this file: {exc}", field="index")
    finally:
        pysam.set_verbosity(previous)
