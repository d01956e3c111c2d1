"""Convert a bgzipped germline VCF to VCF Zarr in one pass.

The store keeps GT and, where the VCF has them, AD, DP and GQ (see
``docs/adr/0006-genotype-store-converter.md`` for why this module exists next
to bio2zarr). The output follows the VCF Zarr specification (version 0.5) and
bio2zarr's layout: the same array names, dimensions, chunking, compressors
(AD bit-shuffled, :data:`CALL_SHUFFLE`, in both engines) and missing/fill
sentinels, created through bio2zarr's own array helpers, and the region index
written by bio2zarr's indexer. Tests check the arrays equal bio2zarr's on the
same VCF.

How it runs, in one process:

- the calling thread reads the file, inflates its BGZF blocks (libdeflate,
  CRC-checked) and cuts the text into pieces of exactly one variant chunk;
- a pool of threads parses each piece (a numba kernel over the bytes, without
  the GIL), writes its Zarr chunks (Blosc releases the GIL too) and returns
  the chunk's fixed columns, allele counts and non-reference calls;
- the calling thread checks the sort order and hands the chunks to
  ``on_chunk`` in variant order (the store builds its variant table, carrier
  index and packed matrix from them).

With :class:`Checks` the same pass is a release's validation of its germline
VCF (``genomics.validate``, docs/adr/0012): it checks the header, the
samples and every record's fixed columns against a release's rules besides
what it parses, keeps going past each problem, lists them all and writes
nothing once it has found one. :func:`find_problems` runs the parser alone
over a whole file and lists every record a conversion would stop at.

Each chunk's hard calls are also packed in the PLINK 1 .bed encoding for the store's packed matrix
(:func:`genomics.kernels.chunk_summary`, which also counts alleles and lists the non-reference calls).

Memory is a few variant chunks: (threads + 1) pieces of text and one set of
chunk arrays per thread, each ``variants_chunk_size`` records times all
samples, whatever the number of variants.

Scope: biallelic records (the release bundle's rule; a multi-allelic record
is an error), diploid or haploid calls. INFO fields declared with Number 1, A
or 0 (flags) are kept; other INFO fields and FORMAT fields other than GT, AD,
DP and GQ are not stored (listed in :attr:`ConversionResult.skipped_fields`).
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import struct
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

import deflate
import numba
import numpy as np
import zarr
from bio2zarr import constants, zarr_utils
from bio2zarr.vcz import VcfZarrIndexer
from zarr.core.metadata.v2 import ArrayV2Metadata

from genomics.kernels import AlleleCounts, chunk_summary

T = TypeVar("T")

_BGZF_HEADER = struct.Struct("<4BI2BH")  # ID1 ID2 CM FLG MTIME XFL OS XLEN
_TRAILER = struct.Struct("<II")  # CRC32 ISIZE
_SUPPORTED_FORMAT = {"GT": 0, "AD": 1, "DP": 2, "GQ": 3}
_META = re.compile(r"^##([^=]+)=(.*)$")
_STRUCTURED = re.compile(r"^<(.*)>$")

FLOAT32_MISSING = constants.FLOAT32_MISSING
# FORMAT fields whose Blosc shuffle differs from bio2zarr's default (byte shuffle): AD's pairs of
# depths compress 2.3x faster bit-shuffled for 3% more bytes (docs/adr/0012); DP and GQ lose more than
# they gain that way.
CALL_SHUFFLE = {"AD": {"shuffle": 2}}
# Blosc's block size for every array. Left to Blosc (0), zstd level 1 gets 32 KiB blocks, and zstd
# pays its per-block set-up on each: on the 10,000-sample calls, 1 MiB blocks encode in half the
# time, decode 1.5-2.4x faster and come out a little smaller (docs/adr/0012). A buffer smaller than a
# block is one block; the size is in each chunk's header, so any Blosc reader reads it.
BLOSC_BLOCKSIZE = 1 << 20
# Parser threads when the caller does not say: one per core, at most 4.
DEFAULT_THREADS = max(1, min(4, os.cpu_count() or 1))


class VcfConversionError(ValueError):
    """The VCF cannot be converted: names the file, the line and what is wrong.

    ``line`` (1-based line of the file) and ``column`` (``"ALT"``,
    ``"S3 FORMAT/GT"``, ...) are set when the problem is in one record;
    ``detail`` is the message without the place.
    """

    def __init__(
        self, message: str, *, line: int | None = None, column: str | None = None, detail: str = "", code: str = ""
    ):
        super().__init__(message)
        self.line = line
        self.column = column
        self.detail = detail or message
        self.code = code


class CompressionError(VcfConversionError):
    """The compressed stream cannot be read from some point on (truncated or corrupt)."""


class _Widen(Exception):
    """A value does not fit the dtype chosen for a FORMAT field."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


# --------------------------------------------------------------------------
# BGZF reading


def iter_bgzf_blocks(path: Path, read_size: int = 8 << 20) -> Iterator[bytes]:
    """The inflated contents of each BGZF block of ``path``, in order, CRC-checked."""
    with open(path, "rb") as fh:
        buf = b""
        pos = 0
        offset = 0  # file offset of buf[0]
        while True:
            if len(buf) - pos < 18 + 65536:  # a whole block (at most 64 KiB) must be in buf
                parts = [buf[pos:]]
                have = len(parts[0])
                while have < 18 + 65536:
                    more = fh.read(max(read_size, 1 << 16))
                    if not more:
                        break
                    parts.append(more)
                    have += len(more)
                buf = b"".join(parts)
                offset += pos
                pos = 0
                if not buf:
                    return
            if buf[pos : pos + 2] != b"\x1f\x8b"[: len(buf) - pos]:
                raise CompressionError(f"{path}: byte {offset + pos} does not start a BGZF block (bgzip the file)")
            if len(buf) - pos < 18:
                raise CompressionError(f"{path}: truncated BGZF block at byte {offset + pos}")
            id1, id2, cm, flg, _mtime, _xfl, _os, xlen = _BGZF_HEADER.unpack_from(buf, pos)
            if id1 != 31 or id2 != 139 or cm != 8 or not flg & 4:
                raise CompressionError(f"{path}: byte {offset + pos} does not start a BGZF block (bgzip the file)")
            bsize = _bgzf_block_size(buf, pos + 12, xlen)
            if bsize is None:
                raise CompressionError(f"{path}: gzip member at byte {offset + pos} is not BGZF (bgzip the file)")
            end = pos + bsize + 1
            if end > len(buf):
                raise CompressionError(f"{path}: truncated BGZF block at byte {offset + pos}")
            crc, isize = _TRAILER.unpack_from(buf, end - 8)
            if isize:
                try:
                    data = deflate.deflate_decompress(buf[pos + 12 + xlen : end - 8], isize)
                except deflate.DeflateError as exc:
                    raise CompressionError(f"{path}: corrupt BGZF block at byte {offset + pos}: {exc}") from None
                if deflate.crc32(data) != crc:
                    raise CompressionError(f"{path}: CRC mismatch in BGZF block at byte {offset + pos}")
                yield data  # type: ignore[misc]  # a bytearray, read as bytes
            pos = end


def iter_gzip_text(path: Path, read_size: int = 8 << 20) -> Iterator[bytes]:
    """The inflated text of a gzip file that is not BGZF (any member sizes), for checking only."""
    d = zlib.decompressobj(31)
    started = False
    with open(path, "rb") as fh:
        while data := fh.read(read_size):
            while data:
                started = True
                try:
                    out = d.decompress(data)
                except zlib.error as exc:
                    raise CompressionError(f"{path}: corrupt gzip data: {exc}") from None
                if out:
                    yield out
                if not d.eof:
                    break
                data = d.unused_data
                d = zlib.decompressobj(31)
                started = bool(data)
    if started and not d.eof:
        raise CompressionError(f"{path}: compressed data ends in the middle of a block")


def _bgzf_block_size(buf: bytes, start: int, xlen: int) -> int | None:
    j, stop = start, start + xlen
    while j + 4 <= stop:
        si1, si2, slen = buf[j], buf[j + 1], buf[j + 2] | (buf[j + 3] << 8)
        if si1 == 66 and si2 == 67 and slen == 2:
            return buf[j + 4] | (buf[j + 5] << 8)
        j += 4 + slen
    return None


@dataclass(slots=True)
class _Piece:
    """``n_lines`` whole lines of text in ``buf[:size]``, the first being record number ``first_line`` (1-based)."""

    buf: np.ndarray
    size: int
    n_lines: int
    first_line: int


class _Pieces:
    """Cuts inflated text into pieces of ``n_lines`` lines, each copied into a buffer from a bounded pool.

    Buffers are reused (the pool holds ``n_buffers``; a buffer grows when a
    piece needs more room), so steady-state conversion allocates no large
    memory: fresh large allocations cost a page fault per 4 KiB. Taking a
    buffer blocks until a consumer releases one (:meth:`release`), which bounds
    memory.
    """

    def __init__(self, blocks: Iterator[bytes], n_lines: int, n_buffers: int, *, keep_going: bool = False):
        self.blocks = blocks
        self.n_lines = n_lines
        # keep_going: a compression error ends the pieces after the whole lines
        # before it, and is kept in ``error`` (``error_line``: the first record
        # not given out) instead of being raised.
        self.keep_going = keep_going
        self.error: CompressionError | None = None
        self.error_line = 0
        self.free: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
        for _ in range(n_buffers):
            self.free.put(np.empty(0, dtype=np.uint8))

    def release(self, buf: np.ndarray) -> None:
        self.free.put(buf)

    @staticmethod
    def _append(buf: np.ndarray, size: int, block: bytes, start: int, stop: int) -> np.ndarray:
        need = size + stop - start
        if need > len(buf):
            grown = np.empty(max(need, len(buf) * 3 // 2, 1 << 20), dtype=np.uint8)
            grown[:size] = buf[:size]
            buf = grown
        buf[size:need] = np.frombuffer(block, dtype=np.uint8, count=stop - start, offset=start)
        return buf

    def __iter__(self) -> Iterator[_Piece]:
        n_lines = self.n_lines
        buf, size, count, line = self.free.get(), 0, 0, 1
        blocks = iter(self.blocks)
        while True:
            try:
                block = next(blocks)
            except StopIteration:
                break
            except CompressionError as error:
                if not self.keep_going:
                    raise
                self.error = error
                if count:  # the whole lines read before the error
                    end = int(np.flatnonzero(buf[:size] == _NL)[-1]) + 1
                    yield _Piece(buf, end, count, line)
                else:
                    self.release(buf)
                self.error_line = line + count
                return
            c = block.count(b"\n")
            start = 0
            while c and count + c >= n_lines:
                cut = start
                for _ in range(n_lines - count):
                    cut = block.index(b"\n", cut) + 1
                buf = self._append(buf, size, block, start, cut)
                yield _Piece(buf, size + cut - start, n_lines, line)
                line += n_lines
                c -= n_lines - count
                start = cut
                buf, size, count = self.free.get(), 0, 0
            if start < len(block):
                buf = self._append(buf, size, block, start, len(block))
                size += len(block) - start
                count += c
        if size and bytes(buf[:size]).strip():
            if buf[size - 1] != _NL:
                buf = self._append(buf, size, b"\n", 0, 1)
                size += 1
                count += 1
            yield _Piece(buf, size, count, line)
        else:
            self.release(buf)


# --------------------------------------------------------------------------
# Header


@dataclass(slots=True)
class VcfHeader:
    samples: list[str]
    contigs: list[tuple[str, int | None]]
    filters: list[tuple[str, str]]
    info: dict[str, dict[str, str]]
    format: dict[str, dict[str, str]]
    meta: list[tuple[str, str]]
    n_lines: int


def _structured(value: str) -> dict[str, str]:
    m = _STRUCTURED.match(value)
    if not m:
        return {}
    out: dict[str, str] = {}
    for part in re.finditer(r'([A-Za-z_]+)=("(?:[^"\\]|\\.)*"|[^,]*)', m.group(1)):
        v = part.group(2)
        out[part.group(1)] = v[1:-1] if v.startswith('"') else v
    return out


def parse_header(path: Path, text: str, *, strict: bool = True) -> VcfHeader:
    """The header's declarations and samples; ``strict``: raise where the converter cannot go on."""
    lines = [line.rstrip("\r") for line in text.rstrip("\r\n").split("\n")]
    contigs: list[tuple[str, int | None]] = []
    filters: list[tuple[str, str]] = [("PASS", "All filters passed")]
    info: dict[str, dict[str, str]] = {}
    fmt: dict[str, dict[str, str]] = {}
    meta: list[tuple[str, str]] = []
    for line in lines[:-1]:
        m = _META.match(line)
        if not m:
            continue
        key, value = m.group(1), m.group(2)
        fields = _structured(value)
        if key == "contig" and "ID" in fields:
            length = fields.get("length")
            contigs.append((fields["ID"], int(length) if length and length.isdigit() else None))
        elif key == "FILTER" and "ID" in fields:
            if fields["ID"] == "PASS":
                filters[0] = ("PASS", fields.get("Description", ""))
            else:
                filters.append((fields["ID"], fields.get("Description", "")))
        elif key == "INFO" and "ID" in fields:
            info[fields["ID"]] = fields
        elif key == "FORMAT" and "ID" in fields:
            fmt[fields["ID"]] = fields
        else:
            meta.append((key, value))
    columns = lines[-1].split("\t")
    if strict:
        if not lines[-1].startswith("#CHROM") or len(columns) < 10 or columns[8] != "FORMAT":
            message = f"{path}: line {len(lines)}: expected the #CHROM header line with FORMAT and samples"
            raise VcfConversionError(message)
        if "GT" not in fmt:
            raise VcfConversionError(f"{path}: the header declares no FORMAT/GT")
    return VcfHeader(columns[9:], contigs, filters, info, fmt, meta, len(lines))


def _read_header(path: Path, blocks: Iterator[bytes], *, strict: bool = True) -> tuple[VcfHeader, str, bytes]:
    """The header, its text and the first bytes after it."""
    parts: list[bytes] = []
    for block in blocks:
        parts.append(block)
        joined = b"".join(parts)
        i = joined.find(b"\n#CHROM")
        if i >= 0:
            j = joined.find(b"\n", i + 1)
            if j >= 0:
                text = joined[: j + 1].decode("utf-8", "replace")
                return parse_header(path, text, strict=strict), text, joined[j + 1 :]
        parts = [joined]
    raise VcfConversionError(f"{path}: no #CHROM header line")


def read_header(path: str | Path) -> VcfHeader:
    """The parsed header of a bgzipped VCF (reads only the blocks that hold it)."""
    path = Path(path)
    return _read_header(path, iter_bgzf_blocks(path, read_size=1 << 20))[0]


# --------------------------------------------------------------------------
# Kernels

_TAB, _NL, _CR, _COLON, _COMMA, _DOT, _SLASH, _PIPE, _MINUS = 9, 10, 13, 58, 44, 46, 47, 124, 45

# Kernel status codes
_OK, _TOO_FEW, _TOO_MANY, _BAD_GT, _PLOIDY, _MULTI, _BAD_INT, _EXTRA, _OVERFLOW, _COLUMNS, _GT_FIRST, _AD_COUNT = range(
    12
)
_MESSAGES = {
    _TOO_FEW: "fewer sample columns than the header names",
    _TOO_MANY: "more sample columns than the header names",
    _BAD_GT: "cannot read the genotype",
    _PLOIDY: "ploidy above 2 is not supported",
    _MULTI: "allele index above 1 in a biallelic record",
    _BAD_INT: "cannot read an integer",
    _EXTRA: "more values than the FORMAT column declares",
    _OVERFLOW: "value too large",
    _COLUMNS: "fewer than 10 columns",
    _GT_FIRST: "GT must come first",
    _AD_COUNT: "more than two values (REF and ALT depths)",
}


@numba.njit(nogil=True, cache=True, inline="always")
def _read_int(buf, p):  # pragma: no cover - compiled
    """(value, next offset, ok); '.' is -1 (missing). Stops at the first byte that is not a digit."""
    if buf[p] == _DOT:
        return -1, p + 1, True
    neg = buf[p] == _MINUS
    if neg:
        p += 1
    v = 0
    q = p
    while 48 <= buf[p] <= 57:
        v = v * 10 + (buf[p] - 48)
        if v > 2_000_000_000:
            return 0, p, False
        p += 1
    if p == q:
        return 0, p, False
    return (-v if neg else v), p, True


@numba.njit(nogil=True, cache=True, inline="always")
def _read_count(buf, p, limit):  # pragma: no cover - compiled
    """(value, next offset) of a run of 1 to 9 digits no greater than ``limit``, or (-1, p) if there is none.

    Written for the compiler: one subtraction and one range test per byte (two comparisons of the byte,
    and the digit count tested inside the loop, made the call kernel 3x slower)."""
    v = 0
    q = p
    while True:
        d = int(buf[q]) - 48
        if d < 0 or d > 9:
            break
        v = v * 10 + d
        q += 1
    if q == p or q - p > 9 or v > limit:
        return -1, p
    return v, q


@numba.njit(nogil=True, cache=True)
def _parse_records(buf, n, n_samples, starts, tabs, gt, phased, ad, dp, gq, limit):  # pragma: no cover - compiled
    """Parse ``n`` newline-terminated records from ``buf`` in one pass.

    Fills ``starts[r]`` (offset of line r; ``starts[n]`` one past the last
    newline), ``tabs[r, :9]`` (offsets of the first nine tabs: the fixed
    columns, read by Python) and the call arrays. Calls take the VCF Zarr
    sentinels: -1 missing, -2 fill. Returns (status, record, sample, field
    code), the field code being 0 GT, 1 AD, 2 DP, 3 GQ or -1.
    """
    has_ad = ad.shape[0] > 0
    has_dp = dp.shape[0] > 0
    has_gq = gq.shape[0] > 0
    codes = np.empty(64, dtype=np.int8)
    p = 0
    for r in range(n):
        starts[r] = p
        k = 0
        while k < 9 and buf[p] != _NL:
            if buf[p] == _TAB:
                tabs[r, k] = p
                k += 1
            p += 1
        if k < 9:
            return _COLUMNS, r, 0, -1
        # FORMAT keys, between the eighth and ninth tabs
        q = tabs[r, 7] + 1
        f_end = tabs[r, 8]
        nk = 0
        ad_fill = -1  # AD absent from FORMAT: every value missing; present but not given: missing, fill
        while q <= f_end:
            ks = q
            while q < f_end and buf[q] != _COLON:
                q += 1
            code = -1
            if q - ks == 2:
                c0, c1 = buf[ks], buf[ks + 1]
                if c0 == 71 and c1 == 84:  # GT
                    code = 0
                elif c0 == 65 and c1 == 68:  # AD
                    code = 1
                    ad_fill = -2
                elif c0 == 68 and c1 == 80:  # DP
                    code = 2
                elif c0 == 71 and c1 == 81:  # GQ
                    code = 3
            if nk < 64:
                codes[nk] = code
            nk += 1
            q += 1
        if codes[0] != 0:
            return _GT_FIRST, r, 0, -1
        # the common case, GT:AD:DP:GQ with a biallelic diploid call and every value given, read straight
        fast = nk == 4 and codes[0] == 0 and codes[1] == 1 and codes[2] == 2 and codes[3] == 3
        fast = fast and has_ad and has_dp and has_gq
        for s in range(n_samples):
            # ``a/b:ref,alt:dp:gq`` (a, b 0 or 1; every depth given, none too large) is read straight;
            # anything else, or a problem, field by field below, which gives the same values or names it
            common = False
            a0 = buf[p]
            sep = buf[p + 1]
            a1 = buf[p + 2]
            # (byte - 48) >> 1 == 0: the byte is '0' or '1'; plain ``or`` between comparisons, not ``|``
            if fast and ((np.int64(a0) - 48) >> 1) == 0 and ((np.int64(a1) - 48) >> 1) == 0 and sep in (_SLASH, _PIPE):
                ref, q = _read_count(buf, p + 4, limit[1]) if buf[p + 3] == _COLON else (-1, p)
                if ref >= 0 and buf[q] == _COMMA:
                    alt, q = _read_count(buf, q + 1, limit[1])
                    if alt >= 0 and buf[q] == _COLON:
                        depth, q = _read_count(buf, q + 1, limit[2])
                        if depth >= 0 and buf[q] == _COLON:
                            quality, q = _read_count(buf, q + 1, limit[3])
                            end = buf[q]
                            common = quality >= 0 and end in (_TAB, _NL, _CR)
                if common:
                    gt[r, s, 0] = a0 - 48
                    gt[r, s, 1] = a1 - 48
                    phased[r, s] = sep == _PIPE
                    ad[r, s, 0] = ref
                    ad[r, s, 1] = alt
                    dp[r, s] = depth
                    gq[r, s] = quality
                    p = q
            if not common:
                gt[r, s, 0] = -1
                gt[r, s, 1] = -1
                phased[r, s] = False
                if has_ad:
                    ad[r, s, 0] = -1
                    ad[r, s, 1] = ad_fill
                if has_dp:
                    dp[r, s] = -1
                if has_gq:
                    gq[r, s] = -1
                k = 0
                while buf[p] != _TAB and buf[p] != _NL and buf[p] != _CR:
                    if k >= nk:
                        return _EXTRA, r, s, -1
                    code = codes[k] if k < 64 else -1
                    if code == 0:
                        a = 0
                        while True:
                            if buf[p] == _DOT:
                                v = -1
                                p += 1
                            else:
                                v = 0
                                q = p
                                while 48 <= buf[p] <= 57:
                                    v = v * 10 + (buf[p] - 48)
                                    if v > 127:
                                        return _MULTI, r, s, 0
                                    p += 1
                                if p == q:
                                    return _BAD_GT, r, s, 0
                                if v > 1:
                                    return _MULTI, r, s, 0
                            if a >= 2:
                                return _PLOIDY, r, s, 0
                            gt[r, s, a] = v
                            a += 1
                            if buf[p] == _SLASH:
                                p += 1
                            elif buf[p] == _PIPE:
                                phased[r, s] = True
                                p += 1
                            else:
                                break
                        if a == 1:  # haploid: one allele, counted as phased
                            gt[r, s, 1] = -2
                            phased[r, s] = True
                    elif code == 1 and has_ad:
                        i = 0
                        while True:
                            v, p, ok = _read_int(buf, p)
                            if not ok:
                                return _BAD_INT, r, s, 1
                            if i >= 2:
                                return _AD_COUNT, r, s, 1
                            if v > limit[1]:
                                return _OVERFLOW, r, s, 1
                            ad[r, s, i] = v
                            i += 1
                            if buf[p] == _COMMA:
                                p += 1
                            else:
                                break
                    elif (code == 2 and has_dp) or (code == 3 and has_gq):
                        v, p, ok = _read_int(buf, p)
                        if not ok:
                            return _BAD_INT, r, s, code
                        if v > limit[code]:
                            return _OVERFLOW, r, s, code
                        if code == 2:
                            dp[r, s] = v
                        else:
                            gq[r, s] = v
                    else:
                        while buf[p] != _COLON and buf[p] != _TAB and buf[p] != _NL and buf[p] != _CR:
                            p += 1
                    if buf[p] == _COLON:
                        p += 1
                        k += 1
                    elif buf[p] != _TAB and buf[p] != _NL and buf[p] != _CR:
                        return (_BAD_GT if code == 0 else _BAD_INT), r, s, code
            if s < n_samples - 1:
                if buf[p] != _TAB:
                    return _TOO_FEW, r, s + 1, -1
            else:
                if buf[p] == _CR:  # a CRLF line end
                    p += 1
                if buf[p] != _NL:
                    return _TOO_MANY, r, n_samples, -1
            p += 1
    starts[n] = p
    return _OK, 0, 0, -1


@numba.njit(nogil=True, cache=True)
def _any_nonzero(data):  # pragma: no cover - compiled
    """Whether any byte of ``data`` (uint8) is not zero; stops at the first block of 4 KiB that has one."""
    n = data.shape[0]
    for start in range(0, n, 4096):
        stop = min(start + 4096, n)
        acc = np.uint8(0)
        for i in range(start, stop):
            acc |= data[i]
        if acc:
            return True
    return False


class _ChunkFiles:
    """Writes whole chunks of one numeric Zarr (format 2) array straight to their files.

    The files are the bytes zarr writes for the same values (the tests compare
    them): each chunk C-ordered at its full chunk shape, the part past the
    array's edge filled with 0 (the fill value of an array created with
    ``fill_value=None``), compressed with the array's own codec, under the
    key ``i.j.k``; a chunk all 0 is not written (zarr's
    ``write_empty_chunks`` is off). zarr's own write path goes through its
    event loop and, per chunk, allocates a padded copy and compares all of it
    with the fill value, which cost more CPU than the compression itself
    (docs/adr/0012). A chunk cut short in the variants dimension (the last
    one) is left to zarr.
    """

    def __init__(self, directory: Path, array: zarr.Array):
        meta = array.metadata
        assert isinstance(meta, ArrayV2Metadata) and not meta.filters and meta.order == "C"
        assert meta.compressor is not None
        self.array = array
        self.directory = directory
        self.codec = meta.compressor
        self.chunks = tuple(meta.chunks)
        self.shape = tuple(meta.shape)
        self.separator = meta.dimension_separator
        self.local = threading.local()

    def _padded(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """This thread's zeroed buffer of one chunk's full shape (only the edge chunk's data part is rewritten)."""
        buffers = getattr(self.local, "buffers", None)
        if buffers is None:
            buffers = self.local.buffers = {}
        key = (shape, dtype)
        if key not in buffers:
            buffers[key] = np.zeros(self.chunks, dtype=dtype)
        return buffers[key]

    def write(self, v0: int, values: np.ndarray) -> None:
        """Store ``values`` as the rows from variant ``v0`` on (a whole number of variant chunks, or the last)."""
        vc = self.chunks[0]
        n = values.shape[0]
        if n != vc:  # the last chunk, cut short: zarr pads it
            self.array[v0 : v0 + n] = values
            return
        row = v0 // vc
        if len(self.shape) == 1:
            self._put((row,), values)
            return
        sc = self.chunks[1]
        for col, s0 in enumerate(range(0, self.shape[1], sc)):
            part = values[:, s0 : s0 + sc]
            if part.shape[1] < sc:
                padded = self._padded(part.shape, part.dtype)
                padded[:, : part.shape[1]] = part
                part = padded
            self._put((row, col, *([0] * (len(self.shape) - 2))), part)

    def _put(self, coords: tuple[int, ...], chunk: np.ndarray) -> None:
        chunk = np.ascontiguousarray(chunk)
        if not _any_nonzero(chunk.reshape(-1).view(np.uint8)):
            return
        data = self.codec.encode(chunk)
        with open(self.directory / self.separator.join(map(str, coords)), "wb") as fh:
            fh.write(data)


# --------------------------------------------------------------------------
# Conversion


@dataclass(slots=True)
class ConversionResult:
    """What a conversion (or a check) did.

    ``problems`` are every problem found when the conversion was given
    :class:`Checks` (nothing is written then); ``contig_spans`` the first and
    last position of each contig with their lines, for checking the index;
    ``readable`` is False when the compressed stream breaks off; ``written``
    says whether a complete store is at ``out``; ``indexed`` whether the file
    has a tabix index with record counts.
    """

    n_samples: int
    n_variants: int
    fields: list[str]
    skipped_fields: list[str] = field(default_factory=list)
    problems: list[VcfConversionError] = field(default_factory=list)
    header_lines: int = 0
    contig_spans: dict[str, list[int]] = field(default_factory=dict)
    readable: bool = True
    written: bool = False
    indexed: bool = False


@dataclass(slots=True)
class _InfoSpec:
    name: str
    kind: str  # "int" | "float" | "str" | "flag"
    per_alt: bool = False  # Number=A: one value per ALT allele, stored (variants, alt_alleles)


_INT_LIMITS = {np.dtype(np.int8): 127, np.dtype(np.int16): 32767, np.dtype(np.int32): 2_000_000_000}


class _Converter:
    def __init__(
        self,
        path: Path,
        header: VcfHeader,
        root: zarr.Group | None,
        variants_chunk_size: int,
        samples_chunk_size: int,
        level: int,
        dtypes: dict[str, np.dtype],
        checks: Checks,
    ):
        self.path = path
        self.checks = checks
        self.keep_going = checks is not _NO_CHECKS
        self._format_rules: dict[str, list[tuple[str, str]]] = {}
        self.header = header
        self.root = root
        self.vc = variants_chunk_size
        self.sc = samples_chunk_size
        self.level = level
        self.dtypes = dtypes
        self.contig_index = {name: i for i, (name, _) in enumerate(header.contigs)}
        self.filter_index = {name: i for i, (name, _) in enumerate(header.filters)}
        self.format_fields = [f for f in _SUPPORTED_FORMAT if f in header.format]
        self.info: list[_InfoSpec] = []
        self.skipped: list[str] = [f"FORMAT/{f}" for f in header.format if f not in _SUPPORTED_FORMAT]
        for name, spec in header.info.items():
            number, typ = spec.get("Number"), spec.get("Type")
            kind = {"Integer": "int", "Float": "float", "String": "str", "Character": "str", "Flag": "flag"}.get(
                typ or ""
            )
            if kind is None or (kind == "flag") != (number == "0") or (kind != "flag" and number not in ("1", "A")):
                self.skipped.append(f"INFO/{name}")
            else:
                self.info.append(_InfoSpec(name, kind, number == "A"))
        self.local = threading.local()
        self.arrays: dict[str, zarr.Array] = {}  # the per-variant arrays, opened once
        self.files: dict[str, _ChunkFiles] = {}  # the call arrays, written chunk by chunk
        n_contigs = len(header.contigs)
        self.contig_dtype = np.dtype(np.int8 if n_contigs < 127 else np.int16 if n_contigs < 32767 else np.int32)
        self.n_samples = len(header.samples)
        self.limit = np.array(
            [127] + [_INT_LIMITS[dtypes.get(f, np.dtype(np.int16))] for f in ("AD", "DP", "GQ")], dtype=np.int64
        )

    # Arrays -----------------------------------------------------------------

    def create_arrays(self, n_variants: int) -> None:
        root, vc, sc, n = self.root, self.vc, self.sc, self.n_samples
        assert root is not None, "arrays are created only where the converter writes a store"
        root.attrs.update(
            {
                "vcf_zarr_version": "0.5",
                "source": "genomics.vcfzarr",
                "vcf_meta_information": [list(m) for m in self.header.meta],
            }
        )
        block = {"clevel": self.level, "blocksize": BLOSC_BLOCKSIZE}
        default = dict(zarr_utils.DEFAULT_COMPRESSOR_CONFIG, **block)
        boolean = dict(zarr_utils.DEFAULT_COMPRESSOR_BOOL_CONFIG, **block)
        genotypes = dict(zarr_utils.DEFAULT_COMPRESSOR_GENOTYPES_CONFIG, **block)
        string = zarr_utils.STRING_DTYPE_NAME

        def fixed(name, data, dtype, dims, compressor=zarr_utils.DEFAULT_COMPRESSOR_CONFIG, chunks=None):
            kwargs = {"chunks": chunks} if chunks else {}
            zarr_utils.create_group_array(
                root,
                name,
                data=data,
                shape=len(data),
                dtype=dtype,
                compressor=compressor,
                dimension_names=dims,
                **kwargs,
            )

        fixed("sample_id", self.header.samples, string, ["samples"], chunks=(sc,))
        fixed("contig_id", [c for c, _ in self.header.contigs], string, ["contigs"])
        if self.header.contigs and all(length is not None for _, length in self.header.contigs):
            fixed("contig_length", [length for _, length in self.header.contigs], np.int64, ["contigs"])
        fixed("filter_id", [f for f, _ in self.header.filters], string, ["filters"])
        fixed("filter_description", [d for _, d in self.header.filters], string, ["filters"])

        sizes = {
            "variants": n_variants,
            "samples": n,
            "ploidy": 2,
            "alleles": 2,
            "alt_alleles": 1,
            "filters": len(self.header.filters),
        }

        def empty(name, dtype, dims, compressor, description=""):
            shape = [sizes[d] for d in dims]
            chunks = [{"variants": vc, "samples": sc}.get(d, s) for d, s in zip(dims, shape, strict=True)]
            a = zarr_utils.create_empty_group_array(
                root,
                name,
                shape=shape,
                dtype=dtype,
                chunks=chunks,
                compressor=compressor,
                dimension_names=dims,
                fill_value=None,
            )
            a.attrs.update({"description": description})
            self.arrays[name] = a

        contig_dtype = self.contig_dtype
        empty("variant_contig", contig_dtype, ["variants"], default, _DESCRIPTIONS["variant_contig"])
        empty("variant_position", np.int32, ["variants"], default, "The reference position")
        empty("variant_length", np.int32, ["variants"], default, "The length of the variant measured in bases")
        empty("variant_id", string, ["variants"], default, "List of unique identifiers where applicable")
        empty("variant_id_mask", bool, ["variants"], boolean)
        empty("variant_allele", string, ["variants", "alleles"], default, "List of the reference and alternate alleles")
        empty("variant_quality", np.float32, ["variants"], default, "Phred-scaled quality score")
        empty("variant_filter", bool, ["variants", "filters"], boolean, "Filter status of the variant")
        for spec in self.info:
            dtype = {"int": np.int32, "float": np.float32, "str": string, "flag": bool}[spec.kind]
            description = self.header.info[spec.name].get("Description", "")
            dims = ["variants", "alt_alleles"] if spec.per_alt else ["variants"]
            empty(f"variant_{spec.name}", dtype, dims, boolean if spec.kind == "flag" else default, description)
        empty("call_genotype", np.int8, ["variants", "samples", "ploidy"], genotypes)
        empty("call_genotype_mask", bool, ["variants", "samples", "ploidy"], boolean)
        empty("call_genotype_phased", bool, ["variants", "samples"], boolean)
        for name in self.format_fields[1:]:
            dims = ["variants", "samples", "alleles"] if name == "AD" else ["variants", "samples"]
            description = self.header.format[name].get("Description", "")
            compressor = dict(default, **CALL_SHUFFLE.get(name, {}))
            empty(f"call_{name}", self.dtypes.get(name, np.int16), dims, compressor, description)
        directory = Path(root.store.root)  # type: ignore[attr-defined]  # a LocalStore
        for name, array in self.arrays.items():
            if name.startswith("call_"):
                self.files[name] = _ChunkFiles(directory / name, array)

    # One variant chunk --------------------------------------------------------

    def _scratch(self) -> dict[str, np.ndarray]:
        """This thread's call arrays for one variant chunk, allocated once and reused."""
        scratch = getattr(self.local, "arrays", None)
        if scratch is None:
            vc, ns = self.vc, self.n_samples

            def call(name: str, shape: tuple[int, ...]) -> np.ndarray:
                if name in self.format_fields:
                    return np.empty(shape, dtype=self.dtypes.get(name, np.int16))
                return np.empty((0,) * len(shape), dtype=np.int16)

            scratch = {
                "gt": np.empty((vc, ns, 2), dtype=np.int8),
                "mask": np.empty((vc, ns, 2), dtype=bool),
                "phased": np.empty((vc, ns), dtype=bool),
                "AD": call("AD", (vc, ns, 2)),
                "DP": call("DP", (vc, ns)),
                "GQ": call("GQ", (vc, ns)),
            }
            self.local.arrays = scratch
        return scratch

    def _parse(
        self, buf: np.ndarray, n: int, arrays: dict[str, np.ndarray]
    ) -> tuple[int, int, int, int, np.ndarray, np.ndarray]:
        """Run the kernel over ``n`` records of ``buf`` into this thread's arrays.

        Returns its (status, record, sample, field code), the line starts and
        the fixed-column tab offsets.
        """
        starts = np.empty(n + 1, dtype=np.int64)
        tabs = np.full((n, 9), -1, dtype=np.int64)
        status, r, s, code = _parse_records(  # type: ignore[call-arg]  # a numba kernel; its stub takes no arguments
            buf,
            n,
            self.n_samples,
            starts,
            tabs,
            arrays["gt"][:n],
            arrays["phased"][:n],
            *(arrays[name][:n] if name in self.format_fields else arrays[name] for name in ("AD", "DP", "GQ")),
            self.limit,
        )
        return status, r, s, code, starts, tabs

    def encode_chunk(self, v0: int, piece: _Piece, release: Callable[[np.ndarray], None], write: bool) -> Chunk:
        """Parse one variant chunk, check it, and (``write``, no problem found) write its Zarr chunks.

        Returns the chunk's fixed columns, allele counts, non-reference calls
        and packed hard calls, or, when a record has a problem, every problem
        of the piece (nothing is written then). Without ``self.keep_going``
        the first problem is raised instead.
        """
        n = piece.n_lines
        arrays = self._scratch()
        line0 = self.header.n_lines + piece.first_line
        try:
            status, r, s, code, starts, tabs = self._parse(piece.buf[: piece.size], n, arrays)
            if status == _OVERFLOW and self.root is not None:
                raise _Widen(("GT", "AD", "DP", "GQ")[code])
            if status == _OK:
                fixed, seen, problems, _ = self._fixed_columns(piece.buf, starts, tabs, line0, n)
            if status != _OK or problems:
                if not self.keep_going:
                    if status != _OK:
                        # a broken fixed column (a multi-allelic ALT, say) explains a record better than its calls
                        self._fixed_columns(piece.buf, starts, tabs, line0, r if status == _COLUMNS else r + 1)
                        raise self._call_error(line0 + r, status, s, code)
                    raise problems[0]
                problems, seen = self._check_piece(piece, arrays)
                return Chunk(v0, n, seen=seen, problems=problems)
        finally:
            release(piece.buf)
        gt = arrays["gt"][:n]
        if write and self.root is not None:
            sl = slice(v0, v0 + n)
            for name, values in fixed.items():
                self.arrays[name][sl] = values
            files = self.files
            files["call_genotype"].write(v0, gt)
            files["call_genotype_mask"].write(v0, np.less(gt, 0, out=arrays["mask"][:n]))
            files["call_genotype_phased"].write(v0, arrays["phased"][:n])
            for name in self.format_fields[1:]:
                files[f"call_{name}"].write(v0, arrays[name][:n])
        if self.root is None:  # checking only
            return Chunk(v0, n, seen=seen)
        counts, carriers, packed = chunk_summary(gt)
        return Chunk(v0, n, fixed, counts, carriers, packed, seen=seen, problems=[])

    def _error(self, line: int, column: str | None, detail: str, code: str = "") -> VcfConversionError:
        if column is None or column == "CHROM":
            where = f"line {line}"
        elif column.startswith(("INFO/", "sample ", "after ")):
            where = f"line {line}, {column}"
        else:
            where = f"line {line}, column {column}"
        if not code:
            code = "malformed_call" if column and column.startswith(("sample ", "after ")) else "malformed_line"
        return VcfConversionError(f"{self.path}: {where}: {detail}", line=line, column=column, detail=detail, code=code)

    def _call_error(self, line: int, status: int, sample: int, code: int) -> VcfConversionError:
        if status == _COLUMNS:
            return self._error(line, None, _MESSAGES[status])
        if status == _GT_FIRST:
            return self._error(line, "FORMAT", _MESSAGES[status], "missing_gt")
        where = f"sample {self.header.samples[sample]}" if sample < self.n_samples else "after the last sample"
        what = f" in FORMAT/{('GT', 'AD', 'DP', 'GQ')[code]}" if code >= 0 else ""
        return self._error(line, where, f"{_MESSAGES[status]}{what}")

    def _check_piece(self, piece: _Piece, arrays: dict[str, np.ndarray]) -> tuple[list[VcfConversionError], list]:
        """Every problem of one piece's records, record by record past each bad one."""
        problems: list[VcfConversionError] = []
        seen: list[tuple[str, int, int]] = []
        line0 = self.header.n_lines + piece.first_line
        r0, offset = 0, 0
        while r0 < piece.n_lines:
            m = piece.n_lines - r0
            buf = piece.buf[offset : piece.size]
            status, r, s, code, starts, tabs = self._parse(buf, m, arrays)
            parsed = m if status == _OK else (r if status == _COLUMNS else r + 1)
            for k in range(parsed):
                line = line0 + r0 + k
                _, found, record_problems, flagged = self._fixed_columns(
                    buf, starts[k : k + 1], tabs[k : k + 1], line, 1
                )
                seen.extend(found)
                if self.checks.line_scan and k == r and status in (_TOO_FEW, _TOO_MANY):
                    record_problems.insert(0, self._column_count(buf, starts[k], line))
                elif status not in (_OK, _COLUMNS) and k == r and not flagged:
                    record_problems.append(self._call_error(line, status, s, code))
                problems.extend(record_problems)
            if status == _OK:
                break
            if status == _COLUMNS:
                line = line0 + r0 + r
                if self.checks.line_scan:
                    problems.append(self._column_count(buf, starts[r], line))
                else:
                    problems.append(self._call_error(line, status, s, code))
            offset += int(np.flatnonzero(buf[starts[r] :] == _NL)[0]) + int(starts[r]) + 1
            r0 += r + 1
        return problems, seen

    def _column_count(self, buf: np.ndarray, start: int, line: int) -> VcfConversionError:
        end = start + int(np.flatnonzero(buf[start:] == _NL)[0])
        text = bytes(buf[start:end]).rstrip(b"\r")
        found = text.count(b"\t") + 1
        return self._error(line, None, f"expected {9 + self.n_samples} tab-separated columns, found {found}")

    def _format_problems(self, fmt: str, line: int) -> list[VcfConversionError]:
        """The release's rules for one record's FORMAT column (remembered per distinct column)."""
        rules = self._format_rules.get(fmt)
        if rules is None:
            keys = fmt.split(":")
            rules = []
            undeclared = [k for k in keys if k not in self.header.format]
            if undeclared:
                rules.append(
                    ("undeclared_field", f"FORMAT field(s) {', '.join(undeclared)} not declared in the header")
                )
            if keys[0] != "GT":
                rules.append(("missing_gt", "FORMAT does not start with GT (genotypes are required)"))
            missing = [f for f in self.checks.required_format if f != "GT" and f not in keys]
            if missing:
                rules.append(("missing_format_field", f"FORMAT lacks required field(s) {', '.join(missing)}"))
            self._format_rules[fmt] = rules
        return [self._error(line, "FORMAT", message, code) for code, message in rules]

    def _line_scan(self, line: int, chrom: str, pos: str, ref: str, alt: str) -> list[VcfConversionError]:
        """A release's rules for the fixed columns of one record."""
        problems = []
        if chrom not in self.contig_index:
            problems.append(
                self._error(line, "CHROM", f"contig {chrom} has no ##contig header line", "undeclared_contig")
            )
        if not _ALLELE.match(ref):
            problems.append(self._error(line, "REF", f"REF {ref!r} is not a DNA sequence"))
        if "," in alt:
            problems.append(
                self._error(
                    line, "ALT", f"ALT {alt!r} has several alleles; split with 'bcftools norm -m-'", "multiallelic"
                )
            )
        elif alt == ".":
            problems.append(self._error(line, "ALT", "ALT is missing ('.')"))
        elif not (_ALLELE.match(alt) or _SYMBOLIC.match(alt)):
            problems.append(self._error(line, "ALT", f"ALT {alt!r} is not a DNA sequence"))
        return problems

    def _fixed_columns(
        self, buf: np.ndarray, starts: np.ndarray, tabs: np.ndarray, line0: int, n: int
    ) -> tuple[dict[str, np.ndarray], list[tuple[str, int, int]], list[VcfConversionError], bool]:
        """Columns CHROM to INFO of the first ``n`` records, as arrays.

        Also returns (contig, position, line) of each record with a readable
        position (the sort order is checked in file order by the caller) and
        the problems found: with ``checks.line_scan`` a release's rules first,
        then, on a line those leave alone, the first value the converter
        cannot store; and whether a release's rule was broken (then the calls
        need not be explained too). Without ``keep_going`` the first problem
        is raised.
        """
        flagged = False
        text = memoryview(buf)  # type: ignore[arg-type]  # numpy arrays are buffers; the stubs miss it
        line_scan = self.checks.line_scan
        problems: list[VcfConversionError] = []
        seen: list[tuple[str, int, int]] = []
        contig = np.empty(n, dtype=self.contig_dtype)
        position = np.empty(n, dtype=np.int32)
        length = np.empty(n, dtype=np.int32)
        ids = np.empty(n, dtype=object)
        id_mask = np.zeros(n, dtype=bool)
        alleles = np.empty((n, 2), dtype=object)
        quality = np.empty(n, dtype=np.float32)
        filters = np.zeros((n, len(self.header.filters)), dtype=bool)
        info: dict[str, np.ndarray] = {}
        for spec in self.info:
            if spec.kind == "int":
                info[spec.name] = np.full(n, constants.INT_MISSING, dtype=np.int32)
            elif spec.kind == "float":
                info[spec.name] = np.full(n, FLOAT32_MISSING, dtype=np.float32)
            elif spec.kind == "str":
                info[spec.name] = np.full(n, constants.STR_MISSING, dtype=object)
            else:
                info[spec.name] = np.zeros(n, dtype=bool)
        kinds = {spec.name: spec.kind for spec in self.info}
        for r in range(n):
            line = line0 + r
            chrom, pos, vid, ref, alt, qual, filt, inf = (
                bytes(text[starts[r] : tabs[r, 7]]).decode("utf-8", "replace").split("\t")
            )
            if line_scan:
                if not pos.isdigit() or int(pos) < 1:
                    problems.append(self._error(line, "POS", f"POS {pos!r} is not a positive integer"))
                    flagged = True
                    continue
                seen.append((chrom, int(pos), line))
                found = self._line_scan(line, chrom, pos, ref, alt)
                fmt = bytes(text[tabs[r, 7] + 1 : tabs[r, 8]]).decode("utf-8", "replace")
                found.extend(self._format_problems(fmt, line))
                if found:
                    problems.extend(found)
                    flagged = True
                    continue
            try:
                try:
                    contig[r] = self.contig_index[chrom]
                except KeyError:
                    raise self._error(line, "CHROM", f"contig {chrom!r} is not in the header") from None
                if not pos.isdigit():
                    raise self._error(line, "POS", f"{pos!r} is not a position")
                position[r] = int(pos)
                length[r] = len(ref)
                if vid == ".":
                    ids[r], id_mask[r] = constants.STR_MISSING, True
                else:
                    ids[r] = vid
                if "," in alt:
                    raise self._error(line, "ALT", f"multi-allelic record {alt!r}", "multiallelic")
                alleles[r, 0], alleles[r, 1] = ref, ("" if alt == "." else alt)
                if qual == ".":
                    quality[r] = FLOAT32_MISSING
                else:
                    try:
                        quality[r] = float(qual)
                    except ValueError:
                        raise self._error(line, "QUAL", f"{qual!r} is not a number") from None
                if filt != ".":
                    for f in filt.split(";"):
                        try:
                            filters[r, self.filter_index[f]] = True
                        except KeyError:
                            raise self._error(line, "FILTER", f"{f!r} is not declared in the header") from None
                if inf != ".":
                    for item in inf.split(";"):
                        key, eq, value = item.partition("=")
                        kind = kinds.get(key)
                        if kind is None:
                            continue
                        try:
                            if kind == "flag":
                                info[key][r] = True
                            elif value != ".":
                                info[key][r] = (
                                    int(value) if kind == "int" else float(value) if kind == "float" else value
                                )
                        except ValueError:
                            raise self._error(line, f"INFO/{key}", f"cannot read {value!r} as {kind}") from None
            except VcfConversionError as problem:
                if not self.keep_going:
                    raise
                problems.append(problem)
        out = {
            "variant_contig": contig,
            "variant_position": position,
            "variant_length": length,
            "variant_id": ids,
            "variant_id_mask": id_mask,
            "variant_allele": alleles,
            "variant_quality": quality,
            "variant_filter": filters,
        }
        for spec in self.info:
            values = info[spec.name]
            out[f"variant_{spec.name}"] = values[:, None] if spec.per_alt else values
        return out, seen, problems, flagged


_DESCRIPTIONS = {
    "variant_contig": (
        "An identifier from the reference genome or an angle-bracketed ID string pointing to a contig "
        "in the assembly file"
    ),
}


@dataclass(slots=True)
class Chunk:
    """One converted variant chunk, given to ``on_chunk`` in variant order.

    ``v0`` is the store-wide number of its first variant; ``fixed`` its
    columns CHROM to INFO as VCF Zarr arrays; ``counts`` its allele counts
    over every sample; ``carriers`` its complete non-reference calls
    (variant row, sample column, alt allele count); ``packed`` its hard calls
    in the PLINK 1 .bed encoding, one row of ``ceil(samples / 4)`` bytes per
    variant.
    """

    v0: int
    n: int
    fixed: dict[str, np.ndarray] | None = None
    counts: AlleleCounts | None = None
    carriers: tuple | None = None
    packed: np.ndarray | None = None
    seen: list[tuple[str, int, int]] = field(default_factory=list)  # (contig, position, line) per record
    problems: list[VcfConversionError] = field(default_factory=list)


ChunkConsumer = Callable[[Chunk], None]


def count_records(path: Path) -> int | None:
    """Records in a tabix-indexed VCF, from the index (None if it has no index or no counts)."""
    import cyvcf2

    if not any(path.with_name(path.name + suffix).exists() for suffix in (".tbi", ".csi")):
        return None
    try:
        vcf = cyvcf2.VCF(str(path), lazy=True)
    except OSError:
        return None
    try:
        n = vcf.num_records
    except (ValueError, AttributeError):
        return None
    finally:
        vcf.close()
    return int(n) if n is not None and n >= 0 else None


@dataclass(frozen=True, slots=True)
class Checks:
    """What a data release asks of its germline VCF, checked in the conversion's own pass.

    ``samples``: ids that must each have a column (``None``: not checked);
    ``allowed``: further ids that may have one (withdrawn participants'
    columns stay in a joint-called VCF); ``required_format``: FORMAT keys
    every record must name; ``line_scan``: a release's rules for the header
    and the fixed columns (DNA alleles, declared contigs and FORMAT keys,
    sort order); without them only what the converter itself cannot store
    is a problem.
    """

    samples: tuple[str, ...] | None = None
    allowed: frozenset[str] = frozenset()
    required_format: tuple[str, ...] = ("GT",)
    line_scan: bool = True


_NO_CHECKS = Checks(line_scan=False)  # plain conversion: the first problem raises
_FIXED_HEADER = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
_ALLELE = re.compile(r"^[ACGTNacgtn]+$")
_SYMBOLIC = re.compile(r"^(<[^<>]+>|\*)$")


def _header_problems(path: Path, text: str, checks: Checks) -> list[VcfConversionError]:
    """A release's rules for the header lines and the sample columns."""
    lines = [line.rstrip("\r") for line in text.rstrip("\r\n").split("\n")]
    problems: list[VcfConversionError] = []

    def add(line: int | None, code: str, message: str, column: str | None = None) -> None:
        where = f"{path}: line {line}: " if line else f"{path}: "
        problems.append(VcfConversionError(where + message, line=line, column=column, detail=message, code=code))

    n = len(lines)
    if checks.line_scan:
        if not lines[0].startswith("##fileformat=VCF"):
            add(1, "malformed_header", "first line must be '##fileformat=VCFv4.x'")
        for i, line in enumerate(lines[:-1], start=1):
            if not line.startswith("##"):
                add(i, "malformed_header", "header line before #CHROM does not start with '##'")
    columns = lines[-1].split("\t")
    fixed = tuple(columns[:8])
    if checks.line_scan and fixed != _FIXED_HEADER:
        add(n, "malformed_header", f"#CHROM line columns are {fixed}, expected {_FIXED_HEADER}")
    if len(columns) < 10 or columns[8] != "FORMAT":
        add(n, "missing_gt", "no FORMAT column or no sample columns: genotypes are required")
        return problems
    if checks.line_scan and not any(re.match(r"^##FORMAT=<ID=GT[,>]", line) for line in lines[:-1]):
        add(n, "missing_gt", "header declares no FORMAT/GT field", "FORMAT")
    if checks.samples is not None:
        samples = columns[9:]
        expected = set(checks.samples)
        allowed = expected | checks.allowed
        seen: set[str] = set()
        for i, s in enumerate(samples):
            column = f"sample column {10 + i} ({s})"
            if s in seen:
                add(n, "duplicate_sample", f"sample {s!r} appears more than once", column)
            seen.add(s)
            if s not in allowed:
                add(n, "unexpected_sample", f"sample {s!r} is not an expected participant of this release", column)
        for s in checks.samples:
            if s not in seen:
                add(n, "missing_sample", f"expected sample {s!r} has no column", "#CHROM")
    return problems


def convert(
    vcf_path: str | Path,
    out: str | Path | None,
    *,
    variants_chunk_size: int = 1_000,
    samples_chunk_size: int = 10_000,
    compression_level: int = 1,
    threads: int = 2,
    on_chunk: ChunkConsumer | None = None,
    on_restart: Callable[[], None] | None = None,
    checks: Checks | None = None,
    text: Callable[[Path], Iterator[bytes]] | None = None,
) -> ConversionResult:
    """Write VCF Zarr for ``vcf_path`` at ``out`` (which must not exist).

    ``on_chunk(chunk)`` is called in variant order, in the calling thread,
    once per variant chunk (:class:`Chunk`).
    AD, DP and GQ are stored as int16; a value above that widens the field to
    int32 and the conversion starts again from the first record, after
    calling ``on_restart()`` so that a consumer can drop what it was given.

    Without ``checks`` the first problem raises :class:`VcfConversionError`.
    With ``checks`` the same pass finds every problem (a release's rules and
    what the converter cannot store; see :class:`Checks`) and lists them in
    :attr:`ConversionResult.problems`; from the first problem on nothing more
    is written or given to ``on_chunk``, and nothing is left at ``out``. With
    ``out=None`` (or no tabix index) the file is checked and nothing written.
    ``text`` reads the inflated text of a file that is not BGZF (checking only).
    """
    vcf_path = Path(vcf_path)
    out = Path(out) if out is not None else None
    if out is not None and out.exists():
        raise FileExistsError(f"{out} exists")
    dtypes: dict[str, np.dtype] = {}
    if out is None:
        dtypes = {f: np.dtype(np.int32) for f in ("AD", "DP", "GQ")}
    while True:
        try:
            result = _convert(
                vcf_path,
                out,
                variants_chunk_size,
                samples_chunk_size,
                compression_level,
                threads,
                on_chunk,
                dtypes,
                checks,
                text,
            )
            if out is not None and not result.written:
                shutil.rmtree(out, ignore_errors=True)
            return result
        except _Widen as widen:
            assert out is not None
            shutil.rmtree(out, ignore_errors=True)
            if dtypes.get(widen.name) == np.dtype(np.int32):
                raise VcfConversionError(f"{vcf_path}: FORMAT/{widen.name} holds a value above 2,000,000,000") from None
            dtypes[widen.name] = np.dtype(np.int32)
            if on_restart is not None:
                on_restart()
        except BaseException:
            if out is not None:
                shutil.rmtree(out, ignore_errors=True)  # nothing half-written
            raise


def find_problems(vcf_path: str | Path, *, threads: int = 1) -> list[VcfConversionError]:
    """Every record-level problem the converter would stop at, in file order.

    Reads the whole file once with the converter's parser and writes nothing.
    Values too large for int32 are problems; nothing is widened here. Header,
    compression and record-count problems raise :class:`VcfConversionError`.
    """
    result = convert(vcf_path, None, threads=threads, checks=Checks(line_scan=False))
    for problem in result.problems:
        if problem.line is None or isinstance(problem, CompressionError):
            raise problem
    return result.problems


def _in_order(pool: ThreadPoolExecutor, tasks: Iterable[Callable[[], T]], window: int) -> Iterator[T]:
    """Results of ``tasks`` run on ``pool``, in order, with at most ``window`` + 1 submitted and not yet taken."""
    pending: deque[Future[T]] = deque()
    try:
        for task in tasks:
            pending.append(pool.submit(task))
            while len(pending) > window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for fut in pending:
            fut.cancel()


class _Order:
    """The sort order of records, checked in file order: each contig in one block, positions non-decreasing.

    ``spans``: contig -> [first position, its line, last position, its line].
    """

    def __init__(self, error: Callable[..., VcfConversionError]):
        self.error = error
        self.spans: dict[str, list[int]] = {}
        self.last_contig: str | None = None
        self.last_pos = 0

    def add(self, seen: Iterable[tuple[str, int, int]], problems: list[VcfConversionError]) -> None:
        spans = self.spans
        for chrom, pos, line in seen:
            if chrom != self.last_contig:
                if chrom in spans:
                    problems.append(
                        self.error(
                            line,
                            "CHROM",
                            f"records for {chrom} appear again after {self.last_contig}; sort with 'bcftools sort'",
                            "unsorted",
                        )
                    )
                else:
                    spans[chrom] = [pos, line, pos, line]
                self.last_contig, self.last_pos = chrom, pos
            else:
                if pos < self.last_pos:
                    problems.append(
                        self.error(
                            line,
                            "POS",
                            f"POS {pos} comes after {self.last_pos} on {chrom}; sort with 'bcftools sort'",
                            "unsorted",
                        )
                    )
                self.last_pos = pos
            span = spans[chrom]
            if pos >= span[2]:
                span[2], span[3] = pos, line


def _convert(
    path: Path,
    out: Path | None,
    vc: int,
    sc: int,
    level: int,
    threads: int,
    on_chunk: ChunkConsumer | None,
    dtypes: dict[str, np.dtype],
    checks: Checks | None,
    read_text: Callable[[Path], Iterator[bytes]] | None,
) -> ConversionResult:
    keep_going = checks is not None
    problems: list[VcfConversionError] = []
    blocks = read_text(path) if read_text is not None else iter_bgzf_blocks(path)
    try:
        header, header_text, rest = _read_header(path, blocks, strict=not keep_going)
    except CompressionError as error:
        if not keep_going:
            raise
        return ConversionResult(0, 0, [], problems=[_compression_problem(error, None)], readable=False)
    except VcfConversionError as error:
        if not keep_going:
            raise
        error.code = error.code or "malformed_header"
        return ConversionResult(0, 0, [], problems=[error])
    if keep_going:
        assert checks is not None
        problems.extend(_header_problems(path, header_text, checks))
        if any(p.code == "missing_gt" and p.column is None for p in problems):  # no sample columns: stop here
            return ConversionResult(0, 0, [], problems=problems, header_lines=header.n_lines)

    def text() -> Iterator[bytes]:
        if rest:
            yield rest
        yield from blocks

    n_records = count_records(path) if read_text is None else None
    if n_records is None and not keep_going:
        raise VcfConversionError(f"{path}: no tabix index with record counts (tabix -p vcf {path.name})")
    root = None
    if out is not None and n_records is not None:
        root = zarr.open_group(str(out), mode="w-", zarr_format=2)
    conv = _Converter(
        path, header, root, vc, sc, level, {k: np.dtype(v) for k, v in dtypes.items()}, checks or _NO_CHECKS
    )
    if root is not None and n_records is not None:
        conv.create_arrays(n_records)
    pieces = _Pieces(text(), vc, n_buffers=threads + 1, keep_going=keep_going)
    order = _Order(conv._error)
    n_read = 0
    failed = bool(problems)
    overflow = False

    def chunks() -> Iterator[Callable[[], Chunk]]:
        nonlocal n_read, overflow
        for piece in pieces:
            write = not failed
            if n_records is not None and n_read + piece.n_lines > n_records:
                if not keep_going:
                    raise VcfConversionError(f"{path}: more records than its index counts ({n_records}); re-index it")
                overflow, write = True, False
            yield partial(conv.encode_chunk, n_read, piece, pieces.release, write)
            n_read += piece.n_lines

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for chunk in _in_order(pool, chunks(), threads):
            if keep_going:
                problems.extend(chunk.problems)
                if checks is not None and checks.line_scan:
                    order.add(chunk.seen, problems)
                failed = failed or bool(problems) or overflow
            if not failed and on_chunk is not None and chunk.fixed is not None:
                on_chunk(chunk)
    readable = pieces.error is None
    if pieces.error is not None:
        problems.append(_compression_problem(pieces.error, header.n_lines + pieces.error_line))
    elif n_records is not None and n_read != n_records:
        message = f"{n_read} records read but its index counts {n_records}; re-index it"
        if not keep_going:
            raise VcfConversionError(f"{path}: {message}")
        problems.append(VcfConversionError(f"{path}: {message}", column="index", detail=message, code="index_count"))
    written = root is not None and not problems
    if written:
        assert out is not None
        VcfZarrIndexer(out).create_index()
    return ConversionResult(
        len(header.samples),
        n_read,
        conv.format_fields,
        conv.skipped,
        problems=problems,
        header_lines=header.n_lines,
        contig_spans=order.spans,
        readable=readable,
        written=written,
        indexed=n_records is not None,
    )


def _compression_problem(error: CompressionError, line: int | None) -> VcfConversionError:
    return VcfConversionError(str(error), line=line, detail=str(error), code="corrupt_compression")
