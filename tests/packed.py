"""The analysis-ready packed genotype matrix of a release in tests.

Ingest writes ``<store>/packed/genotypes.{bed,bim,fam}`` (``GenotypeStore.packed_prefix``)
in the converter's pass. Where a store was made without it, :func:`ensure_packed`
makes the same fileset from the release's VCF with the reference tool itself::

    plink2 --vcf <germline VCF> --make-bed --out <store>/packed/genotypes

and does nothing once the store has one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from analysis.genotypes import packed_prefix
from genomics.store import GenotypeStore


def ensure_packed(store_dir: Path, vcf: Path) -> Path:
    store_dir = Path(store_dir).resolve()
    prefix = packed_prefix(GenotypeStore(store_dir))
    if Path(f"{prefix}.bed").exists():
        return prefix
    prefix.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=prefix.parent))
    try:
        subprocess.run(
            ["plink2", "--vcf", str(vcf), "--make-bed", "--threads", "1", "--out", str(work / "genotypes")],
            check=True, capture_output=True,
        )  # fmt: skip
        for ext in ("bim", "fam", "bed"):  # the .bed last: its presence means the set is whole
            os.replace(work / f"genotypes.{ext}", f"{prefix}.{ext}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return prefix
