"""A loaded release, the personas and their small world, saved cohorts, and
two ways to run jobs: in this process (Celery eager, for what a job computes)
and through real worker processes over Redis (for queuing)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from cohorts.services import cohort_create
from portal.celery import app

# The release and the personas of the cohort tests.
from tests.integration.cohorts.conftest import (  # noqa: F401
    applicant,
    domain,
    lead,
    member,
    other_domain,
    other_lead,
    people,
    prepared_release,
    release,
    world,
)
from tests.subprocess_env import child_env

CANCER = {"include_all": [{"type": "programme", "values": ["cancer"]}]}
FEMALE = {"include_all": [{"type": "sex", "values": ["female"]}]}
NOBODY = {"include_all": [{"type": "sex", "values": ["female"]}, {"type": "sex", "values": ["male"]}]}


@pytest.fixture
def data_root(tmp_path, settings, prepared_release):  # noqa: F811
    """DATA_ROOT holding the release's store (a link to the session's) and this test's job results."""
    root = tmp_path / "data"
    (root / "releases").mkdir(parents=True)
    for entry in (prepared_release.data_root / "releases").iterdir():
        os.symlink(entry, root / "releases" / entry.name)
    settings.DATA_ROOT = root
    return root


@pytest.fixture
def cohorts(release, world, data_root):  # noqa: F811
    """Two saved cohorts of the approved project (overlapping), made by its owner."""
    project = world.approved_project
    cancer = cohort_create(by=project.owner, project=project, name="Cancer", criteria_json=CANCER)
    female = cohort_create(by=project.owner, project=project, name="Female", criteria_json=FEMALE)
    return cancer, female


@pytest.fixture
def eager(django_capture_on_commit_callbacks) -> Callable:
    """eager(fn) runs fn with Celery tasks executed in this process, after-commit callbacks included."""

    @contextmanager
    def run() -> Iterator[None]:
        app.conf.task_always_eager = True
        app.conf.task_eager_propagates = True
        try:
            with django_capture_on_commit_callbacks(execute=True):
                yield
        finally:
            app.conf.task_always_eager = False
            app.conf.task_eager_propagates = False

    return run


class Workers:
    """Real Celery worker processes over the test broker, on a queue of their own."""

    def __init__(self, tmp_path: Path, data_root: Path) -> None:
        self.queue = f"test-{uuid.uuid4().hex[:8]}"
        self.tmp_path = tmp_path
        self.data_root = data_root
        self.processes: list[tuple[subprocess.Popen, object, Path]] = []

    def start(self, n: int = 1, *, pool: str = "solo", **env: str) -> None:
        for _ in range(n):
            log_path = self.tmp_path / f"worker-{len(self.processes)}.log"
            log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", pool, "--concurrency", "1",
                 "-Q", self.queue, "--without-heartbeat", "--without-gossip", "--without-mingle",
                 "--loglevel", "INFO", "-n", f"w{len(self.processes)}-{self.queue}@%h"],
                env=child_env(CELERY_BROKER_URL=settings.CELERY_BROKER_URL, DATA_ROOT=str(self.data_root), **env),
                stdout=log, stderr=subprocess.STDOUT, cwd=os.getcwd(),
            )  # fmt: skip
            self.processes.append((process, log, log_path))
        # Ready means consuming: a job submitted before a worker is ready may be run by the others alone.
        wait_for(self._all_ready, timeout=90, what=f"{n} worker(s) to be ready", logs=self.logs)

    def _all_ready(self) -> bool:
        for process, _, path in self.processes:
            if process.poll() is not None:
                raise AssertionError(f"a worker exited with {process.returncode}:\n{path.read_text()[-4000:]}")
        return all(" ready." in path.read_text(errors="replace") for _, _, path in self.processes)

    def logs(self) -> str:
        return "\n".join(path.read_text() for _, _, path in self.processes)

    def stop(self) -> None:
        for process, _, _ in self.processes:
            process.terminate()
        for process, log, _ in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()
        self.processes = []


@pytest.fixture
def workers(tmp_path, data_root, settings, monkeypatch) -> Iterator[Workers]:
    """Workers on a queue of their own: every job type is routed there while the test runs."""
    from analysis import registry

    pool = Workers(tmp_path, data_root)
    for jobtype in registry.job_types().values():
        monkeypatch.setattr(jobtype, "queue", pool.queue)
    yield pool
    pool.stop()


def wait_for(predicate: Callable[[], object], *, timeout: float = 90, what: str = "", logs: Callable[[], str] = str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{logs()[-4000:]}")
