"""The genotype store of a data release.

Layout of a store directory (see ``docs/reference/genotype-store.md``)::

    <store>/
      manifest.json        format version, source VCF, sizes, chunking, tool versions
      genotypes.vcz/       VCF Zarr (bio2zarr's layout): GT, AD, DP, GQ, INFO fields
      variants.parquet     one row per variant: annotation + cohort allele counts
      carriers.parquet     one row per non-reference call: variant, sample, het/hom
      packed/genotypes.bed/.bim/.fam
                           hard calls, 2 bits each (PLINK 1 binary fileset, as
                           plink2 --make-bed writes it), for genome-wide analyses

:func:`import_vcf` builds it from a release's germline VCF, writing to a
temporary directory next to the target and renaming it on success.
:class:`GenotypeStore` reads it: sample ids, variant tables and genotype chunks
for a region, gene or sample subset (reading only the Zarr chunks concerned),
allele counts by group, and carrier queries (DuckDB over Parquet) for the
cohort builder. :func:`export_plink` writes PLINK 1 bed/bim/fam for reference
tools.

Every genotype read takes a :class:`~genomics.mask.SampleMask`, the samples
it may see: a masked-out sample is skipped inside the kernels, the DuckDB
carrier query and the Zarr reads, so its genotypes cannot change any answer.
``SampleMask.every_sample`` is for ingest and administration only; the portal
reads through the mask of a release's usable participants.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import duckdb
import numcodecs
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import zarr
from bio2zarr import vcf as b2z_vcf
from bio2zarr import zarr_utils

from genomics.bed import HET, HOM_ALT, HOM_REF, PackedGenotypes
from genomics.kernels import AlleleCounts, allele_counts_by_group, group_index, nonref_calls, pack_hard_calls
from genomics.mask import SampleMask
from genomics.vcfzarr import (
    BLOSC_BLOCKSIZE,
    CALL_SHUFFLE,
    Checks,
    Chunk,
    ConversionResult,
    VcfConversionError,
    convert,
    read_header,
)

STORE_FORMAT = "tre-genotype-store"
STORE_VERSION = 1
GENOTYPES = "genotypes.vcz"
VARIANTS = "variants.parquet"
CARRIERS = "carriers.parquet"
MANIFEST = "manifest.json"
PACKED = "packed/genotypes"  # PLINK 1 fileset prefix: .bed, .bim, .fam

FIELD_ARRAYS = {"GT": "call_genotype", "AD": "call_AD", "DP": "call_DP", "GQ": "call_GQ"}
CARRIER_CACHE_SIZE = 32
AF_CACHE_SIZE = 8  # masks whose cohort AF is kept (100,000 variants: 1.2 MB each)
GENOTYPE_HET = 1
GENOTYPE_HOM = 2

_REGION = re.compile(r"^(?P<contig>[^:]+)(?::(?P<start>[\d,]+)(?:-(?P<end>[\d,]+))?)?$")

Region = str | tuple[str, int, int]


class StoreError(Exception):
    """A store is missing, incomplete, or of an unknown format version."""


# --------------------------------------------------------------------------
# Import


@dataclass(frozen=True, slots=True)
class ImportSummary:
    path: Path
    n_samples: int
    n_variants: int
    n_carrier_rows: int
    seconds: dict[str, float]  # wall time of each step: explode, encode, index
    # With ``checks``: every problem found in the pass (then nothing is at ``path``) and what the pass saw.
    problems: list[VcfConversionError] = field(default_factory=list)
    conversion: ConversionResult | None = None


def import_vcf(
    vcf_path: str | Path,
    target: str | Path,
    *,
    workers: int = 0,
    engine: str = "native",
    variants_chunk_size: int = 1_000,
    samples_chunk_size: int = 10_000,
    compression_level: int = 1,
    overwrite: bool = False,
    show_progress: bool = False,
    checks: Checks | None = None,
) -> ImportSummary:
    """Convert a germline VCF into a genotype store at ``target``.

    ``engine="native"`` (the default) converts in one pass with
    :mod:`genomics.vcfzarr`: ``workers`` threads (0 or 1: one) parse and
    encode variant chunks, and the variant table and carrier index are built
    from the same in-memory chunks. ``engine="bio2zarr"`` runs bio2zarr's
    explode and encode with ``workers`` processes (0 = in this process), then
    builds the variant table and carrier index from the Zarr. Both write the
    same VCF Zarr layout (see docs/adr/0006-genotype-store-converter.md).

    Everything is written under a temporary directory beside ``target`` and
    renamed into place only when complete.

    ``checks`` (native engine): the same pass checks the file as a release's
    germline VCF (:class:`genomics.vcfzarr.Checks`) and finds every problem;
    when there is one, nothing is left at ``target`` and the summary lists
    them in ``problems``.

    ``compression_level`` is the Blosc/zstd level of every Zarr array. bio2zarr's
    default (7) makes encoding about five times slower for about 20% less
    disk; 1 is the default here because import time gates a release.
    """
    if engine not in ("native", "bio2zarr"):
        raise ValueError(f"unknown engine {engine!r}: native or bio2zarr")
    if checks is not None and engine != "native":
        raise ValueError("checks run in the native engine's pass only")
    vcf_path = Path(vcf_path)
    target = Path(target)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        if engine == "native":
            seconds, n_carriers, conversion = _import_native(
                vcf_path, work, workers, variants_chunk_size, samples_chunk_size, compression_level, checks
            )
            if not conversion.written:
                shutil.rmtree(work)
                return ImportSummary(target, 0, 0, 0, seconds, conversion.problems, conversion)
        else:
            conversion = None
            seconds, n_carriers = _import_bio2zarr(
                vcf_path, work, workers, variants_chunk_size, samples_chunk_size, compression_level, show_progress
            )
        root = zarr.open_group(str(work / GENOTYPES), mode="r")
        stat = vcf_path.stat()
        tools = ("numba", "deflate") if engine == "native" else ("bio2zarr",)
        manifest = {
            "format": STORE_FORMAT,
            "version": STORE_VERSION,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "source": {"path": str(vcf_path.resolve()), "size": stat.st_size, "mtime": int(stat.st_mtime)},
            "engine": engine,
            "n_samples": int(root["sample_id"].shape[0]),
            "n_variants": int(root["variant_position"].shape[0]),
            "n_carrier_rows": n_carriers,
            "variants_chunk_size": variants_chunk_size,
            "samples_chunk_size": samples_chunk_size,
            "tools": {name: metadata.version(name) for name in (*tools, "zarr", "pyarrow", "duckdb")},
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.rename(target, old)
            os.rename(work, target)
            shutil.rmtree(old)
        else:
            os.rename(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    n_samples, n_variants = manifest["n_samples"], manifest["n_variants"]
    assert isinstance(n_samples, int) and isinstance(n_variants, int)
    return ImportSummary(target, n_samples, n_variants, n_carriers, seconds, [], conversion)


class _PackedWriter:
    """The PLINK 1 fileset of hard calls (``PACKED``), appended chunk by chunk in variant order.

    .bed: magic bytes 0x6C 0x1B 0x01 (SNP-major), then one row of
    ceil(samples / 4) bytes per variant; .bim: contig, variant id (the VCF's
    ID, or contig:pos:ref:alt without one), 0, position, A1 = ALT, A2 = REF;
    .fam: FID = IID = sample id, no parents, sex 0, phenotype -9.
    """

    def __init__(self, store_dir: Path, sample_ids: Sequence[str], contig_ids: np.ndarray):
        self.prefix = store_dir / PACKED
        self.prefix.parent.mkdir(parents=True, exist_ok=True)
        self.contig_ids = contig_ids
        with open(f"{self.prefix}.fam", "w") as fam:
            fam.writelines(f"{s}\t{s}\t0\t0\t0\t-9\n" for s in sample_ids)
        self._open()

    def _open(self) -> None:
        self.bed = open(f"{self.prefix}.bed", "wb")  # noqa: SIM115 - closed by close()
        self.bim = open(f"{self.prefix}.bim", "w")  # noqa: SIM115 - closed by close()
        self.bed.write(bytes([0x6C, 0x1B, 0x01]))

    def add(self, columns: Mapping[str, np.ndarray], packed: np.ndarray) -> None:
        self.bed.write(np.ascontiguousarray(packed, dtype=np.uint8).tobytes())
        contigs = self.contig_ids[columns["variant_contig"]]
        positions = columns["variant_position"]
        ids, id_mask = columns["variant_id"], columns["variant_id_mask"]
        alleles = columns["variant_allele"]
        lines = []
        for i in range(len(positions)):
            contig, pos, ref = contigs[i], int(positions[i]), str(alleles[i, 0])
            alt = str(alleles[i, 1]) if alleles.shape[1] > 1 and alleles[i, 1] else "."
            vid = f"{contig}:{pos}:{ref}:{alt}" if id_mask[i] else str(ids[i])
            lines.append(f"{contig}\t{vid}\t0\t{pos}\t{alt}\t{ref}\n")
        self.bim.writelines(lines)

    def restart(self) -> None:
        self.close()
        self._open()

    def close(self) -> None:
        self.bed.close()
        self.bim.close()


class _IndexWriter:
    """Appends, chunk by chunk in variant order, variant-table and carrier rows to the two Parquet
    files and the packed hard calls to the PLINK fileset."""

    def __init__(self, work: Path, sample_ids: Sequence[str], contig_ids: np.ndarray):
        self.work = work
        self.contig_ids = contig_ids
        self.packed = _PackedWriter(work, sample_ids, contig_ids)
        self._open()

    def _open(self) -> None:
        self.variants = pq.ParquetWriter(str(self.work / VARIANTS), _VARIANT_SCHEMA, compression="zstd")
        self.carriers = pq.ParquetWriter(str(self.work / CARRIERS), _CARRIER_SCHEMA, compression="zstd")
        self.n_carrier_rows = 0

    def add(self, chunk: Chunk) -> None:
        assert chunk.fixed is not None and chunk.counts is not None and chunk.carriers is not None
        assert chunk.packed is not None
        v0 = chunk.v0
        self.variants.write_table(_variant_table(_annotation(v0, chunk.fixed, self.contig_ids), chunk.counts))
        vi, si, g = chunk.carriers
        self.carriers.write_table(_carrier_table(vi + v0, si, g))
        self.n_carrier_rows += len(vi)
        self.packed.add(chunk.fixed, chunk.packed)

    def restart(self) -> None:
        """The converter starts again from the first record: drop the rows written so far."""
        self.close()
        self._open()
        self.packed.restart()

    def close(self) -> None:
        self.variants.close()
        self.carriers.close()
        self.packed.close()


def _import_native(
    vcf_path: Path,
    work: Path,
    workers: int,
    variants_chunk_size: int,
    samples_chunk_size: int,
    level: int,
    checks: Checks | None,
) -> tuple[dict[str, float], int, ConversionResult]:
    """One pass: VCF Zarr chunks, variant rows, carrier rows and packed hard calls from the same parsed chunk."""
    clock = time.perf_counter()
    try:
        header = read_header(vcf_path)
    except VcfConversionError:
        if checks is None:
            raise
        return {}, 0, convert(vcf_path, None, checks=checks)  # says what is wrong with the header
    index = _IndexWriter(work, header.samples, np.array([c for c, _ in header.contigs], dtype=object))
    try:
        result = convert(
            vcf_path,
            work / GENOTYPES,
            variants_chunk_size=variants_chunk_size,
            samples_chunk_size=samples_chunk_size,
            compression_level=level,
            threads=max(1, workers),
            on_chunk=index.add,
            on_restart=index.restart,
            checks=checks,
        )
    finally:
        index.close()
    return {"convert": time.perf_counter() - clock}, index.n_carrier_rows, result


def _import_bio2zarr(
    vcf_path: Path,
    work: Path,
    workers: int,
    variants_chunk_size: int,
    samples_chunk_size: int,
    level: int,
    show_progress: bool,
) -> tuple[dict[str, float], int]:
    icf = work / "icf"
    clock = time.perf_counter()
    seconds: dict[str, float] = {}
    b2z_vcf.explode(
        icf,
        [str(vcf_path)],
        worker_processes=workers,
        show_progress=show_progress,
        compressor=_INTERMEDIATE_COMPRESSOR,  # scratch data, deleted below: favour speed
    )
    seconds["explode"] = time.perf_counter() - clock
    clock = time.perf_counter()
    schema_path = work / "schema.json"
    _write_schema(icf, schema_path, variants_chunk_size, samples_chunk_size, level)
    b2z_vcf.encode(
        icf,
        work / GENOTYPES,
        schema_path=schema_path,
        worker_processes=workers,
        show_progress=show_progress,
    )
    schema_path.unlink()
    shutil.rmtree(icf)
    seconds["encode"] = time.perf_counter() - clock
    clock = time.perf_counter()
    n_carriers = _build_indexes(work, threads=max(1, workers))
    _write_packed(work, threads=max(1, workers))
    seconds["index"] = time.perf_counter() - clock
    return seconds, n_carriers


_INTERMEDIATE_COMPRESSOR = numcodecs.Blosc(cname="lz4", clevel=1, shuffle=numcodecs.Blosc.NOSHUFFLE)


def _write_schema(icf: Path, out: Path, variants_chunk_size: int, samples_chunk_size: int, level: int) -> None:
    """bio2zarr's generated schema with chunk sizes and every compressor's level and block size set."""
    source = b2z_vcf.IntermediateColumnarFormat(icf)
    schema = json.loads(
        source.generate_schema(variants_chunk_size=variants_chunk_size, samples_chunk_size=samples_chunk_size).asjson()
    )
    for spec in schema["fields"]:
        compressor = spec.get("compressor") or dict(zarr_utils.DEFAULT_COMPRESSOR_CONFIG)
        if compressor.get("id") == "blosc":
            compressor["clevel"] = level
            compressor["blocksize"] = BLOSC_BLOCKSIZE
            name = spec.get("name", "").removeprefix("call_")
            compressor.update(CALL_SHUFFLE.get(name, {}))
        spec["compressor"] = compressor
    out.write_text(json.dumps(schema))


_VARIANT_SCHEMA = pa.schema(
    [
        ("variant_index", pa.int64()),
        ("contig", pa.string()),
        ("position", pa.int64()),
        ("ref", pa.string()),
        ("alt", pa.string()),
        ("gene", pa.string()),
        ("csq", pa.string()),
        ("popaf", pa.float32()),
        ("ac", pa.int64()),
        ("an", pa.int64()),
        ("n_het", pa.int64()),
        ("n_hom_alt", pa.int64()),
        ("n_missing", pa.int64()),
        ("cohort_af", pa.float64()),
    ]
)
_ANNOTATION_SCHEMA = pa.schema([_VARIANT_SCHEMA.field(i) for i in range(8)])
_CARRIER_SCHEMA = pa.schema(
    [
        ("variant_index", pa.int64()),
        ("sample_index", pa.int32()),
        ("genotype", pa.int8()),
    ]
)


def _build_indexes(store_dir: Path, threads: int = 1) -> int:
    """Write variants.parquet and carriers.parquet from the Zarr, block by block.

    Variant chunks are processed by ``threads`` threads (Zarr decompression and
    the numba kernel release the GIL); at most two chunks per thread are in
    memory at once, and rows are written in variant order.
    """
    root = zarr.open_group(str(store_dir / GENOTYPES), mode="r")
    n_variants = root["call_genotype"].shape[0]
    v_chunk = root["call_genotype"].chunks[0]
    contig_ids = _strings(root["contig_id"][:])
    starts = list(range(0, n_variants, v_chunk))
    window = max(1, 2 * threads)
    n_rows = 0
    with (
        pq.ParquetWriter(str(store_dir / VARIANTS), _VARIANT_SCHEMA, compression="zstd") as vw,
        pq.ParquetWriter(str(store_dir / CARRIERS), _CARRIER_SCHEMA, compression="zstd") as cw,
        ThreadPoolExecutor(max_workers=max(1, threads)) as pool,
    ):
        for w0 in range(0, len(starts), window):
            batch = starts[w0 : w0 + window]
            blocks = pool.map(lambda v0: _index_block(root, v0, min(n_variants, v0 + v_chunk), contig_ids), batch)
            for variants, carriers in blocks:
                vw.write_table(variants)
                cw.write_table(carriers)
                n_rows += carriers.num_rows
    return n_rows


def _write_packed(store_dir: Path, threads: int = 1) -> None:
    """The packed hard calls of a store written by bio2zarr, from its Zarr, chunk by chunk."""
    root = zarr.open_group(str(store_dir / GENOTYPES), mode="r")
    gt_arr = root["call_genotype"]
    n_variants, v_chunk = gt_arr.shape[0], gt_arr.chunks[0]
    writer = _PackedWriter(store_dir, _strings(root["sample_id"][:]).tolist(), _strings(root["contig_id"][:]))
    names = ("variant_contig", "variant_position", "variant_id", "variant_id_mask", "variant_allele")

    def block(v0: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
        v1 = min(n_variants, v0 + v_chunk)
        return {name: np.asarray(root[name][v0:v1]) for name in names}, pack_hard_calls(np.asarray(gt_arr[v0:v1]))

    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for columns, packed in pool.map(block, range(0, n_variants, v_chunk)):
                writer.add(columns, packed)
    finally:
        writer.close()


def _index_block(root: zarr.Group, v0: int, v1: int, contig_ids: np.ndarray) -> tuple[pa.Table, pa.Table]:
    """Variant-table rows and carrier rows of variants v0..v1, one sample chunk at a time."""
    gt_arr = root["call_genotype"]
    n_samples, s_chunk = gt_arr.shape[1], gt_arr.chunks[1]
    counts: AlleleCounts | None = None
    var_idx: list[np.ndarray] = []
    smp_idx: list[np.ndarray] = []
    geno: list[np.ndarray] = []
    for s0 in range(0, n_samples, s_chunk):
        gt = np.asarray(gt_arr[v0:v1, s0 : min(n_samples, s0 + s_chunk)])
        part = allele_counts_by_group(gt)
        counts = part if counts is None else counts + part
        vi, si, g = nonref_calls(gt)
        var_idx.append(vi + v0)
        smp_idx.append(si + s0)
        geno.append(g)
    assert counts is not None
    vi_all, si_all, g_all = np.concatenate(var_idx), np.concatenate(smp_idx), np.concatenate(geno)
    if len(var_idx) > 1:  # several sample chunks: restore (variant, sample) order
        order = np.lexsort((si_all, vi_all))
        vi_all, si_all, g_all = vi_all[order], si_all[order], g_all[order]
    return _variant_table(_annotation_block(root, v0, v1, contig_ids), counts), _carrier_table(vi_all, si_all, g_all)


def _variant_table(annotation: dict[str, np.ndarray], counts: AlleleCounts) -> pa.Table:
    """Rows of variants.parquet: annotation plus whole-cohort counts."""
    ac, an = counts.ac[:, 0], counts.an[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        af = np.where(an > 0, ac / np.maximum(an, 1), np.nan)
    return _table(
        {
            **annotation,
            "ac": ac,
            "an": an,
            "n_het": counts.n_het[:, 0],
            "n_hom_alt": counts.n_hom_alt[:, 0],
            "n_missing": counts.n_missing[:, 0],
            "cohort_af": af,
        },
        _VARIANT_SCHEMA,
    )


def _carrier_table(variant_index: np.ndarray, sample_index: np.ndarray, genotype: np.ndarray) -> pa.Table:
    return pa.table(
        {
            "variant_index": variant_index.astype(np.int64, copy=False),
            "sample_index": sample_index.astype(np.int32, copy=False),
            "genotype": genotype,
        },
        schema=_CARRIER_SCHEMA,
    )


def _table(columns: dict[str, np.ndarray], schema: pa.Schema) -> pa.Table:
    """Arrow table with NaN in float columns turned into nulls (absent POPAF, AF of no calls)."""
    arrays = []
    for f in schema:
        values = columns[f.name]
        if pa.types.is_floating(f.type):
            arrays.append(pa.array(values, type=f.type, mask=np.isnan(values)))
        else:
            arrays.append(pa.array(values, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _strings(values: object) -> np.ndarray:
    """Zarr string arrays (numpy StringDType) as object arrays of ``str``."""
    return np.asarray(values).astype(object)


_ANNOTATION_ARRAYS = (
    "variant_contig",
    "variant_position",
    "variant_allele",
    "variant_GENE",
    "variant_CSQ",
    "variant_POPAF",
)


def _annotation_block(root: zarr.Group, v0: int, v1: int, contig_ids: np.ndarray) -> dict[str, np.ndarray]:
    """Annotation columns of variants v0..v1, read from the Zarr."""
    columns = {name: np.asarray(root[name][v0:v1]) for name in _ANNOTATION_ARRAYS if name in root}
    return _annotation(v0, columns, contig_ids)


def _annotation(v0: int, columns: Mapping[str, np.ndarray], contig_ids: np.ndarray) -> dict[str, np.ndarray]:
    """Annotation columns of the variant table from VCF Zarr arrays of consecutive variants from ``v0``.

    The arrays are read back from the store or were just parsed by the
    converter; absent INFO arrays give empty strings and a null POPAF.
    """
    n = len(columns["variant_position"])
    alleles = columns["variant_allele"].astype(object)

    def strings(name: str) -> np.ndarray:
        values = columns.get(name)
        if values is None:
            return np.full(n, "", dtype=object)
        values = values.astype(object)
        values[values == "."] = ""  # an absent INFO string is kept as "."
        return values

    popaf = columns.get("variant_POPAF")
    return {
        "variant_index": np.arange(v0, v0 + n, dtype=np.int64),
        "contig": contig_ids[columns["variant_contig"]],
        "position": columns["variant_position"].astype(np.int64),
        "ref": alleles[:, 0],
        "alt": alleles[:, 1] if alleles.shape[1] > 1 else np.full(n, "", dtype=object),
        "gene": strings("variant_GENE"),
        "csq": strings("variant_CSQ"),
        "popaf": np.full(n, np.nan, dtype=np.float32) if popaf is None else popaf.reshape(n).astype(np.float32),
    }


# --------------------------------------------------------------------------
# Reading


@dataclass(slots=True)
class GenotypeChunk:
    """Genotypes of consecutive selected variants for the selected samples.

    ``variant_index`` are store-wide variant numbers; ``sample_index`` the
    store-wide sample numbers of the columns, in the order asked for.
    ``gt`` is int8 (n_variants, n_samples, 2), negative = missing; ``ad``
    (n_variants, n_samples, 2), ``dp``, ``gq`` are present when requested.
    """

    variant_index: np.ndarray
    sample_index: np.ndarray
    gt: np.ndarray
    ad: np.ndarray | None = None
    dp: np.ndarray | None = None
    gq: np.ndarray | None = None


@dataclass(slots=True)
class GroupCounts:
    """Allele counts by group for the selected variants."""

    variant_index: np.ndarray
    groups: list[str]
    counts: AlleleCounts

    def for_group(self, name: str) -> AlleleCounts:
        return self.counts.group(self.groups.index(name))


def parse_region(region: Region) -> tuple[str, int, int]:
    """``"chr17"``, ``"chr17:43044295-43125483"`` or a (contig, start, end) tuple, 1-based inclusive."""
    if isinstance(region, tuple):
        contig, start, end = region
        return str(contig), int(start), int(end)
    m = _REGION.match(region.strip())
    if not m:
        raise ValueError(f"cannot read region {region!r}; write it as chr17:43044295-43125483")
    start = int(m["start"].replace(",", "")) if m["start"] else 1
    end = int(m["end"].replace(",", "")) if m["end"] else (start if m["start"] else 2**31 - 1)
    if end < start:
        raise ValueError(f"region {region!r} ends before it starts")
    return m["contig"], start, end


class GenotypeStore:
    """Read access to a genotype store directory written by :func:`import_vcf`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        manifest_path = self.path / MANIFEST
        if not manifest_path.exists():
            raise StoreError(f"{self.path} is not a genotype store (no {MANIFEST})")
        self.manifest = json.loads(manifest_path.read_text())
        if self.manifest.get("format") != STORE_FORMAT or self.manifest.get("version") != STORE_VERSION:
            raise StoreError(
                f"{self.path}: unsupported store format {self.manifest.get('format')} v{self.manifest.get('version')}"
            )
        self.root = zarr.open_group(str(self.path / GENOTYPES), mode="r")
        self._sample_ids = _strings(self.root["sample_id"][:])
        self._sample_pos = {s: i for i, s in enumerate(self._sample_ids)}
        self._contig_ids = _strings(self.root["contig_id"][:])
        self._region_index = np.asarray(self.root["region_index"][:]) if "region_index" in self.root else None
        gt = self.root["call_genotype"]
        self.variants_chunk_size: int = gt.chunks[0]
        self.samples_chunk_size: int = gt.chunks[1]
        # One in-memory DuckDB per store, a cursor per query: opening a
        # connection costs more than a carrier query itself. The store never
        # changes once written, so carrier answers are kept (a few, bounded).
        self._duckdb: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()
        self._carrier_cache: dict[tuple[object, ...], frozenset[int]] = {}
        self._af_cache: dict[str, pa.Table] = {}

    # Basic facts ---------------------------------------------------------

    @property
    def sample_ids(self) -> list[str]:
        return self._sample_ids.tolist()

    @property
    def n_samples(self) -> int:
        return len(self._sample_ids)

    @property
    def n_variants(self) -> int:
        return int(self.root["variant_position"].shape[0])

    @property
    def contigs(self) -> list[str]:
        return self._contig_ids.tolist()

    @property
    def packed_prefix(self) -> Path:
        """Prefix of the packed hard calls (PLINK 1 fileset: ``.bed``, ``.bim``, ``.fam``), written at import.

        Every store sample is in it: readers apply a :class:`SampleMask` themselves.
        """
        return self.path / PACKED

    def every_sample(self) -> SampleMask:
        """The mask of every column: for ingest and administration only."""
        return SampleMask.every_sample(self.n_samples)

    def _check_mask(self, mask: SampleMask) -> SampleMask:
        if not isinstance(mask, SampleMask):
            raise TypeError("mask must be a SampleMask (SampleMask.every_sample for every column)")
        if mask.n_samples != self.n_samples:
            raise ValueError(f"the mask is for {mask.n_samples} samples; the store has {self.n_samples}")
        return mask

    @property
    def fields(self) -> list[str]:
        """Per-call fields present: GT and any of AD, DP, GQ."""
        return [f for f, name in FIELD_ARRAYS.items() if name in self.root]

    def sample_indices(self, sample_ids: Iterable[str]) -> np.ndarray:
        """Column numbers of the given ids, in the given order; ``KeyError`` if one is unknown."""
        out = []
        for s in sample_ids:
            try:
                out.append(self._sample_pos[s])
            except KeyError:
                raise KeyError(f"sample {s!r} is not in the genotype store") from None
        return np.array(out, dtype=np.int64)

    # Variant selection ---------------------------------------------------

    def variant_indices(self, *, region: Region | None = None, gene: str | None = None) -> np.ndarray:
        """Sorted variant numbers with POS inside ``region`` and/or annotated with ``gene``.

        Region lookups read the Zarr region index and only the position chunks
        that overlap; gene lookups use the variant table (Parquet).
        """
        if region is None and gene is None:
            return np.arange(self.n_variants, dtype=np.int64)
        selected: np.ndarray | None = None
        if region is not None:
            selected = self._region_indices(*parse_region(region))
        if gene is not None:
            sql = f"SELECT variant_index FROM {self._variants_sql} WHERE gene = ? ORDER BY 1"  # noqa: S608 - value bound
            rows = self._query(sql, [gene])
            by_gene = np.array([r[0] for r in rows], dtype=np.int64)
            selected = by_gene if selected is None else np.intersect1d(selected, by_gene)
        assert selected is not None
        return selected

    def _region_indices(self, contig: str, start: int, end: int) -> np.ndarray:
        matches = np.flatnonzero(self._contig_ids == contig)
        if len(matches) == 0:
            return np.zeros(0, dtype=np.int64)
        cid = int(matches[0])
        vc = self.variants_chunk_size
        if self._region_index is not None:
            ri = self._region_index
            hit = (ri[:, 1] == cid) & (ri[:, 2] <= end) & (ri[:, 4] >= start)
            chunks = np.unique(ri[hit, 0])
        else:
            chunks = np.arange(-(-self.n_variants // vc))
        pos_arr, contig_arr = self.root["variant_position"], self.root["variant_contig"]
        out = []
        for c in chunks:
            v0 = int(c) * vc
            v1 = min(self.n_variants, v0 + vc)
            pos = np.asarray(pos_arr[v0:v1])
            con = np.asarray(contig_arr[v0:v1])
            out.append(v0 + np.flatnonzero((con == cid) & (pos >= start) & (pos <= end)))
        return np.concatenate(out).astype(np.int64) if out else np.zeros(0, dtype=np.int64)

    def variants(self, *, region: Region | None = None, gene: str | None = None) -> pa.Table:
        """Variant table (variant_index, contig, position, ref, alt, gene, csq, popaf) from the Zarr."""
        idx = self.variant_indices(region=region, gene=gene)
        parts = []
        for block in self._split_by_chunk(idx):
            v0, v1 = int(block[0]), int(block[-1]) + 1
            ann = _annotation_block(self.root, v0, v1, self._contig_ids)
            keep = block - v0
            parts.append(_table({k: v[keep] for k, v in ann.items()}, _ANNOTATION_SCHEMA))
        if not parts:
            return _ANNOTATION_SCHEMA.empty_table()
        return pa.concat_tables(parts)

    def variant_contigs(self) -> np.ndarray:
        """Contig number (an index into :attr:`contigs`) of every variant, in variant order."""
        return np.asarray(self.root["variant_contig"][:], dtype=np.int64)

    def annotation_of(self, indices: np.ndarray) -> pa.Table:
        """Annotation of the given variants (the columns of :meth:`variants`), in the order given.

        Read from variants.parquet, the annotation columns only: one read of a few MB where
        :meth:`variants` decodes the Zarr's string arrays of every variant chunk."""
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_variants):
            raise IndexError(f"variant numbers outside 0..{self.n_variants - 1}")
        table = pq.read_table(self.path / VARIANTS, columns=_ANNOTATION_SCHEMA.names)
        out = table.take(pa.array(idx)).cast(_ANNOTATION_SCHEMA)
        if not np.array_equal(out.column("variant_index").to_numpy(), idx):  # one row per variant, in order
            raise ValueError(f"{self.path / VARIANTS} does not hold one row per variant in order")
        return out

    def _split_by_chunk(self, idx: np.ndarray) -> list[np.ndarray]:
        if len(idx) == 0:
            return []
        chunk_of = idx // self.variants_chunk_size
        cuts = np.flatnonzero(np.diff(chunk_of)) + 1
        return np.split(idx, cuts)

    # Genotype chunks -----------------------------------------------------

    def iter_chunks(
        self,
        *,
        mask: SampleMask,
        region: Region | None = None,
        gene: str | None = None,
        samples: Sequence[str] | None = None,
        fields: Sequence[str] = ("GT",),
        variant_indices: np.ndarray | None = None,
    ) -> Iterator[GenotypeChunk]:
        """Genotypes of the selected variants, one Zarr variant chunk at a time.

        Only the samples of ``mask`` are read (``samples``, a subset of them,
        in the order given); a sample outside it is a ``KeyError``, as an
        unknown one is. Only chunks holding selected variants are read, and
        for a sample subset only the sample chunks holding them. Memory is
        one variant chunk times the selected samples.
        """
        self._check_mask(mask)
        unknown = [f for f in fields if f not in FIELD_ARRAYS]
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; choose from {list(FIELD_ARRAYS)}")
        absent = [f for f in fields if FIELD_ARRAYS[f] not in self.root]
        if absent:
            raise ValueError(f"the store has no {', '.join(absent)}")
        idx = variant_indices if variant_indices is not None else self.variant_indices(region=region, gene=gene)
        if samples is not None:
            s_idx: np.ndarray | None = self.sample_indices(samples)
            assert s_idx is not None
            outside = [s for s, i in zip(samples, s_idx, strict=True) if not mask.keep[i]]
            if outside:
                raise KeyError(f"sample {outside[0]!r} is outside the sample mask")
        else:
            s_idx = None if mask.is_everything else mask.indices
        for block in self._split_by_chunk(np.asarray(idx, dtype=np.int64)):
            yield self._read_block(block, s_idx, fields)

    def _read_block(self, block: np.ndarray, s_idx: np.ndarray | None, fields: Sequence[str]) -> GenotypeChunk:
        v0, v1 = int(block[0]), int(block[-1]) + 1
        rows = block - v0
        contiguous = len(block) == v1 - v0
        out: dict[str, np.ndarray] = {}
        if s_idx is not None:
            order = np.argsort(s_idx, kind="stable")
            sorted_s = s_idx[order]
            back = np.empty_like(order)
            back[order] = np.arange(len(order))
        for f in ("GT", *[f for f in fields if f != "GT"]):
            arr = self.root[FIELD_ARRAYS[f]]
            data = np.asarray(arr[v0:v1]) if s_idx is None else np.asarray(arr.oindex[slice(v0, v1), sorted_s])[:, back]
            out[f] = data if contiguous else data[rows]
        return GenotypeChunk(
            variant_index=block,
            sample_index=s_idx if s_idx is not None else np.arange(self.n_samples, dtype=np.int64),
            gt=out["GT"],
            ad=out.get("AD"),
            dp=out.get("DP"),
            gq=out.get("GQ"),
        )

    def genotype_matrix(
        self,
        *,
        mask: SampleMask,
        region: Region | None = None,
        gene: str | None = None,
        samples: Sequence[str] | None = None,
    ) -> np.ndarray:
        """All selected genotypes of the mask's samples as one array: for small selections (tests, single genes)."""
        parts = [c.gt for c in self.iter_chunks(mask=mask, region=region, gene=gene, samples=samples)]
        n_s = len(samples) if samples is not None else mask.n_kept
        return np.concatenate(parts) if parts else np.zeros((0, n_s, 2), dtype=np.int8)

    # Statistics ----------------------------------------------------------

    def allele_counts(
        self,
        groups: Mapping[str, Sequence[str]] | None = None,
        *,
        mask: SampleMask,
        region: Region | None = None,
        gene: str | None = None,
    ) -> GroupCounts:
        """AC, AN, het and hom-alt counts per variant for each named group of samples.

        Without ``groups`` the mask's samples are one group called ``"all"``.
        A group member outside ``mask`` is skipped by the counting kernel (its
        group number is -1), so it adds nothing. Reads one (variant chunk x
        sample chunk) block at a time, and no sample chunk without a sample
        to count.
        """
        self._check_mask(mask)
        if groups is None:
            groups = {"all": self.sample_ids}
        group_of, names = group_index(self.sample_ids, dict(groups))
        group_of[~mask.keep] = -1
        idx = self.variant_indices(region=region, gene=gene)
        arr = self.root["call_genotype"]
        sc = self.samples_chunk_size
        parts: list[AlleleCounts] = []
        for block in self._split_by_chunk(idx):
            v0, v1 = int(block[0]), int(block[-1]) + 1
            total: AlleleCounts | None = None
            for s0 in range(0, self.n_samples, sc):
                s1 = min(self.n_samples, s0 + sc)
                g = group_of[s0:s1]
                if not (g >= 0).any():
                    continue
                gt = np.asarray(arr[v0:v1, s0:s1])[block - v0]
                part = allele_counts_by_group(gt, g, len(names))
                total = part if total is None else total + part
            if total is None:
                total = allele_counts_by_group(
                    np.zeros((len(block), 0, 2), dtype=np.int8), np.zeros(0, dtype=np.int64), len(names)
                )
            parts.append(total)
        return GroupCounts(idx, names, AlleleCounts.concatenate(parts, len(names)))

    # Carrier index -------------------------------------------------------

    @property
    def _variants_sql(self) -> str:
        return _parquet_sql(self.path / VARIANTS)

    @property
    def _carriers_sql(self) -> str:
        return _parquet_sql(self.path / CARRIERS)

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._duckdb is None:
                self._duckdb = duckdb.connect(":memory:")
            return self._duckdb.cursor()

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        cursor = self._cursor()
        try:
            return cursor.execute(sql, list(params)).fetchall()
        finally:
            cursor.close()

    def variant_table(
        self,
        *,
        gene: str | None = None,
        region: Region | None = None,
        consequences: Sequence[str] | None = None,
        max_popaf: float | None = None,
        max_cohort_af: float | None = None,
    ) -> pa.Table:
        """Rows of variants.parquet (annotation + cohort counts) matching the filters.

        The counts and ``max_cohort_af`` here are over every column of the
        store, as written at import: for administration and tests, never for
        a read on behalf of a researcher (:meth:`carriers` takes a mask).
        """
        where, params = self._variant_filters(gene, region, consequences, max_popaf, max_cohort_af)
        cursor = self._cursor()
        try:
            # The WHERE clause is built from fixed fragments; every value is a bound parameter.
            sql = f"SELECT * FROM {self._variants_sql} WHERE {where} ORDER BY variant_index"  # noqa: S608
            return cursor.sql(sql, params=params).to_arrow_table()
        finally:
            cursor.close()

    def carriers(
        self,
        *,
        mask: SampleMask,
        gene: str | None = None,
        region: Region | None = None,
        consequences: Sequence[str] | None = None,
        max_popaf: float | None = None,
        max_cohort_af: float | None = None,
        genotype: str = "any",
    ) -> set[int]:
        """Numbers of the mask's samples carrying at least one variant that passes every filter.

        The mask is part of the DuckDB query (a semi-join of the carrier rows
        on its samples), so a sample outside it is never read into an answer.
        ``max_popaf``: keep variants with POPAF <= value or no POPAF (novel).
        ``max_cohort_af``: keep variants with cohort AF <= value, the AF over
        the mask's samples only (:meth:`cohort_af`); a variant with no call
        among them has no AF and does not pass.
        ``genotype``: ``"het"``, ``"hom"`` (hom-alt) or ``"any"`` non-reference call.
        """
        self._check_mask(mask)
        if genotype not in {"het", "hom", "any"}:
            raise ValueError("genotype must be 'het', 'hom' or 'any'")
        region_key = tuple(region) if isinstance(region, list) else region
        key = (
            gene,
            region_key,
            tuple(consequences) if consequences is not None else None,
            max_popaf,
            max_cohort_af,
            genotype,
            mask.key,
        )
        with self._lock:
            cached = self._carrier_cache.get(key)
        if cached is not None:
            return set(cached)
        where, params = self._variant_filters(gene, region, consequences, max_popaf, None)
        if max_cohort_af is not None:
            # The AF under the mask (a registered table), never the variant
            # table's AF over every column: a masked sample's genotypes must
            # not move which variants pass.
            where += " AND variant_index IN (SELECT variant_index FROM mask_af WHERE cohort_af <= ?)"
            params.append(float(max_cohort_af))
        gt_clause = {"het": f"c.genotype = {GENOTYPE_HET}", "hom": f"c.genotype = {GENOTYPE_HOM}", "any": "TRUE"}[
            genotype
        ]
        # The WHERE clause is built from fixed fragments; every value is a bound parameter.
        mask_clause = "" if mask.is_everything else " AND c.sample_index IN (SELECT sample_index FROM sample_mask)"
        sql = (
            f"WITH v AS (SELECT variant_index FROM {self._variants_sql} WHERE {where}) "  # noqa: S608
            f"SELECT DISTINCT c.sample_index FROM {self._carriers_sql} AS c "
            f"WHERE c.variant_index IN (SELECT variant_index FROM v) AND {gt_clause}{mask_clause}"
        )
        cursor = self._cursor()
        try:
            if mask_clause:
                cursor.register("sample_mask", pa.table({"sample_index": pa.array(mask.indices, type=pa.int32())}))
            if max_cohort_af is not None:
                cursor.register("mask_af", self.cohort_af(mask=mask))
            rows = cursor.execute(sql, params).fetchall()
        finally:
            cursor.close()
        found = frozenset(int(r[0]) for r in rows)
        with self._lock:
            if len(self._carrier_cache) >= CARRIER_CACHE_SIZE:
                self._carrier_cache.pop(next(iter(self._carrier_cache)))
            self._carrier_cache[key] = found
        return set(found)

    def forget_carriers(self) -> None:
        """Drop the remembered carrier answers and cohort AFs (benchmarks measure lookups)."""
        with self._lock:
            self._carrier_cache.clear()
            self._af_cache.clear()

    def cohort_af(self, *, mask: SampleMask) -> pa.Table:
        """Cohort allele frequency of every variant over the mask's samples only.

        A table (``variant_index`` int64, ``cohort_af`` float64, null where no
        sample of the mask has a call), computed in the kernel: hard-call
        counts of the mask's columns from the packed matrix
        (:meth:`genomics.bed.PackedGenotypes.group_counts`: (het + 2 hom-alt)
        / 2 called; a half call is missing, as in the packed matrix), or, for
        a store written without one, the counting kernel over the Zarr with
        the masked columns left out. Kept per mask key, so a withdrawal (a new
        mask) gets a new AF.
        """
        self._check_mask(mask)
        with self._lock:
            cached = self._af_cache.get(mask.key)
        if cached is not None:
            return cached
        af = self._packed_af(mask)
        if af is None:
            af = self.allele_counts(mask=mask).counts.af[:, 0]
        table = pa.table(
            {
                "variant_index": pa.array(np.arange(self.n_variants, dtype=np.int64)),
                "cohort_af": pa.array(af, type=pa.float64(), from_pandas=True),  # NaN (no call) -> null
            }
        )
        with self._lock:
            if len(self._af_cache) >= AF_CACHE_SIZE:
                self._af_cache.pop(next(iter(self._af_cache)))
            self._af_cache[mask.key] = table
        return table

    def _packed_af(self, mask: SampleMask) -> np.ndarray | None:
        """AF over the mask's columns from the packed hard calls; None without a packed matrix of this store."""
        if not Path(f"{self.packed_prefix}.bed").exists():
            return None
        packed = PackedGenotypes(self.packed_prefix)
        try:
            if packed.n_samples != self.n_samples or packed.n_variants != self.n_variants:
                raise StoreError(f"{self.packed_prefix}.bed does not match the store's samples and variants")
            counts = packed.group_counts([mask.indices])[:, 0]
        finally:
            packed.close()
        called = counts[:, HOM_REF] + counts[:, HET] + counts[:, HOM_ALT]
        alt = counts[:, HET] + 2 * counts[:, HOM_ALT]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(called > 0, alt / np.maximum(2 * called, 1), np.nan)

    def carrier_ids(self, *, mask: SampleMask, **filters: object) -> set[str]:
        """Like :meth:`carriers` but returns sample ids."""
        return {str(self._sample_ids[i]) for i in self.carriers(mask=mask, **filters)}  # type: ignore[arg-type]

    def _variant_filters(
        self,
        gene: str | None,
        region: Region | None,
        consequences: Sequence[str] | None,
        max_popaf: float | None,
        max_cohort_af: float | None,
    ) -> tuple[str, list[object]]:
        clauses = ["TRUE"]
        params: list[object] = []
        if gene is not None:
            clauses.append("gene = ?")
            params.append(gene)
        if region is not None:
            contig, start, end = parse_region(region)
            clauses.append("contig = ? AND position BETWEEN ? AND ?")
            params.extend([contig, start, end])
        if consequences is not None:
            clauses.append("list_contains(?, csq)")
            params.append(list(consequences))
        if max_popaf is not None:
            clauses.append("(popaf IS NULL OR popaf <= ?)")
            params.append(float(max_popaf))
        if max_cohort_af is not None:
            clauses.append("cohort_af <= ?")
            params.append(float(max_cohort_af))
        return " AND ".join(clauses), params


def _parquet_sql(path: Path) -> str:
    # Paths come from the store itself, never from users; quote defensively all the same.
    return "read_parquet('" + str(path).replace("'", "''") + "')"


# --------------------------------------------------------------------------
# PLINK export


def export_plink(
    store: GenotypeStore,
    out_prefix: str | Path,
    *,
    mask: SampleMask,
    region: Region | None = None,
    gene: str | None = None,
    samples: Sequence[str] | None = None,
) -> Path:
    """Write PLINK 1 ``.bed``/``.bim``/``.fam`` for the selection (A1 = ALT, A2 = REF).

    Only the samples of ``mask`` are read and written (``samples``: a subset
    of them, in that order). Streams one variant chunk at a time. Variant ids
    are ``contig:pos:ref:alt``; family and parental columns are left unknown.
    """
    prefix = Path(out_prefix)
    all_ids = store.sample_ids
    sample_ids = list(samples) if samples is not None else [all_ids[i] for i in mask.indices]
    with open(f"{prefix}.fam", "w") as fam:
        for s in sample_ids:
            fam.write(f"{s}\t{s}\t0\t0\t0\t-9\n")
    # PLINK 1 bed codes with A1 = ALT: 0b00 hom A1, 0b10 het, 0b11 hom A2, 0b01 missing.
    with open(f"{prefix}.bed", "wb") as bed, open(f"{prefix}.bim", "w") as bim:
        bed.write(bytes([0x6C, 0x1B, 0x01]))
        for chunk in store.iter_chunks(mask=mask, region=region, gene=gene, samples=samples):
            bed.write(pack_hard_calls(chunk.gt).tobytes())
            ann = _annotation_block(
                store.root, int(chunk.variant_index[0]), int(chunk.variant_index[-1]) + 1, store._contig_ids
            )
            keep = chunk.variant_index - chunk.variant_index[0]
            for i in keep:
                contig, pos, ref, alt = ann["contig"][i], ann["position"][i], ann["ref"][i], ann["alt"][i]
                bim.write(f"{contig}\t{contig}:{pos}:{ref}:{alt}\t0\t{pos}\t{alt}\t{ref}\n")
    return prefix
