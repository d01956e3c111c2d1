"""The whole association job, from submit to succeeded through real Celery
workers, against the reference tools' whole run on the same genotypes.

    python -m bench.association --whole-job                                  # 10,000 x 100,000
    python -m bench.association --whole-job --samples 2000 --variants 20000  # reduced

Set-up (timed and printed, not compared; kept in ``--workdir`` and reused on
the next run): a release bundle from the synthetic generator
(``participants.synthetic.generate_release``), a PostgreSQL database of the
benchmark's own (``bench_association`` by default; one of that name it did not
make is refused), migrations, the HPO ontology, then ``manage.py
ingest_release``, so the job reads the release's packed matrix as in
production. Then, through the project's services: an accredited researcher, a
domain lead, a domain, an approved project, and two saved cohorts
(``cohorts.services.cohort_create``) that split the consenting participants in
half by recruiting centre (cases, controls).

Measured:

- the job: ``celery -A portal worker -Q heavy,interactive --concurrency 1``
  (one worker process, then two), started by the benchmark and ready before the
  submit; ``analysis.services.job_submit`` of the association with the job's
  default parameters; wall time from the submit until the AnalysisJob row says
  succeeded (polled every 0.1 s), with the stages the row went through, the
  job's log and its blocks' times;
- the reference tools on the release's packed matrix
  (``GenotypeStore.packed_prefix``), the same samples, phenotype and
  covariates: ``plink2 --indep-pairwise`` and ``--pca`` (the principal
  components), ``plink1.9 --assoc`` (chi-square, OR and CI), ``--assoc
  fisher``, ``--hardy`` (HWE in controls), and ``plink2 --glm firth-fallback``
  with sex, age, ancestry indicators and the PCs; their sum is the reference
  tools' whole run.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.ingest import Measurement, _database, _portal_env, _split_database_url, run_measured

ROOT = Path(__file__).resolve().parents[1]
DB_MARKER = "made by bench.association --whole-job"
RELEASE = "bench"
DONE = "ingested.json"  # in the release folder: which database holds the ingested release


def _call(function: str, *args: object, env: dict[str, str], log: Path) -> dict:
    """Run ``function(*args)`` of this module in a child process (Django set up there); its JSON answer."""
    answer = log.parent / f".{function}.json"
    code = (
        f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); import django; django.setup()\n"
        f"from bench.association_job import {function}\n"
        f"json.dump({function}(*{args!r}), open({str(answer)!r}, 'w'))\n"
    )
    run_measured(function, [sys.executable, "-c", code], log=log, env=env)
    return json.loads(answer.read_text())


def _database_exists(url: str) -> bool:
    import psycopg2

    name, admin_url = _split_database_url(url)
    admin = psycopg2.connect(admin_url)
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name])
            row = cur.fetchone()
    finally:
        admin.close()
    return row is not None and row[0] == DB_MARKER


def prepare_release(
    folder: Path, *, samples: int, variants: int, seed: int, database_url: str, broker_url: str, log: Path
) -> tuple[dict[str, str], list[Measurement]]:
    """The release in its own database (made once, then reused). Returns the portal's environment and the
    set-up steps run this time."""
    bundle, steps = folder / "bundle", []
    env = _portal_env(database_url, folder)
    env.update(CELERY_BROKER_URL=broker_url, CACHE_URL=broker_url)
    if not (bundle / "participants.tsv").exists():
        steps.append(run_measured("set-up: generate the bundle (synthetic generator)", [sys.executable, "-c", (
            "from pathlib import Path\nfrom participants.synthetic import generate_release\n"
            f"generate_release(Path({str(bundle)!r}), participants={samples}, variants={variants}, seed={seed},"
            " overwrite=True)\n")], log=log))  # fmt: skip
    done = folder / DONE
    if (
        done.exists()
        and json.loads(done.read_text()).get("database") == database_url
        and _database_exists(database_url)
    ):
        return env, steps
    done.unlink(missing_ok=True)
    shutil.rmtree(folder / "data", ignore_errors=True)
    _database(database_url, create=True, marker=DB_MARKER)
    steps.append(run_measured("set-up: migrate, load_ontology", [sys.executable, "-c", (
        "import django\ndjango.setup()\nfrom django.core.management import call_command\n"
        "call_command('migrate', interactive=False, verbosity=0)\ncall_command('load_ontology', verbosity=0)\n"
    )], log=log, env=env))  # fmt: skip
    steps.append(run_measured("set-up: manage.py ingest_release --workers 2", [
        sys.executable, str(ROOT / "manage.py"), "ingest_release", str(bundle), "--version", RELEASE,
        "--workers", "2"], log=log, env=env))  # fmt: skip
    done.write_text(json.dumps({"database": database_url}) + "\n")
    return env, steps


# In the child processes (Django set up) ------------------------------------------------------------------


def _researcher_and_project():
    """An accredited researcher, a domain with its lead, and the researcher's project, approved: all through
    the services, as the people themselves would do it."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import CURRENT_AGREEMENT_VERSION, ResearcherProfile, Role
    from accounts.services import role_grant, user_create
    from domains.models import Domain, Programme
    from domains.services import membership_apply, membership_approve, project_approve, project_register

    lead = user_create(email="lead@bench.example", password=None, full_name="Domain Lead")
    researcher = user_create(email="researcher@bench.example", password=None, full_name="Bench Researcher")
    role_grant(user=researcher, role=Role.RESEARCHER, by=None)
    profile = ResearcherProfile.objects.get(user=researcher)
    profile.institution = "Bench University"
    profile.training_completed_on = timezone.localdate() - timedelta(days=30)
    profile.agreement_version = CURRENT_AGREEMENT_VERSION
    profile.agreement_accepted_at = timezone.now()
    profile.save()
    domain = Domain.objects.create(slug="bench", name="Benchmarks", programme=Programme.RARE_DISEASE,
                                   description="Case-control association benchmark.")  # fmt: skip
    role_grant(user=lead, role=Role.DOMAIN_LEAD, obj=domain, by=None)
    application = membership_apply(domain=domain, by=researcher, justification="I run the benchmark's jobs.")
    membership_approve(application=application, by=lead, reason="Benchmark.")
    project = project_register(
        domain=domain, by=researcher, title="Association benchmark", lay_summary="Timing an analysis.",
        aims="Time the whole association job.", data_needed="Germline genomes.",
        planned_outputs="Timings.", end_date=timezone.localdate() + timedelta(days=365),
    )  # fmt: skip
    project_approve(project=project, by=lead, reason="Benchmark.")
    return researcher


def people_and_cohorts() -> dict:
    """A researcher with an approved project and the two cohorts (saved once, then reused)."""
    from django.db import transaction
    from django.db.models import Count

    from accounts.models import User
    from cohorts.models import Cohort
    from cohorts.services import cohort_create
    from domains.models import Project
    from participants.selectors import release_consenting, release_current

    release = release_current()
    if release is None:
        raise SystemExit("no current release: the ingest did not finish")
    researcher = User.objects.filter(email="researcher@bench.example").first()
    if researcher is None:
        with transaction.atomic():
            researcher = _researcher_and_project()
    project = Project.objects.get(owner=researcher, title="Association benchmark")
    cohorts = {c.name: c for c in Cohort.objects.filter(project=project, release=release)}
    if {"Cases", "Controls"} - set(cohorts):
        # The recruiting centres split in two halves as even as possible (largest first, to the smaller half).
        sizes = release_consenting(release).values("recruiting_centre").annotate(n=Count("pk")).order_by("-n")
        halves: tuple[list[str], list[str]] = ([], [])
        totals = [0, 0]
        for row in sizes:
            k = 0 if totals[0] <= totals[1] else 1
            halves[k].append(row["recruiting_centre"])
            totals[k] += row["n"]
        for name, centres in (("Cases", halves[0]), ("Controls", halves[1])):
            cohorts[name] = cohort_create(by=researcher, project=project, name=name, criteria_json={
                "include_all": [{"type": "recruiting_centre", "values": centres}]})  # fmt: skip
    return {"project": project.pk, "researcher": researcher.pk, "cases": cohorts["Cases"].pk,
            "controls": cohorts["Controls"].pk}  # fmt: skip


def export_reference_inputs(cases: int, controls: int, folder: str) -> dict:
    """The samples, phenotype and covariates of the job, as PLINK files, and the packed matrix's prefix."""
    from collections import Counter

    from django.conf import settings

    from cohorts.models import Cohort
    from cohorts.services import cohort_members_for_job
    from genomics.store import GenotypeStore
    from participants.loader import store_path_for
    from participants.models import Participant

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    members = {role: {s for _, s in cohort_members_for_job(cohort=Cohort.objects.get(pk=pk)) if s is not None}
               for role, pk in (("cases", cases), ("controls", controls))}  # fmt: skip
    members["controls"] -= members["cases"]  # members of both are cases only, as the job counts them
    prefix = GenotypeStore(Path(settings.DATA_ROOT) / store_path_for(RELEASE)).packed_prefix
    fam = [line.split()[:2] for line in Path(f"{prefix}.fam").read_text().splitlines()]
    samples = sorted(members["cases"] | members["controls"])
    rows = {p["sample_index"]: p for p in Participant.objects.filter(
        release__name=RELEASE, sample_index__in=samples).values("sample_index", "sex", "age_at_consent",
                                                                "genetic_ancestry")}  # fmt: skip
    common = Counter(rows[s]["genetic_ancestry"] for s in samples).most_common(1)[0][0]
    levels = sorted({rows[s]["genetic_ancestry"] for s in samples} - {common})
    with open(out / "samples.txt", "w") as keep, open(out / "pheno.txt", "w") as pheno:
        pheno.write("#FID\tIID\tPHENO1\n")
        for s in samples:
            fid, iid = fam[s]
            keep.write(f"{fid}\t{iid}\n")
            pheno.write(f"{fid}\t{iid}\t{2 if s in members['cases'] else 1}\n")
    with open(out / "covar-base.txt", "w") as covar:
        covar.write("\t".join(["#FID", "IID", "MALE", "AGE", *(f"ANC_{level}" for level in levels)]) + "\n")
        for s in samples:
            r = rows[s]
            values = [int(r["sex"] == "male"), r["age_at_consent"]]
            values += [int(r["genetic_ancestry"] == level) for level in levels]
            covar.write("\t".join(map(str, [*fam[s], *values])) + "\n")
    return {"prefix": str(prefix), "cases": len(members["cases"]), "controls": len(members["controls"])}


def submit_and_wait(researcher: int, project: int, cases: int, controls: int, timeout: float) -> dict:
    """Submit the association through the service the page and the API use; poll its row until it is done."""
    from accounts.models import User
    from analysis.models import AnalysisJob, JobBlock, JobStatus
    from analysis.services import job_submit
    from cohorts.models import Cohort
    from domains.models import Project

    by, where = User.objects.get(pk=researcher), Project.objects.get(pk=project)
    inputs = [("cases", Cohort.objects.get(pk=cases)), ("controls", Cohort.objects.get(pk=controls))]
    start = time.perf_counter()
    job = job_submit(by=by, project=where, job_type="association", inputs=inputs, parameters={})
    submitted = time.perf_counter() - start
    stages: list[tuple[str, float]] = []
    while True:
        row = AnalysisJob.objects.values("status", "stage").get(pk=job.pk)
        now = time.perf_counter() - start
        if not stages or stages[-1][0] != row["stage"]:
            stages.append((row["stage"], now))
        if row["status"] in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED):
            break
        if now > timeout:
            raise SystemExit(f"job {job.pk} not done after {timeout:.0f} s")
        time.sleep(0.1)
    job.refresh_from_db()
    if job.status != JobStatus.SUCCEEDED:
        raise SystemExit(f"job {job.pk} {job.status}: {job.error}")
    assert job.started_at is not None and job.finished_at is not None  # a job that succeeded has both
    log = [((e.at - job.queued_at).total_seconds(), e.message) for e in job.log_entries.all()]
    blocks = [(b.index, b.seconds, b.worker) for b in JobBlock.objects.filter(job=job, attempt=job.attempts)]
    return {
        "job": job.pk, "seconds": now, "submit_seconds": submitted, "parameters": job.parameters,
        "waited": (job.started_at - job.queued_at).total_seconds(),
        "ran": (job.finished_at - job.started_at).total_seconds(), "stages": stages, "log": log, "blocks": blocks,
        "genomes": [i.genome_count for i in job.inputs.order_by("position")],
    }  # fmt: skip


# The worker processes -------------------------------------------------------------------------------------


class Workers:
    """``celery -A portal worker`` processes on the heavy and interactive queues, one slot each."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env, self.folder = env, folder
        self.procs: list[tuple[subprocess.Popen, Path]] = []

    def start(self, n: int) -> None:
        for i in range(n):
            log = self.folder / f"worker-{n}-{i}.log"
            with open(log, "w") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", "heavy,interactive",
                     "--concurrency", "1", "--loglevel", "INFO", "-n", f"bench{i}@%h"],
                    stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=ROOT,
                )  # fmt: skip
            self.procs.append((proc, log))
        deadline = time.monotonic() + 120
        while not all(" ready." in log.read_text(errors="replace") for _, log in self.procs):
            if time.monotonic() > deadline or any(p.poll() is not None for p, _ in self.procs):
                self.stop()
                raise SystemExit(f"the workers did not start; see {self.folder}/worker-*.log")
            time.sleep(0.2)

    def stop(self) -> list[tuple[float, float]]:
        """Stop them (warm shutdown); the peak RSS (MB) and CPU seconds of each, its pool process included."""
        peaks = []
        for proc, _ in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _ in self.procs:
            try:
                _, _, usage = os.wait4(proc.pid, 0)
                peaks.append((usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime))
            except ChildProcessError:
                peaks.append((0.0, 0.0))
        self.procs = []
        return peaks


def _flush_broker(url: str) -> None:
    """Empty the benchmark's own Redis database (no task of an earlier run is left queued)."""
    import redis

    redis.Redis.from_url(url).flushdb()


def _reference(prefix: str, ref: Path, samples: int, log: Path) -> list[Measurement]:
    """The reference tools' whole run for the job's outputs; the PCs are merged into the covariates between."""
    keep, pheno = ["--keep", str(ref / "samples.txt")], ["--pheno", str(ref / "pheno.txt")]
    p2 = ["plink2", "--bfile", prefix, *keep, "--threads", "2"]
    p1 = ["plink1.9", "--bfile", prefix, *keep, *pheno, "--threads", "2", "--allow-no-sex", "--keep-allele-order",
          "--maf", "0.01", "--mac", "20"]  # fmt: skip
    steps = [
        run_measured(
            "plink2 --maf 0.05 --indep-pairwise 50 5 0.2",
            [*p2, "--maf", "0.05", "--indep-pairwise", "50", "5", "0.2", "--out", str(ref / "prune")],
            log=log,
        ),  # fmt: skip
        run_measured(
            "plink2 --pca 4" + (" approx" if samples > 5000 else ""),
            [
                *p2,
                "--extract",
                str(ref / "prune.prune.in"),
                "--pca",
                "4",
                *(["approx"] if samples > 5000 else []),
                "--out",
                str(ref / "pca"),
            ],
            log=log,
        ),  # fmt: skip
    ]
    pcs = {}
    for line in (ref / "pca.eigenvec").read_text().splitlines()[1:]:
        f = line.split()
        pcs[(f[0], f[1])] = f[2:6]
    base = (ref / "covar-base.txt").read_text().splitlines()
    with open(ref / "covar.txt", "w") as covar:
        covar.write(base[0] + "\tPC1\tPC2\tPC3\tPC4\n")
        for line in base[1:]:
            f = line.split("\t")
            covar.write(line + "\t" + "\t".join(pcs[(f[0], f[1])]) + "\n")
    steps += [
        run_measured(
            "plink1.9 --assoc --ci 0.95 (chi-square, OR, CI)",
            [*p1, "--assoc", "--ci", "0.95", "--out", str(ref / "assoc")],
            log=log,
        ),  # fmt: skip
        run_measured("plink1.9 --assoc fisher", [*p1, "--assoc", "fisher", "--out", str(ref / "fisher")], log=log),
        run_measured("plink1.9 --hardy (HWE in controls)", [*p1, "--hardy", "--out", str(ref / "hardy")], log=log),
        run_measured(
            "plink2 --glm firth-fallback, sex, age, ancestry, 4 PCs",
            [
                *p2,
                *pheno,
                "--covar",
                str(ref / "covar.txt"),
                "--covar-variance-standardize",
                "--maf",
                "0.01",
                "--mac",
                "20",
                "--glm",
                "hide-covar",
                "firth-fallback",
                "--out",
                str(ref / "glm"),
            ],
            log=log,
        ),  # fmt: skip
    ]
    return steps


def main(args) -> None:
    if shutil.which("plink2") is None or shutil.which("plink1.9") is None:
        raise SystemExit("plink2 and plink1.9 are needed (Debian: apt-get install plink2 plink1.9)")
    work = args.workdir / f"{args.samples}x{args.variants}"
    folder = work / "release"
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "bench.log"
    setup_start = time.perf_counter()
    env, setup = prepare_release(folder, samples=args.samples, variants=args.variants, seed=args.seed,
                                 database_url=args.database_url, broker_url=args.broker_url, log=log)  # fmt: skip
    ids = _call("people_and_cohorts", env=env, log=log)
    ref = folder / "reference"
    shutil.rmtree(ref, ignore_errors=True)
    inputs = _call("export_reference_inputs", ids["cases"], ids["controls"], str(ref), env=env, log=log)
    print(f"set-up: {time.perf_counter() - setup_start:.0f} s (" + (", ".join(
        f"{s.name.removeprefix('set-up: ')} {s.seconds:.0f} s" for s in setup) or "release reused") + ")")  # fmt: skip
    print(f"release: {folder}; cases {inputs['cases']:,}, controls {inputs['controls']:,} (with a genome)", flush=True)

    jobs = {}
    for n in args.worker_counts:
        _flush_broker(args.broker_url)
        workers = Workers(env, folder)
        workers.start(n)
        try:
            jobs[n] = _call("submit_and_wait", ids["researcher"], ids["project"], ids["cases"], ids["controls"],
                            float(args.timeout), env=env, log=log)  # fmt: skip
        finally:
            jobs.setdefault(n, {})["peaks"] = workers.stop()
        print(f"  job, {n} worker(s): {jobs[n]['seconds']:.1f} s", flush=True)
    steps = _reference(inputs["prefix"], ref, inputs["cases"] + inputs["controls"], log)
    for s in steps:
        print(f"  {s.name}: {s.seconds:.1f} s", flush=True)

    reference = sum(s.seconds for s in steps)
    reference_cpu = sum(s.cpu_seconds for s in steps)
    load = os.getloadavg()
    print()
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}; load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f} at the end; {time.strftime('%Y-%m-%d %H:%M %Z')}")  # fmt: skip
    first = jobs[args.worker_counts[0]]
    print(
        f"release {args.samples:,} participants x {args.variants:,} variants; job {first['job']}: cases "
        f"{first['genomes'][0]:,}, controls {first['genomes'][1]:,}; parameters {json.dumps(first['parameters'])}"
    )
    print("\n| step | wall s | CPU s | peak RSS MB |\n| --- | ---: | ---: | ---: |")
    for n, job in jobs.items():
        cpu = sum(c for _, c in job["peaks"])
        peaks = ", ".join(f"{p:,.0f}" for p, _ in job["peaks"])
        name = f"whole job, submit to succeeded, {n} worker process(es) of 1 slot"
        print(f"| {name} | {job['seconds']:.1f} | {cpu:.1f} | {peaks} |")
    for s in steps:
        print(f"| {s.name} | {s.seconds:.1f} | {s.cpu_seconds:.1f} | {s.peak_rss_mb:,.0f} |")
    print(f"| reference tools' whole run (sum) | {reference:.1f} | {reference_cpu:.1f} | |")
    print()
    for n, job in jobs.items():
        print(f"whole job, {n} worker(s): {job['seconds']:.1f} s = {job['seconds'] / reference:.2f}x the reference "
              f"tools' whole run (target: at most 1.5x)")  # fmt: skip
    if 1 in jobs and 2 in jobs:
        print(f"two workers against one: speed-up {jobs[1]['seconds'] / jobs[2]['seconds']:.2f}x")
    for n, job in jobs.items():
        print(f"\njob {job['job']} ({n} worker(s)): submit {job['submit_seconds']:.2f} s, waited for a worker "
              f"{job['waited']:.2f} s, ran {job['ran']:.1f} s (started to finished)")  # fmt: skip
        stages = job["stages"] + [("succeeded", job["seconds"])]
        print("  stages seen on the row (from the submit): " + ", ".join(
            f"{a} {t:.1f}-{u:.1f} s" for (a, t), (_, u) in zip(stages, stages[1:], strict=False)))  # fmt: skip
        for at, message in job["log"]:
            print(f"  log {at:7.1f} s  {message}")
        for index, seconds, worker in job["blocks"]:
            print(f"  block {index}: {seconds or 0:.1f} s on {worker}")
