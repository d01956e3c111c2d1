"""Benchmark: the whole ingest of a release (validation included) against plink2's import of its VCF.

    python -m bench.ingest                                  # 10,000 participants x 100,000 variants
    python -m bench.ingest --participants 2000 --variants 20000
    python -m bench.ingest --bundle /tmp/rel --keep         # an existing bundle; keep the work files

Steps (each in its own child process: wall time and peak RSS of the largest
process, from wait4's rusage, which includes the worker processes):

1. write a release bundle with the synthetic generator
   (``participants.synthetic.generate_release``: withdrawn participants'
   clinical rows and somatic VCFs inside, as providers deliver them; the
   germline VCF with GT:AD:DP:GQ); not part of the comparison
2. a PostgreSQL database of the benchmark's own (``bench_ingest`` by default;
   one of that name that this benchmark did not create is refused, never
   touched): migrations and the HPO ontology; not part of the comparison
3. (a) ``python manage.py ingest_release BUNDLE --version bench --workers N``:
       the bundle's tables checked, the germline VCF checked and converted to
       the genotype store in one pass (VCF Zarr, variant table, carrier index,
       packed hard calls), somatic VCFs checked and copied, the rows loaded
   (b) ``plink2 --vcf BUNDLE/germline.vcf.gz --make-bed --out Y --threads 2``
   (a') for the breakdown: ``genomics.store.import_vcf`` of the same VCF alone
        (no checks, no database), as ingest runs it
4. (c) allele counts for 4 groups over the store vs (d) ``plink2 --bfile Y --freq counts``

Prints a table with the ratio of each of our steps to its plink2
counterpart (wall time, and CPU time: user + system of the child and its
threads, which a shared machine disturbs less), and whether the store's
packed .bed equals plink2's.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DB_MARKER = "made by bench.ingest"
RELEASE = "bench"


@dataclass
class Measurement:
    name: str
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float  # user + system time of the child and its threads (less sensitive to a shared machine)


def run_measured(name: str, argv: list[str], *, log: Path, env: dict[str, str] | None = None) -> Measurement:
    """Run argv as a child; wall time and peak RSS (largest process in its tree)."""
    start = time.perf_counter()
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(argv)}\n".encode())
        out.flush()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed with exit code {proc.returncode}; see {log}")
    return Measurement(name, seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _split_database_url(url: str) -> tuple[str, str]:
    """(database name, URL of the server's maintenance database)."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise SystemExit("--database-url must be a postgres:// URL")
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise SystemExit(f"database name {name!r}: use lower-case letters, digits and '_'")
    return name, urlunsplit(parts._replace(path="/postgres"))


def _database(url: str, *, create: bool, marker: str = DB_MARKER) -> None:
    """Create the benchmark's database (dropping one it made before, by its ``marker``), or drop it."""
    import psycopg2

    name, admin_url = _split_database_url(url)
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name])
            row = cur.fetchone()
            if row is not None and row[0] != marker:
                raise SystemExit(f"Database {name} exists and was not made by this benchmark; it is left alone.")
            if row is not None:
                cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            if create:
                cur.execute(f'CREATE DATABASE "{name}"')
                cur.execute(f"COMMENT ON DATABASE \"{name}\" IS '{marker}'")
    finally:
        admin.close()


def _portal_env(database_url: str, work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=database_url,
        DATA_ROOT=str(work / "data"),
        PORTAL_VAR_DIR=str(work / "var"),
        DEBUG="false",
        SECRET_KEY="bench-only-" + secrets.token_urlsafe(48),
        ALLOWED_HOSTS="testserver",
        LOG_LEVEL="WARNING",
    )
    (work / "var" / "static").mkdir(parents=True, exist_ok=True)
    return env


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--variants", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="ingest threads (2 cores here)")
    parser.add_argument("--bundle", type=Path, help="ingest this bundle instead of generating one")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_ingest")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "bench-ingest")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and the database")
    args = parser.parse_args(argv)

    if shutil.which("plink2") is None:
        raise SystemExit("plink2 is not installed (Debian: apt-get install plink2)")
    work = args.workdir / ("bundle" if args.bundle else f"{args.participants}x{args.variants}")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    log = work / "bench.log"
    bundle = work / "bundle"

    gen = None
    if args.bundle:
        bundle = args.bundle.resolve()
    else:
        gen = run_measured(
            "generate the bundle (synthetic generator)",
            _python(
                "from pathlib import Path\n"
                "from participants.synthetic import generate_release\n"
                f"generate_release(Path({str(bundle)!r}), participants={args.participants}, "
                f"variants={args.variants}, seed={args.seed})\n"
            ),
            log=log,
        )
    vcf = bundle / "germline.vcf.gz"

    _database(args.database_url, create=True)
    env = _portal_env(args.database_url, work)
    manage = [sys.executable, str(ROOT / "manage.py")]
    try:
        setup = run_measured("set-up: migrate, load_ontology", _python(_SETUP), log=log, env=env)
        ingest = run_measured(
            "(a) manage.py ingest_release (validation included)",
            [*manage, "ingest_release", str(bundle), "--version", RELEASE, "--workers", str(args.workers)],
            log=log,
            env=env,
        )
        plink_import = run_measured(
            "(b) plink2 --vcf --make-bed",
            ["plink2", "--vcf", str(vcf), "--make-bed", "--out", str(work / "plink"), "--threads", "2"],
            log=log,
        )
        alone = run_measured(
            "(a') store import alone (import_vcf, no checks)",
            _python(
                "from genomics.store import import_vcf\n"
                "if __name__ == '__main__':\n"
                f"    import_vcf({str(vcf)!r}, {str(work / 'alone.store')!r}, workers={args.workers})\n"
            ),
            log=log,
        )
        shutil.rmtree(work / "alone.store", ignore_errors=True)
        store = work / "data" / "releases" / RELEASE / "store"
        counts = run_measured(
            "(c) store allele counts, 4 groups",
            _python(
                "from genomics.store import GenotypeStore\n"
                f"s = GenotypeStore({str(store)!r})\n"
                "ids = s.sample_ids\n"
                "groups = {f'g{k}': ids[k::4] for k in range(4)}\n"
                "s.allele_counts(groups, mask=s.every_sample())\n"
            ),
            log=log,
        )
        plink_freq = run_measured(
            "(d) plink2 --bfile --freq counts",
            [
                "plink2",
                "--bfile",
                str(work / "plink"),
                "--freq",
                "counts",
                "--out",
                str(work / "freq"),
                "--threads",
                "2",
            ],
            log=log,
        )
        same_bed = (store / "packed" / "genotypes.bed").read_bytes() == (work / "plink.bed").read_bytes()
        report = _ingest_output(log)
    finally:
        if not args.keep:
            _database(args.database_url, create=False)

    vcf_mb = vcf.stat().st_size / 2**20
    store_mb = sum(p.stat().st_size for p in store.rglob("*") if p.is_file()) / 2**20
    bed_mb = sum((work / f"plink.{ext}").stat().st_size for ext in ("bed", "bim", "fam")) / 2**20
    with open(bundle / "participants.tsv") as fh:
        n_people = sum(1 for _ in fh) - 1
    print(
        f"\n{bundle}: {n_people:,} participants; {report}\n"
        f"{os.cpu_count()} cores; {platform.platform()}; {time.strftime('%Y-%m-%d %H:%M')}"
    )
    print(f"VCF {vcf_mb:,.0f} MB; store {store_mb:,.0f} MB (packed .bed included); PLINK bed/bim/fam {bed_mb:,.0f} MB")
    print(f"store's packed/genotypes.bed identical to plink2's .bed: {'yes' if same_bed else 'NO'}\n")
    header = f"{'step':<52} {'wall s':>9} {'CPU s':>8} {'peak RSS MB':>12} {'time ratio':>11} {'CPU ratio':>10}"
    print(header)
    print("-" * len(header))
    rows = [(gen, None), (setup, None), (ingest, plink_import), (plink_import, None), (alone, plink_import),
            (counts, plink_freq), (plink_freq, None)]  # fmt: skip
    for m, ref in rows:
        if m is None:
            continue
        ratio = f"{m.seconds / ref.seconds:.2f}x" if ref else ""
        cpu = f"{m.cpu_seconds / ref.cpu_seconds:.2f}x" if ref else ""
        print(f"{m.name:<52} {m.seconds:>9.1f} {m.cpu_seconds:>8.1f} {m.peak_rss_mb:>12.0f} {ratio:>11} {cpu:>10}")
    if not args.keep:
        shutil.rmtree(work)


_SETUP = (
    "import django\n"
    "django.setup()\n"
    "from django.core.management import call_command\n"
    "call_command('migrate', interactive=False, verbosity=0)\n"
    "call_command('load_ontology', verbosity=0)\n"
)


def _ingest_output(log: Path) -> str:
    """The ingest command's summary line, as it printed it."""
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if line.startswith(f"Release {RELEASE} ingested"):
            return line.removeprefix(f"Release {RELEASE} ")
    return "(no ingest summary found)"


if __name__ == "__main__":
    main()
