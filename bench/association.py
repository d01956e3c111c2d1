"""Benchmark of the case-control association read path and statistics against the reference tools.

    python -m bench.association                                   # 10,000 samples x 100,000 variants
    python -m bench.association --samples 2000 --variants 20000   # reduced
    python -m bench.association --whole-job                       # the whole job through real workers

With ``--whole-job`` it measures instead the association job from submit to
succeeded through real Celery workers, on a release built and ingested in a
database of its own, against the reference tools' whole run
(``bench.association_job``).

Data: genotypes from the project's simulator (``genomics.simulate``, GT only,
a planted case-control signal), written straight to a PLINK 1 fileset (A1 =
ALT, the layout of the release's packed matrix); half the samples cases, three
covariates (sex, age, a non-European ancestry indicator). Kept in
``--workdir`` and reused.

Each step runs in its own child process (wall time, peak RSS from wait4):

- read path: genotype counts for 4 groups (``PackedGenotypes.group_counts``)
  against ``plink2 --bfile --freq counts`` (one group, and once per group with ``--keep``);
- allelic: counts of cases and controls, chi-square, Fisher, OR and CI, HWE in
  controls (``genomics.assoc.allelic_tests``) against ``plink --assoc fisher``;
- logistic: null fit, score test of every variant, Wald/Firth fits under p 0.05
  against ``plink2 --glm firth-fallback`` and plain ``plink2 --glm``;
- memory at 10x the samples (the matrix tiled to 10 times the columns, fewer variants);
- two processes each taking half of the variant blocks (as two workers do) against one.

Prints a table with the ratios. The machine is shared: run it when it is quiet.
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
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def run(name: str, argv: list[str], *, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB, from wait4) and standard output of a command."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env={**os.environ, **(env or {})}, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{name} failed:\n{err.read().decode()[-3000:]}")
        return seconds, usage.ru_maxrss / 1024, out.read().decode()


def py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def prepare(work: Path | str, samples: int, variants: int, seed: int) -> Path:
    work = Path(work)
    prefix = work / "bench"
    if Path(f"{prefix}.bed").exists():
        return prefix
    sys.path.insert(0, str(ROOT))
    from genomics.simulate import CaseControlSignal, simulate_genotypes, trio_cohort

    work.mkdir(parents=True, exist_ok=True)
    specs = trio_cohort(samples, 0, seed=seed)
    rng = np.random.default_rng(seed)
    is_case = np.zeros(samples, dtype=bool)
    is_case[rng.choice(samples, samples // 2, replace=False)] = True
    cases = frozenset(s.sample_id for s, c in zip(specs, is_case, strict=True) if c)
    sim = simulate_genotypes(specs, variants, seed=seed, chunk_size=2000, format_fields=False,
                             signals=[CaseControlSignal("APOE", cases, case_af=0.3, control_af=0.1)])  # fmt: skip
    code = np.array([3, 2, 0], dtype=np.uint8)
    pad = (-samples) % 4
    with open(f"{prefix}.bed.part", "wb") as bed, open(f"{prefix}.bim", "w") as bim:
        bed.write(bytes([0x6C, 0x1B, 0x01]))
        for chunk in sim.chunks():
            gt = chunk.gt
            c = np.where((gt < 0).any(axis=-1), np.uint8(1), code[np.clip((gt > 0).sum(axis=-1), 0, 2)])
            c = np.concatenate([c, np.zeros((c.shape[0], pad), np.uint8)], axis=1).reshape(c.shape[0], -1, 4)
            bed.write((c[..., 0] | (c[..., 1] << 2) | (c[..., 2] << 4) | (c[..., 3] << 6)).astype(np.uint8).tobytes())
            for i in range(len(chunk)):
                name = f"{chunk.chrom[i]}:{chunk.pos[i]}:{chunk.ref[i]}:{chunk.alt[i]}"
                bim.write(f"{chunk.chrom[i]}\t{name}\t0\t{chunk.pos[i]}\t{chunk.alt[i]}\t{chunk.ref[i]}\n")
    with open(f"{prefix}.fam", "w") as fam, open(work / "pheno.txt", "w") as ph, open(work / "covar.txt", "w") as cv:
        ph.write("FID\tIID\tPHENO1\n")
        cv.write("FID\tIID\tSEX\tAGE\tNON_EUR\n")
        ages = rng.integers(18, 90, samples)
        for s, case, age in zip(specs, is_case, ages, strict=True):
            fam.write(f"{s.sample_id}\t{s.sample_id}\t0\t0\t0\t-9\n")
            ph.write(f"{s.sample_id}\t{s.sample_id}\t{2 if case else 1}\n")
            cv.write(f"{s.sample_id}\t{s.sample_id}\t{int(s.sex == 'male')}\t{age}\t{int(s.ancestry != 'EUR')}\n")
    os.replace(f"{prefix}.bed.part", f"{prefix}.bed")
    for g in range(4):
        with open(work / f"group{g}.txt", "w") as fh:
            for s in specs[g::4]:
                fh.write(f"{s.sample_id}\t{s.sample_id}\n")
    return prefix


COMMON = """
import json, sys, time, numpy as np
sys.path.insert(0, {root!r})
from genomics.bed import PackedGenotypes
from genomics import assoc
prefix, work = {prefix!r}, {work!r}
bed = PackedGenotypes(prefix)
ids = bed.sample_ids()
pheno = {{l.split()[1]: int(l.split()[2]) for l in open(work + "/pheno.txt").readlines()[1:]}}
y = np.array([pheno[s] == 2 for s in ids])
"""

READ = (
    COMMON
    + """
groups = [np.arange(g, bed.n_samples, 4) for g in range(4)]
bed.group_counts(groups, 0, 1)  # load the compiled kernels and start their threads
t = time.perf_counter(); counts = bed.group_counts(groups); print(json.dumps({{"s": time.perf_counter() - t}}))
"""
)

ALLELIC = (
    COMMON
    + """
assoc.allelic_tests(*bed.group_counts([y, ~y], 0, 1).transpose(1, 0, 2))  # load the kernels
t = time.perf_counter()
counts = bed.group_counts([y, ~y])
r = assoc.allelic_tests(counts[:, 0], counts[:, 1])
print(json.dumps({{"s": time.perf_counter() - t, "top": int(np.nanargmin(r.p_fisher))}}))
"""
)

LOGISTIC = (
    COMMON
    + """
from genomics.association import block_statistics
cov = {{l.split()[1]: [float(v) for v in l.split()[2:]] for l in open(work + "/covar.txt").readlines()[1:]}}
x = np.column_stack([np.ones(len(ids)), np.array([cov[s] for s in ids])])
samples = np.arange(bed.n_samples)
params = {{"min_mac": 1, "min_maf": 0.0, "score_threshold": 0.05}}
block_statistics(bed, samples, assoc.null_fit(x, y.astype(float)), 0, 200, {{**params, "score_threshold": 1.0}})
t = time.perf_counter()
null = assoc.null_fit(x, y.astype(float))
start, stop = {start}, {stop}
tables = [block_statistics(bed, samples, null, a, min(stop, a + 20000), params) for a in range(start, stop, 20000)]
fitted = sum(int(np.sum(t.column("fitted").to_numpy(zero_copy_only=False))) for t in tables)
firth = sum(int(np.sum(t.column("firth").to_numpy(zero_copy_only=False))) for t in tables)
print(json.dumps({{"s": time.perf_counter() - t, "fitted": fitted, "firth": firth}}))
"""
)


def tile(prefix: Path, work: Path, times: int, variants: int) -> Path:
    """The first ``variants`` of the matrix with its samples repeated ``times`` times."""
    out = work / f"tiled{times}"
    if Path(f"{out}.bed").exists():
        return out
    sys.path.insert(0, str(ROOT))
    from genomics.bed import PackedGenotypes

    bed = PackedGenotypes(prefix)
    d = bed.dosages(np.arange(bed.n_samples), 0, variants, dtype=np.int8)
    d = np.tile(d, (1, times))
    code = np.where(d < 0, 1, np.array([3, 2, 0], dtype=np.uint8)[np.clip(d, 0, 2)]).astype(np.uint8)
    pad = (-code.shape[1]) % 4
    code = np.concatenate([code, np.zeros((code.shape[0], pad), np.uint8)], axis=1).reshape(code.shape[0], -1, 4)
    with open(f"{out}.bed", "wb") as fh:
        fh.write(bytes([0x6C, 0x1B, 0x01]))
        fh.write((code[..., 0] | (code[..., 1] << 2) | (code[..., 2] << 4) | (code[..., 3] << 6)).tobytes())
    bim = Path(f"{prefix}.bim").read_text().splitlines()[:variants]
    Path(f"{out}.bim").write_text("\n".join(bim) + "\n")
    fam = Path(f"{prefix}.fam").read_text().splitlines()
    pheno = Path(work / "pheno.txt").read_text().splitlines()
    with open(f"{out}.fam", "w") as f, open(work / f"pheno{times}.txt", "w") as p:
        p.write(pheno[0] + "\n")
        for k in range(times):
            for line, ph in zip(fam, pheno[1:], strict=True):
                sid = line.split()[1] + f"_{k}"
                f.write(f"{sid}\t{sid}\t0\t0\t0\t-9\n")
                p.write(f"{sid}\t{sid}\t{ph.split()[2]}\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--variants", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "bench-association")
    parser.add_argument("--skip-firth", action="store_true", help="leave out plink2's Firth fallback run (slow)")
    parser.add_argument("--whole-job", action="store_true", help="the whole job through real workers instead")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_association",
                        help="--whole-job: the benchmark's own database")  # fmt: skip
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/9",
                        help="--whole-job: the benchmark's own Redis database (emptied before each job)")  # fmt: skip
    parser.add_argument("--worker-counts", type=lambda v: [int(n) for n in v.split(",")], default=[1, 2],
                        help="--whole-job: run the job with these numbers of worker processes")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=3 * 3600, help="--whole-job: seconds to wait for a job")
    args = parser.parse_args()
    if args.whole_job:
        from bench import association_job

        association_job.main(args)
        return
    work = args.workdir / f"{args.samples}x{args.variants}"
    t = time.perf_counter()
    prefix = work / "bench"
    if not Path(f"{prefix}.bed").exists():  # in a child, so this process stays small (peak RSS of children)
        code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from bench.association import prepare; "
        code += f"prepare({str(work)!r}, {args.samples}, {args.variants}, {args.seed})"
        run("prepare", py(code))
    print(f"data: {args.samples:,} samples x {args.variants:,} variants ({time.perf_counter() - t:.0f} s to prepare)")
    fmt = {"root": str(ROOT), "prefix": str(prefix), "work": str(work)}
    rows: list[tuple[str, float, float, str]] = []

    def step(name: str, argv: list[str], *, inner: bool = False, env: dict[str, str] | None = None) -> float:
        seconds, peak, out = run(name, argv, env=env)
        if inner:  # our steps time their own computation (after the numba kernels are loaded)
            data = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
            seconds = data["s"]
        rows.append((name, seconds, peak, ""))
        print(f"  {name}: {seconds:.2f} s, peak {peak:,.0f} MB", flush=True)
        return seconds

    p2 = ["plink2", "--bfile", str(prefix), "--threads", "2", "--out", str(work / "p2")]
    p1 = ["plink1.9", "--bfile", str(prefix), "--threads", "2", "--out", str(work / "p1"), "--allow-no-sex",
          "--keep-allele-order", "--pheno", str(work / "pheno.txt")]  # fmt: skip
    glm = [*p2, "--pheno", str(work / "pheno.txt"), "--covar", str(work / "covar.txt"), "--covar-variance-standardize"]
    # warm the numba caches and the page cache once
    run("warm", py(READ.format(**fmt)))
    ours_read = step("read path: counts of 4 groups (ours)", py(READ.format(**fmt)), inner=True)
    freq = step("plink2 --freq counts (all samples)", [*p2, "--freq", "counts"])
    freq4 = sum(
        step(f"plink2 --freq counts --keep group {g}", [*p2, "--freq", "counts", "--keep", str(work / f"group{g}.txt")])
        for g in range(4)
    )
    ours_allelic = step("allelic chi-square, Fisher, OR, HWE (ours)", py(ALLELIC.format(**fmt)), inner=True)
    fisher = step("plink1.9 --assoc fisher", [*p1, "--assoc", "fisher"])
    logistic = LOGISTIC.format(**fmt, start=0, stop=args.variants)
    ours_glm = step("logistic: score all, Wald/Firth under 0.05 (ours)", py(logistic), inner=True)
    plain = step("plink2 --glm (plain logistic)", [*glm, "--glm", "hide-covar", "no-firth"])
    firth = None if args.skip_firth else step("plink2 --glm firth-fallback", [*glm, "--glm", "hide-covar",
                                                                                   "firth-fallback"])  # fmt: skip
    # two processes, each half of the variant blocks, one numba thread each (two workers on two cores)
    half = (args.variants // 2 // 20000) * 20000 or args.variants // 2
    one = {"NUMBA_NUM_THREADS": "1"}
    start = time.perf_counter()
    procs = [
        subprocess.Popen(py(LOGISTIC.format(**fmt, start=a, stop=b)), env={**os.environ, **one}, cwd=ROOT,
                         stdout=subprocess.DEVNULL)
        for a, b in ((0, half), (half, args.variants))
    ]  # fmt: skip
    for p in procs:
        p.wait()
    two = time.perf_counter() - start
    single = step("logistic, one process, one thread", py(logistic), env=one)
    rows.append(("logistic, two processes of one thread (half the blocks each)", two, 0.0, ""))
    print(f"  two processes: {two:.2f} s", flush=True)
    # memory with 10x the samples (the matrix tiled), over 2,000 variants
    mem_v = min(500, args.variants)
    for times in (1, 10):  # in a child, so this process stays small (a child's peak RSS counts it until exec)
        code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path; "
        code += f"from bench.association import tile; tile(Path({str(prefix)!r}), Path({str(work)!r}), "
        code += f"{times}, {mem_v})"
        run("tile", py(code))
    tiled, small = work / "tiled10", work / "tiled1"
    mem = {}
    for label, pre, ph in (("1x", small, work / "pheno1.txt"), ("10x", tiled, work / "pheno10.txt")):
        code = LOGISTIC.replace('work + "/pheno.txt"', repr(str(ph))).format(
            root=str(ROOT), prefix=str(pre), work=str(work), start=0, stop=mem_v
        )
        code = code.replace("cov = {", "cov0 = {").replace(
            "x = np.column_stack([np.ones(len(ids)), np.array([cov[s] for s in ids])])",
            "x = np.column_stack([np.ones(len(ids)), np.arange(len(ids)) % 2, (np.arange(len(ids)) % 70) + 18])",
        )
        seconds, peak, _ = run(f"memory {label}", py(code))
        mem[label] = peak
        rows.append((f"logistic over {mem_v:,} variants, {label} samples: peak RSS", seconds, peak, ""))
    print()
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, {platform.platform()} (shared with other work)")
    print("| step | wall s | peak RSS MB |")
    print("| --- | ---: | ---: |")
    for name, seconds, peak, _ in rows:
        print(f"| {name} | {seconds:.2f} | {peak:,.0f} |")
    print()
    print(f"read path, 4 groups: {ours_read / freq:.2f}x plink2 --freq counts (one group), "
          f"{ours_read / freq4:.2f}x four plink2 runs (one per group)")  # fmt: skip
    print(f"allelic tests: {ours_allelic / fisher:.2f}x plink1.9 --assoc fisher")
    print(f"logistic: {ours_glm / plain:.2f}x plink2 plain" + (f", {ours_glm / firth:.3f}x plink2 firth-fallback"
                                                               if firth else ""))  # fmt: skip
    print(f"two processes against one (one thread each): speed-up {single / two:.2f}x")
    print(f"memory, 10x the samples: {mem['10x']:,.0f} MB against {mem['1x']:,.0f} MB")


if __name__ == "__main__":
    main()
