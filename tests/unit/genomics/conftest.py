"""Shared fixtures for the genomics unit tests (no Django, no database)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from genomics.store import GenotypeStore, import_vcf

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "genomics"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def cohort_vcf() -> Path:
    return FIXTURES / "cohort.vcf.gz"


@pytest.fixture(scope="session")
def cohort_groups() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for line in (FIXTURES / "groups.tsv").read_text().splitlines():
        sample, group = line.split("\t")
        groups.setdefault(group, []).append(sample)
    return groups


@pytest.fixture(scope="session")
def reference_genotypes() -> tuple[list[tuple[str, int]], np.ndarray]:
    """bcftools' view of the genotype matrix: sites and alt allele counts (-1 missing)."""
    sites, rows = [], []
    code = {"0/0": 0, "0/1": 1, "1/0": 1, "1/1": 2, "./.": -1}
    with gzip.open(FIXTURES / "bcftools_genotypes.tsv.gz", "rt") as fh:
        for line in fh:
            chrom, pos, *gts = line.rstrip("\n").split("\t")
            sites.append((chrom, int(pos)))
            rows.append([code[g] for g in gts])
    return sites, np.array(rows, dtype=np.int8)


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory, cohort_vcf: Path) -> GenotypeStore:
    """The fixture cohort imported once, with small chunks so queries span several."""
    target = tmp_path_factory.mktemp("store") / "release.store"
    import_vcf(cohort_vcf, target, variants_chunk_size=300, samples_chunk_size=16)
    return GenotypeStore(target)
