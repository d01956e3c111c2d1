"""Benchmark of the analysis job types, and the cost model behind every estimate.

    python -m bench.analysis                          # 2,000 samples x 20,000 variants
    python -m bench.analysis --samples 10000 --variants 100000
    python -m bench.analysis --write                  # also write analysis/cost_model.json
    python -m bench.analysis --summary-db             # also time the cohort summary on DATABASE_URL's release

Allele frequencies: on a simulated germline VCF imported into a genotype
store, for two overlapping cohorts (half the samples each, a quarter in both),
over regions of growing size, it times (each in a child process: wall time,
peak RSS from wait4) the job's computation (``raw_counts``: the store read and
the counts), against ``bcftools view -r | bcftools +fill-tags -S`` on the same
samples and region, and then disclosure control and the Parquet write of the
rows, and the lollipop plot. It prints a table with the ratios, fits the cost
model's constants by least squares, and with ``--write`` stores them.

Cohort summary (``--summary-db``): times ``cohorts.selectors.cohort_summary``
on cohorts of the current release of the configured database.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

MODEL = Path(__file__).resolve().parents[1] / "analysis" / "cost_model.json"


@dataclass
class Run:
    name: str
    seconds: float
    peak_mb: float
    output: dict


def child(name: str, code: str, *, env: dict[str, str] | None = None) -> Run:
    """Run Python code in a child, which prints one JSON line last (with its own
    timing and peak RSS where it measures them)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed:\n{proc.stderr.decode()[-3000:]}")
    lines = [line for line in proc.stdout.decode().splitlines() if line.startswith("{")]
    output = json.loads(lines[-1]) if lines else {}
    return Run(name, output.pop("seconds", seconds), output.pop("peak_mb", 0.0), output)


def shell(name: str, command: str) -> Run:
    start = time.perf_counter()
    proc = subprocess.Popen(["bash", "-c", command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        error = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{name} failed: {error[-2000:]}")
    return Run(name, time.perf_counter() - start, usage.ru_maxrss / 1024, {})


_PEAK = "import resource; peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
_DJANGO = (
    "import os, django\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'portal.settings')\n"
    "os.environ.setdefault('DEBUG', 'true')\ndjango.setup()\n"
)


def _counts_code(store: Path, cohorts: Path, region: tuple[str, int, int] | None) -> str:
    return _DJANGO + (
        "import json, time\n"
        "from genomics.store import GenotypeStore\n"
        "from analysis.jobtypes.allele_frequencies import raw_counts\n"
        f"store = GenotypeStore({str(store)!r}); cohorts = json.load(open({str(cohorts)!r}))\n"
        "t = time.perf_counter()\n"
        f"ann, counts = raw_counts(store, cohorts, gene=None, region={region!r})\n"
        "seconds = time.perf_counter() - t\n" + _PEAK
        + "print(json.dumps({'seconds': seconds, 'peak_mb': peak, 'variants': ann.num_rows}))\n"
    )  # fmt: skip


def _rows_code(n_rows: int) -> str:
    return _DJANGO + (
        "import json, time, tempfile, random\nfrom pathlib import Path\n"
        "from analysis.artifacts import disclose_rows, write_table, save_figure\n"
        "from analysis.jobtypes.allele_frequencies import TABLE\n"
        "from analysis.plots import lollipop\nfrom disclosure.rules import Policy\n"
        "import pyarrow.parquet as pq\n"
        "rng = random.Random(1); rows = []\n"
        f"for i in range({n_rows} // 2):\n"
        "    for c in ('A (v1)', 'B (v1)'):\n"
        "        het, hom, miss = rng.randint(0, 50), rng.randint(0, 5), rng.randint(0, 3)\n"
        "        ref = 1000 - het - hom - miss\n"
        "        rows.append({'cohort': c, 'variant': f'chr1:{i}:A:G', 'contig': 'chr1', 'position': 1000 + i,\n"
        "                     'ref': 'A',\n"
        "                     'alt': 'G', 'gene': 'G', 'consequence': 'missense_variant', 'population_af': 0.01,\n"
        "                     'ac': het + 2 * hom, 'an': 2 * (1000 - miss), 'n_hom_ref': ref, 'n_het': het,\n"
        "                     'n_hom_alt': hom, 'n_missing': miss})\n"
        "out = Path(tempfile.mkdtemp()); policy = Policy()\n"
        "t = time.perf_counter()\n"
        "table = disclose_rows(TABLE, rows, policy); written = write_table(TABLE, table, out, policy)\n"
        "rows_seconds = time.perf_counter() - t\n"
        "t = time.perf_counter()\n"
        "fig = lollipop(pq.read_table(written.files[0].path), title='bench', contig='chr1', start=None, end=None)\n"
        "save_figure(fig, out, 'lollipop')\n"
        "plot_seconds = time.perf_counter() - t\n"
        "t = time.perf_counter()\n"
        "small = pq.read_table(written.files[0].path).slice(0, 1000)\n"
        "save_figure(lollipop(small, title='bench', contig='chr1', start=None, end=None), out, 'small')\n"
        "small_seconds = time.perf_counter() - t\n" + _PEAK
        + "print(json.dumps({'seconds': rows_seconds, 'plot_seconds': plot_seconds,"
        " 'small_plot_seconds': small_seconds, 'peak_mb': peak}))\n"
    )  # fmt: skip


def _baseline_code() -> str:
    return (
        _DJANGO
        + "import json\nimport analysis.runner, analysis.jobtypes.allele_frequencies\n"
        + _PEAK
        + ("print(json.dumps({'peak_mb': peak}))\n")
    )


def _summary_code() -> str:
    return _DJANGO + (
        "import json, time\nfrom cohorts.models import Cohort\nfrom cohorts.selectors import cohort_summary\n"
        "from cohorts.services import cohort_members_for_job\nfrom participants.selectors import release_current\n"
        "release = release_current(); out = []\n"
        "for cohort in Cohort.objects.filter(release=release)[:6]:\n"
        "    ids = [p for p, _ in cohort_members_for_job(cohort=cohort)]\n"
        "    t = time.perf_counter(); cohort_summary(cohort=cohort, participant_ids=ids)\n"
        "    out.append((len(ids), time.perf_counter() - t))\n"
        + _PEAK + "print(json.dumps({'runs': out, 'peak_mb': peak}))\n"
    )  # fmt: skip


def fit(xs: list[list[float]], ys: list[float]) -> np.ndarray:
    """Least squares with non-negative results (a negative constant is clipped to 0)."""
    solution, *_ = np.linalg.lstsq(np.array(xs, dtype=float), np.array(ys, dtype=float), rcond=None)
    return np.clip(solution, 0, None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--variants", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="Write analysis/cost_model.json.")
    parser.add_argument("--summary-db", action="store_true", help="Time the cohort summary on DATABASE_URL.")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-analysis-"))
    work.mkdir(parents=True, exist_ok=True)
    vcf, store = work / "cohort.vcf.gz", work / "store"
    if not store.exists():
        print(f"Simulating {args.samples:,} samples x {args.variants:,} variants in {work} ...", flush=True)
        child("simulate", (
            "from genomics.simulate import simulate_genotypes, trio_cohort\n"
            "from genomics.vcf import write_germline_vcf\nfrom genomics.store import import_vcf\nimport json\n"
            f"n_trios = {args.samples} // 10\n"
            f"specs = trio_cohort({args.samples} - 3 * n_trios, n_trios, seed={args.seed})\n"
            f"sim = simulate_genotypes(specs, {args.variants}, seed={args.seed}, format_fields=False, chunk_size=500)\n"
            f"write_germline_vcf({str(vcf)!r}, sim.sample_ids, sim.contigs, sim.chunks(), format_fields=('GT',),"
            " compress_level=1)\n"
            f"import_vcf({str(vcf)!r}, {str(store)!r}, workers=2)\nprint(json.dumps({{}}))\n"
        ))  # fmt: skip
    code = (
        "import json\nfrom genomics.store import GenotypeStore\n"
        f"s = GenotypeStore({str(store)!r}); v = s.variants()\n"
        "print(json.dumps({'samples': s.sample_ids, 'contig': v.column('contig').to_pylist(),"
        " 'position': v.column('position').to_pylist()}))\n"
    )
    facts = child("read the store", code).output
    samples, contigs, positions = facts["samples"], facts["contig"], facts["position"]
    n = len(samples)
    cohorts = {"A": list(range(0, n // 2)), "B": list(range(n // 4, 3 * n // 4))}
    cohorts_path = work / "cohorts.json"
    cohorts_path.write_text(json.dumps(cohorts))
    groups = work / "cohorts.tsv"
    groups.write_text("".join(
        f"{s}\t{','.join(g for g, members in (('A', cohorts['A']), ('B', cohorts['B'])) if i in set(members))}\n"
        for i, s in enumerate(samples) if i < 3 * n // 4
    ))  # fmt: skip
    first = contigs[0]
    on_first = [p for c, p in zip(contigs, positions, strict=True) if c == first]
    sizes = sorted({min(len(on_first), k) for k in (500, len(on_first))})
    regions: list[tuple[str, int, int] | None] = [(first, int(on_first[0]), int(on_first[k - 1])) for k in sizes]
    rows_table, xs, ys = [], [], []
    baseline = child("baseline", _baseline_code())
    for region in [*regions, None]:  # None: every variant of the store
        ours = child(f"raw_counts {region}", _counts_code(store, cohorts_path, region))
        where = f"-r {region[0]}:{region[1]}-{region[2]}" if region else ""
        ref = shell(f"bcftools {region}", f"bcftools view -Ou {where} {vcf} | bcftools +fill-tags -Ou - -- -S {groups} "
                    f"-t AC,AN,AC_Het,AC_Hom,NS | bcftools query -f '%POS\\n' > /dev/null")  # fmt: skip
        variants = ours.output["variants"]
        rows_table.append((f"allele counts, {variants:,} variants x 2 cohorts", ours, ref))
        xs.append([1.0, n * variants])
        ys.append(ours.seconds)
    rows_run = child("rows", _rows_code(100_000))
    c_fixed, c_genotype = fit(xs, ys)
    small_plot = rows_run.output["small_plot_seconds"]
    per_row = (rows_run.seconds + rows_run.output["plot_seconds"] - small_plot) / 100_000
    largest = max(r[1].peak_mb for r in rows_table)
    model = json.loads(MODEL.read_text()) if MODEL.exists() else {"types": {}}
    af = {
        "seconds_fixed": round(float(c_fixed) + small_plot + 0.5, 3),
        "seconds_per_genotype": float(f"{c_genotype:.4g}"),
        "seconds_per_row": float(f"{per_row:.4g}"),
        "memory_mb_fixed": round(baseline.peak_mb, 1),
        "memory_mb_per_sample": float(f"{max(0.0, largest - baseline.peak_mb) / n:.4g}"),
        "memory_mb_per_row": float(f"{max(0.0, rows_run.peak_mb - baseline.peak_mb) / 100_000:.4g}"),
    }
    model["types"]["allele-frequencies"] = af
    print()
    print(f"Machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}")
    print(f"Store: {n:,} samples x {len(positions):,} variants; cohorts of {len(cohorts['A']):,} and "
          f"{len(cohorts['B']):,} samples ({n // 4:,} in both)\n")  # fmt: skip
    print("| step | wall s | peak RSS MB | bcftools +fill-tags s | ratio |\n| --- | ---: | ---: | ---: | ---: |")
    for name, ours, ref in rows_table:
        print(f"| {name} | {ours.seconds:.3f} | {ours.peak_mb:,.0f} | {ref.seconds:.3f} | "
              f"{ours.seconds / ref.seconds:.2f}x |")  # fmt: skip
    print(f"| disclosure + Parquet, 100,000 rows | {rows_run.seconds:.3f} | {rows_run.peak_mb:,.0f} | | |")
    print(f"| lollipop plot (SVG, PNG, PDF), 100,000 rows | {rows_run.output['plot_seconds']:.3f} | | | |")
    print(f"| lollipop plot (SVG, PNG, PDF), 1,000 rows | {small_plot:.3f} | | | |")
    if args.summary_db:
        summary = child("cohort summary", _summary_code())
        runs = summary.output["runs"]
        if runs:
            per_cohort, per_member = fit([[1.0, m] for m, _ in runs], [s for _, s in runs])
            # Fixed: its three plots (each about the small lollipop's cost) and the task's overhead.
            model["types"]["cohort-summary"] = {
                "seconds_fixed": round(3 * small_plot + 0.5, 3), "seconds_per_cohort": round(float(per_cohort), 4),
                "seconds_per_member": float(f"{per_member:.4g}"),
                "memory_mb_fixed": round(max(baseline.peak_mb, summary.peak_mb), 1), "memory_mb_per_member": 0.0,
            }  # fmt: skip
            for members, seconds in runs:
                print(f"| cohort summary, {members:,} members | {seconds:.3f} | {summary.peak_mb:,.0f} | | |")
    model["measured"] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, {platform.platform()}",
        "command": "python -m bench.analysis " + " ".join(argv if argv is not None else sys.argv[1:]),
        "store": {"samples": n, "variants": len(positions)},
    }
    print("\nCost model constants (allele frequencies):", json.dumps(af))
    if args.write:
        MODEL.write_text(json.dumps(model, indent=2, sort_keys=True) + "\n")
        print(f"Wrote {MODEL}.")


if __name__ == "__main__":
    main()
