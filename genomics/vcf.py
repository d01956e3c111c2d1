"""Writing bgzipped, tabix-indexed VCF 4.2: germline multi-sample and somatic.

Compression and indexing go through htslib (``pysam.libcbgzf.BGZFile`` and
``pysam.tabix_index``). Germline genotype columns are formatted with numpy a
block of sites at a time, so a 10,000-sample file is written in bounded memory
and at a few hundred MB of text per second before compression.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam
from pysam.libcbgzf import BGZFile

from genomics.genes import CANCER_GENES, CONTIG_LENGTHS, Gene, GeneTable, contig_sort_key
from genomics.simulate import SiteChunk

GERMLINE_FORMAT_FIELDS = ("GT", "AD", "DP", "GQ")
SOMATIC_SAMPLES = ("NORMAL", "TUMOR")

_INFO_HEADER = (
    '##INFO=<ID=GENE,Number=1,Type=String,Description="Gene symbol">',
    '##INFO=<ID=CSQ,Number=1,Type=String,Description="Most severe Sequence Ontology consequence">',
    '##INFO=<ID=POPAF,Number=1,Type=Float,Description="Population allele frequency">',
)
_FORMAT_HEADER = {
    "GT": '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    "AD": '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt alleles">',
    "DP": '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
    "GQ": '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
}

# Bytes of one formatted call: GT(3) ':' AD0(3) ',' AD1(3) ':' DP(3) ':' GQ(2) TAB
_WIDTH_FULL = 19
_WIDTH_GT = 4
_ASCII_ZERO = ord("0")


def vcf_header_lines(
    sample_ids: Sequence[str],
    contigs: Iterable[str],
    *,
    format_fields: Sequence[str] = GERMLINE_FORMAT_FIELDS,
    info: bool = True,
    source: str = "genomics.simulate",
) -> list[str]:
    """Header lines (without trailing newlines), ending with the #CHROM line."""
    lines = [
        "##fileformat=VCFv4.2",
        f"##fileDate={dt.datetime.now(dt.UTC):%Y%m%d}",
        f"##source={source}",
        "##reference=GRCh38",
    ]
    for c in sorted(contigs, key=contig_sort_key):
        length = CONTIG_LENGTHS.get(c)
        lines.append(f"##contig=<ID={c},length={length}>" if length else f"##contig=<ID={c}>")
    lines.append('##FILTER=<ID=PASS,Description="All filters passed">')
    if info:
        lines.extend(_INFO_HEADER)
    lines.extend(_FORMAT_HEADER[f] for f in format_fields)
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *sample_ids]))
    return lines


def _digits(values: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """ASCII digits of non-negative ints, right-aligned in ``width`` slots, with a keep-mask."""
    v = np.clip(values.astype(np.int32), 0, 10**width - 1)
    out = np.empty((*v.shape, width), dtype=np.uint8)
    keep = np.empty((*v.shape, width), dtype=bool)
    for k in range(width):
        power = 10 ** (width - 1 - k)
        out[..., k] = (v // power) % 10 + _ASCII_ZERO
        keep[..., k] = (v >= power) if k < width - 1 else True
    return out, keep


def format_genotype_block(
    gt: np.ndarray,
    ad: np.ndarray | None = None,
    dp: np.ndarray | None = None,
    gq: np.ndarray | None = None,
) -> list[bytes]:
    """Sample columns for a block of sites, one ``bytes`` per site (no newline).

    ``gt`` is int8 (n_sites, n_samples, 2) with -1 missing; a missing call is
    written ``./.`` with its other fields dropped, as VCF allows.
    """
    n_sites, n_samples, _ = gt.shape
    full = ad is not None and dp is not None and gq is not None
    width = _WIDTH_FULL if full else _WIDTH_GT
    buf = np.empty((n_sites, n_samples, width), dtype=np.uint8)
    keep = np.ones((n_sites, n_samples, width), dtype=bool)
    allele = np.where(gt < 0, ord("."), gt + _ASCII_ZERO).astype(np.uint8)
    buf[..., 0] = allele[..., 0]
    buf[..., 1] = ord("/")
    buf[..., 2] = allele[..., 1]
    if full:
        assert ad is not None and dp is not None and gq is not None
        buf[..., 3] = ord(":")
        buf[..., 4:7], keep[..., 4:7] = _digits(ad[..., 0], 3)
        buf[..., 7] = ord(",")
        buf[..., 8:11], keep[..., 8:11] = _digits(ad[..., 1], 3)
        buf[..., 11] = ord(":")
        buf[..., 12:15], keep[..., 12:15] = _digits(dp, 3)
        buf[..., 15] = ord(":")
        buf[..., 16:18], keep[..., 16:18] = _digits(gq, 2)
        missing = gt[..., 0] < 0
        keep[missing, 3:18] = False
    buf[..., -1] = ord("\t")
    buf[:, -1, -1] = ord("\n")
    lengths = keep.sum(axis=(1, 2))
    flat = buf[keep].tobytes()
    out = []
    offset = 0
    for n in lengths:
        out.append(flat[offset : offset + n - 1])  # drop the final newline; caller adds it
        offset += n
    return out


def _info_field(gene: str, csq: str, popaf: float) -> str:
    parts = []
    if gene:
        parts.append(f"GENE={gene}")
    if csq:
        parts.append(f"CSQ={csq}")
    if not np.isnan(popaf):
        parts.append(f"POPAF={popaf:.3g}")
    return ";".join(parts) if parts else "."


def write_germline_vcf(
    path: str | Path,
    sample_ids: Sequence[str],
    contigs: Iterable[str],
    chunks: Iterable[SiteChunk],
    *,
    format_fields: Sequence[str] = GERMLINE_FORMAT_FIELDS,
    index: bool = True,
    compress_level: int = 6,
    max_block_bytes: int = 64 * 1024 * 1024,
) -> Path:
    """Stream site chunks into a bgzipped VCF and (by default) a tabix index.

    ``format_fields`` is ``("GT",)`` or ``("GT", "AD", "DP", "GQ")``. The file is
    written to ``<path>.part`` and renamed when complete. ``compress_level``
    is the deflate level (bgzip's default is 6; 1 writes about twice as fast).
    Returns ``path``.
    """
    if not 0 <= compress_level <= 9:
        raise ValueError("compress_level must be 0-9")
    path = Path(path)
    fields = tuple(format_fields)
    if fields not in {("GT",), GERMLINE_FORMAT_FIELDS}:
        raise ValueError("format_fields must be ('GT',) or ('GT', 'AD', 'DP', 'GQ')")
    full = fields == GERMLINE_FORMAT_FIELDS
    width = _WIDTH_FULL if full else _WIDTH_GT
    lines_per_block = max(1, max_block_bytes // (width * max(1, len(sample_ids)) * 3))
    fmt = ":".join(fields)
    part = path.with_name(path.name + ".part")
    with BGZFile(str(part), f"wb{compress_level}") as out:  # type: ignore[arg-type,call-arg]
        header = "\n".join(vcf_header_lines(sample_ids, contigs, format_fields=fields)) + "\n"
        out.write(header.encode())
        for chunk in chunks:
            if chunk.gt.shape[1] != len(sample_ids):
                raise ValueError("chunk genotype columns do not match the sample ids")
            if full and chunk.ad is None:
                raise ValueError("AD/DP/GQ requested but the chunk has none")
            for s in range(0, len(chunk), lines_per_block):
                e = min(len(chunk), s + lines_per_block)
                if full:
                    cols = format_genotype_block(chunk.gt[s:e], chunk.ad[s:e], chunk.dp[s:e], chunk.gq[s:e])  # type: ignore[index]
                else:
                    cols = format_genotype_block(chunk.gt[s:e])
                pieces = []
                for i, col in zip(range(s, e), cols, strict=True):
                    fixed = (
                        f"{chunk.chrom[i]}\t{chunk.pos[i]}\t.\t{chunk.ref[i]}\t{chunk.alt[i]}\t.\tPASS\t"
                        f"{_info_field(chunk.gene[i], chunk.csq[i], float(chunk.popaf[i]))}\t{fmt}\t"
                    )
                    pieces.append(fixed.encode())
                    pieces.append(col)
                    pieces.append(b"\n")
                out.write(b"".join(pieces))
    os.replace(part, path)
    if index:
        tabix_index(path)
    return path


def tabix_index(path: str | Path) -> Path:
    """(Re)build the ``.tbi`` index of a bgzipped VCF; returns the index path."""
    pysam.tabix_index(str(path), preset="vcf", force=True, keep_original=True)
    return Path(str(path) + ".tbi")


# --------------------------------------------------------------------------
# Somatic


@dataclass(frozen=True, slots=True)
class SomaticVariant:
    """One somatic call: NORMAL 0/0 and TUMOR 0/1 with read counts."""

    chrom: str
    pos: int
    ref: str
    alt: str
    gene: str
    csq: str
    normal_ad: tuple[int, int]
    tumour_ad: tuple[int, int]

    @property
    def vaf(self) -> float:
        return self.tumour_ad[1] / max(1, sum(self.tumour_ad))


# Recurrent hotspots (approximate GRCh38 positions; alleles as commonly reported).
HOTSPOTS: tuple[tuple[str, str, int, str, str, str], ...] = (
    ("KRAS", "chr12", 25245350, "C", "T", "missense_variant"),  # G12D
    ("KRAS", "chr12", 25245351, "C", "A", "missense_variant"),  # G12V-like
    ("PIK3CA", "chr3", 179234297, "A", "G", "missense_variant"),  # H1047R
    ("PIK3CA", "chr3", 179218303, "G", "A", "missense_variant"),  # E545K
    ("BRAF", "chr7", 140753336, "A", "T", "missense_variant"),  # V600E
    ("TP53", "chr17", 7675088, "C", "T", "missense_variant"),  # R175H
    ("TP53", "chr17", 7673802, "C", "T", "missense_variant"),  # R273H
    ("IDH1", "chr2", 208248388, "C", "T", "missense_variant"),  # R132H
    ("NRAS", "chr1", 114713908, "T", "C", "missense_variant"),  # Q61R
    ("EGFR", "chr7", 55191822, "T", "G", "missense_variant"),  # L858R
)
_SOMATIC_CSQ = ("missense_variant", "stop_gained", "frameshift_variant", "synonymous_variant", "splice_donor_variant")
_SOMATIC_CSQ_WEIGHTS = np.array([0.55, 0.15, 0.12, 0.13, 0.05])


def simulate_somatic_variants(
    genes: GeneTable,
    *,
    seed: int,
    n_variants: int = 20,
    cancer_gene_fraction: float = 0.5,
    hotspot_fraction: float = 0.15,
    purity: float | None = None,
    mean_depth: float = 60.0,
) -> list[SomaticVariant]:
    """Somatic SNVs/indels for one tumour, enriched in known cancer genes.

    A fraction fall in :data:`CANCER_GENES` (some at recurrent hotspots), the
    rest in any gene of the table. Tumour VAF is Beta-distributed around half
    the purity (heterozygous clonal and subclonal calls); AD is drawn from it.
    Returned sorted by position.
    """
    rng = np.random.default_rng(seed)
    purity = float(rng.uniform(0.4, 0.9)) if purity is None else purity
    cancer = [genes.get(s) for s in CANCER_GENES if s in genes]
    hotspots = [h for h in HOTSPOTS if h[0] in genes]
    out: dict[tuple[str, int], SomaticVariant] = {}
    while len(out) < n_variants:
        u = rng.random()
        if hotspots and u < hotspot_fraction:
            sym, chrom, pos, ref, alt, csq = hotspots[int(rng.integers(len(hotspots)))]
        else:
            pool: Sequence[Gene] = cancer if (cancer and u < cancer_gene_fraction) else list(genes)
            g = pool[int(rng.integers(len(pool)))]
            sym, chrom, pos = g.symbol, g.chrom, int(rng.integers(g.start, g.end + 1))
            csq = str(rng.choice(_SOMATIC_CSQ, p=_SOMATIC_CSQ_WEIGHTS / _SOMATIC_CSQ_WEIGHTS.sum()))
            ref = str(rng.choice(list("ACGT")))
            if csq == "frameshift_variant":
                alt = ref + str(rng.choice(list("ACGT")))
            else:
                alt = str(rng.choice([b for b in "ACGT" if b != ref]))
        if (chrom, pos) in out:
            continue
        clonal = rng.random() < 0.7
        mean_vaf = purity / 2 if clonal else purity / 2 * rng.uniform(0.2, 0.6)
        vaf = float(rng.beta(20 * mean_vaf + 1, 20 * (1 - mean_vaf) + 1))
        t_dp = max(10, int(rng.poisson(mean_depth)))
        t_alt = max(3, int(rng.binomial(t_dp, vaf)))
        n_dp = max(10, int(rng.poisson(mean_depth / 2)))
        n_alt = int(rng.binomial(n_dp, 0.002))
        out[(chrom, pos)] = SomaticVariant(
            chrom=chrom,
            pos=pos,
            ref=ref,
            alt=alt,
            gene=sym,
            csq=csq,
            normal_ad=(n_dp - n_alt, n_alt),
            tumour_ad=(t_dp - min(t_alt, t_dp), min(t_alt, t_dp)),
        )
    return sorted(out.values(), key=lambda v: (contig_sort_key(v.chrom), v.pos))


def write_somatic_vcf(
    path: str | Path,
    variants: Iterable[SomaticVariant],
    *,
    contigs: Iterable[str] | None = None,
    index: bool = True,
) -> Path:
    """Write a two-sample (NORMAL, TUMOR) bgzipped VCF with GT:AD:DP, plus index."""
    path = Path(path)
    records = sorted(variants, key=lambda v: (contig_sort_key(v.chrom), v.pos))
    contig_set = set(contigs) if contigs is not None else {v.chrom for v in records}
    header = vcf_header_lines(SOMATIC_SAMPLES, contig_set, format_fields=("GT", "AD", "DP"), source="genomics.vcf")
    part = path.with_name(path.name + ".part")
    with BGZFile(str(part), "wb") as out:  # type: ignore[call-arg]
        out.write(("\n".join(header) + "\n").encode())
        for v in records:
            info = _info_field(v.gene, v.csq, float("nan"))
            normal = f"0/0:{v.normal_ad[0]},{v.normal_ad[1]}:{sum(v.normal_ad)}"
            tumour = f"0/1:{v.tumour_ad[0]},{v.tumour_ad[1]}:{sum(v.tumour_ad)}"
            line = f"{v.chrom}\t{v.pos}\t.\t{v.ref}\t{v.alt}\t.\tPASS\t{info}\tGT:AD:DP\t{normal}\t{tumour}\n"
            out.write(line.encode())
    os.replace(part, path)
    if index:
        tabix_index(path)
    return path
