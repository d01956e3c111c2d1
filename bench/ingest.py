"""Benchmark: genotype store import against plink2's VCF import, on the same VCF.

    python -m bench.ingest                       # 10,000 samples x 100,000 variants
    python -m bench.ingest --samples 1000 --variants 10000

Steps (each measured in its own child process: wall time and peak RSS of the
largest process, from wait4's rusage, which includes the worker processes):

1. generate a germline VCF with genomics.simulate (not part of the comparison)
2. (a) store import: VCF -> VCF Zarr + variant table + carrier index (Parquet),
       with the native one-pass converter (default) or bio2zarr (--engine bio2zarr)
   (b) plink2 --vcf X --make-bed --out Y
3. (c) allele counts for 4 groups over the store vs (d) plink2 --bfile Y --freq counts

Prints a table with the ratio of each of our steps to its plink2 counterpart.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Measurement:
    name: str
    seconds: float
    peak_rss_mb: float


def run_measured(name: str, argv: list[str], *, log: Path) -> Measurement:
    """Run argv as a child; wall time and peak RSS (largest process in its tree)."""
    start = time.perf_counter()
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed with exit code {proc.returncode}; see {log}")
    return Measurement(name, seconds, usage.ru_maxrss / 1024)


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--variants", type=int, default=100_000)
    parser.add_argument("--fields", choices=["gt", "full"], default="full", help="GT only, or GT:AD:DP:GQ")
    parser.add_argument("--workers", type=int, default=2, help="converter threads (bio2zarr: processes); 2 cores here")
    parser.add_argument("--engine", choices=["native", "bio2zarr"], default="native")
    parser.add_argument("--vcf", type=Path, help="import this bgzipped, indexed VCF instead of generating one")
    parser.add_argument("--variants-chunk", type=int, default=1_000)
    parser.add_argument("--samples-chunk", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "bench-ingest")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--vcf-level",
        type=int,
        default=1,
        help="deflate level of the generated VCF (1: fast, about 13%% larger than 6)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)

    if shutil.which("plink2") is None:
        raise SystemExit("plink2 is not installed (Debian: apt-get install plink2)")
    work = args.workdir / f"{args.samples}x{args.variants}-{args.fields}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    log = work / "bench.log"
    vcf = work / "cohort.vcf.gz"
    fields = "('GT',)" if args.fields == "gt" else "('GT', 'AD', 'DP', 'GQ')"

    gen = None
    if args.vcf:
        vcf.symlink_to(args.vcf.resolve())
        Path(f"{vcf}.tbi").symlink_to(Path(f"{args.vcf.resolve()}.tbi"))
    else:
        gen = run_measured(
            "generate VCF (simulator)",
            _python(
                "from genomics.simulate import simulate_genotypes, trio_cohort\n"
                "from genomics.vcf import write_germline_vcf\n"
                f"n_trios = {args.samples} // 10\n"
                f"specs = trio_cohort({args.samples} - 3 * n_trios, n_trios, seed={args.seed})\n"
                f"sim = simulate_genotypes(specs, {args.variants}, seed={args.seed}, "
                f"format_fields={args.fields == 'full'}, chunk_size=500)\n"
                f"write_germline_vcf({str(vcf)!r}, sim.sample_ids, sim.contigs, sim.chunks(), "
                f"format_fields={fields}, compress_level={args.vcf_level})\n"
            ),
            log=log,
        )
    vcf_mb = vcf.stat().st_size / 2**20

    store = run_measured(
        f"(a) store import ({args.engine})",
        _python(
            "import json\n"
            "from genomics.store import import_vcf\n"
            "if __name__ == '__main__':\n"
            f"    s = import_vcf({str(vcf)!r}, {str(work / 'cohort.store')!r}, workers={args.workers}, "
            f"engine={args.engine!r}, "
            f"variants_chunk_size={args.variants_chunk}, samples_chunk_size={args.samples_chunk})\n"
            f"    open({str(work / 'steps.json')!r}, 'w').write(json.dumps(s.seconds))\n"
        ),
        log=log,
    )
    plink_import = run_measured(
        "(b) plink2 --vcf --make-bed",
        ["plink2", "--vcf", str(vcf), "--make-bed", "--out", str(work / "plink"), "--threads", "2"],
        log=log,
    )
    counts = run_measured(
        "(c) store allele counts, 4 groups",
        _python(
            "from genomics.store import GenotypeStore\n"
            f"s = GenotypeStore({str(work / 'cohort.store')!r})\n"
            "ids = s.sample_ids\n"
            "groups = {f'g{k}': ids[k::4] for k in range(4)}\n"
            "s.allele_counts(groups, mask=s.every_sample())\n"
        ),
        log=log,
    )
    plink_freq = run_measured(
        "(d) plink2 --bfile --freq counts",
        ["plink2", "--bfile", str(work / "plink"), "--freq", "counts", "--out", str(work / "freq"), "--threads", "2"],
        log=log,
    )

    store_mb = sum(p.stat().st_size for p in (work / "cohort.store").rglob("*") if p.is_file()) / 2**20
    bed_mb = sum((work / f"plink.{ext}").stat().st_size for ext in ("bed", "bim", "fam")) / 2**20

    print(
        (
            f"\n{args.vcf}; "
            if args.vcf
            else f"\n{args.samples:,} samples x {args.variants:,} variants, FORMAT {args.fields}; "
        )
        + f"engine {args.engine}; "
        f"{os.cpu_count()} cores; {platform.platform()}; {time.strftime('%Y-%m-%d')}"
    )
    print(f"VCF {vcf_mb:,.0f} MB; store {store_mb:,.0f} MB; PLINK bed/bim/fam {bed_mb:,.0f} MB\n")
    header = f"{'step':<46} {'wall s':>9} {'peak RSS MB':>12} {'time ratio':>11}"
    print(header)
    print("-" * len(header))
    rows = [(gen, None), (store, plink_import), (plink_import, None), (counts, plink_freq), (plink_freq, None)]
    for m, ref in rows:
        if m is None:
            continue
        ratio = f"{m.seconds / ref.seconds:.2f}x" if ref else ""
        print(f"{m.name:<46} {m.seconds:>9.1f} {m.peak_rss_mb:>12.0f} {ratio:>11}")
    steps = json.loads((work / "steps.json").read_text())
    print("\n(a) by step: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
