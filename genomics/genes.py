"""Gene tables: the ``genes.tsv`` of a release bundle and the curated default.

A gene table has one row per gene: ``symbol``, ``chrom``, ``start``, ``end``,
``strand`` with 1-based inclusive coordinates. The default table shipped in
``genomics/data/genes_grch38.tsv`` lists about 200 real human genes with
*approximate* GRCh38 coordinates; it is meant for synthetic releases only.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

GENE_TABLE_COLUMNS = ("symbol", "chrom", "start", "end", "strand")

# Canonical contig order (GRCh38 style names) and approximate lengths, used for
# sorting records and for VCF ##contig header lines.
CONTIG_LENGTHS: dict[str, int] = {
    "chr1": 248956422,
    "chr2": 242193529,
    "chr3": 198295559,
    "chr4": 190214555,
    "chr5": 181538259,
    "chr6": 170805979,
    "chr7": 159345973,
    "chr8": 145138636,
    "chr9": 138394717,
    "chr10": 133797422,
    "chr11": 135086622,
    "chr12": 133275309,
    "chr13": 114364328,
    "chr14": 107043718,
    "chr15": 101991189,
    "chr16": 90338345,
    "chr17": 83257441,
    "chr18": 80373285,
    "chr19": 58617616,
    "chr20": 64444167,
    "chr21": 46709983,
    "chr22": 50818468,
    "chrX": 156040895,
    "chrY": 57227415,
}
CONTIG_ORDER: dict[str, int] = {name: i for i, name in enumerate(CONTIG_LENGTHS)}

# Genes recurrently mutated in cancer; somatic simulation enriches for them.
CANCER_GENES: tuple[str, ...] = (
    "TP53", "PIK3CA", "KRAS", "APC", "BRCA1", "BRCA2", "PTEN", "EGFR", "BRAF",
    "NRAS", "IDH1", "CTNNB1", "ARID1A", "FBXW7", "SMAD4", "CDKN2A", "RB1",
    "NF1", "ERBB2", "KMT2D", "ATM", "CDH1", "MAP2K1", "AKT1", "STK11",
    "KEAP1", "SETD2", "BAP1", "VHL", "GNAS", "NOTCH1", "TERT",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Gene:
    """One gene: 1-based inclusive span on a contig."""

    symbol: str
    chrom: str
    start: int
    end: int
    strand: str

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def contains(self, chrom: str, pos: int) -> bool:
        return chrom == self.chrom and self.start <= pos <= self.end


def contig_sort_key(chrom: str) -> tuple[int, str]:
    """Sort key putting contigs in GRCh38 order, unknown contigs last by name."""
    return (CONTIG_ORDER.get(chrom, len(CONTIG_ORDER)), chrom)


class GeneTable(Sequence[Gene]):
    """An ordered, non-overlapping-per-contig collection of genes."""

    def __init__(self, genes: Iterable[Gene]):
        self._genes = sorted(genes, key=lambda g: (contig_sort_key(g.chrom), g.start))
        self._by_symbol = {g.symbol: g for g in self._genes}
        if len(self._by_symbol) != len(self._genes):
            raise ValueError("gene table has duplicate symbols")

    def __len__(self) -> int:
        return len(self._genes)

    def __getitem__(self, index):  # type: ignore[override]
        return self._genes[index]

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._by_symbol

    def get(self, symbol: str) -> Gene:
        """Return the gene with this symbol; ``KeyError`` if unknown."""
        try:
            return self._by_symbol[symbol]
        except KeyError:
            raise KeyError(f"gene {symbol!r} is not in the gene table") from None

    @property
    def contigs(self) -> list[str]:
        """Contigs that hold at least one gene, in canonical order."""
        return sorted({g.chrom for g in self._genes}, key=contig_sort_key)

    def on_contig(self, chrom: str) -> list[Gene]:
        return [g for g in self._genes if g.chrom == chrom]

    def subset(self, symbols: Iterable[str] | None = None, contigs: Iterable[str] | None = None) -> GeneTable:
        """A new table restricted to the given symbols and/or contigs."""
        wanted = set(symbols) if symbols is not None else None
        chroms = set(contigs) if contigs is not None else None
        return GeneTable(
            g for g in self._genes if (wanted is None or g.symbol in wanted) and (chroms is None or g.chrom in chroms)
        )

    def write_tsv(self, path: str | Path) -> None:
        """Write the table as the bundle's ``genes.tsv`` (header + one row per gene)."""
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
            writer.writerow(GENE_TABLE_COLUMNS)
            for g in self._genes:
                writer.writerow((g.symbol, g.chrom, g.start, g.end, g.strand))


def read_gene_table(path: str | Path) -> GeneTable:
    """Read a ``genes.tsv`` (lines starting with ``#`` are comments)."""
    with open(path, newline="") as fh:
        return _parse(fh.read())


def default_gene_table() -> GeneTable:
    """The curated table of ~200 real genes with approximate GRCh38 coordinates."""
    text = resources.files("genomics").joinpath("data/genes_grch38.tsv").read_text()
    return _parse(text)


def _parse(text: str) -> GeneTable:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t")
    missing = set(GENE_TABLE_COLUMNS) - set(reader.fieldnames or ())
    if missing:
        raise ValueError(f"gene table lacks columns: {', '.join(sorted(missing))}")
    genes = []
    for row in reader:
        genes.append(
            Gene(
                symbol=row["symbol"],
                chrom=row["chrom"],
                start=int(row["start"]),
                end=int(row["end"]),
                strand=row["strand"],
            )
        )
    return GeneTable(genes)
