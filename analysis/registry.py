"""The registry of job types: every module of ``analysis.jobtypes`` (and of
``ANALYSIS_EXTRA_JOB_TYPES``) that defines ``JOB_TYPE``. Adding a type is
adding a module; nothing else changes."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from django.conf import settings
from django.http import Http404

from analysis import jobtypes
from analysis.jobtype import JobType


@cache
def job_types() -> dict[str, JobType]:
    """Slug -> job type, in the order of their titles."""
    modules = [f"{jobtypes.__name__}.{m.name}" for m in pkgutil.iter_modules(jobtypes.__path__) if not m.ispkg]
    found: dict[str, JobType] = {}
    for name in [*sorted(modules), *settings.ANALYSIS_EXTRA_JOB_TYPES]:
        module = importlib.import_module(name)
        jobtype = getattr(module, "JOB_TYPE", None)
        if jobtype is None:
            continue
        if not isinstance(jobtype, JobType):
            raise TypeError(f"{name}.JOB_TYPE is not a JobType")
        jobtype.check_declaration()
        if jobtype.slug in found:
            raise ValueError(f"two job types are called {jobtype.slug!r}")
        found[jobtype.slug] = jobtype
    return dict(sorted(found.items(), key=lambda item: item[1].title))


def job_type(slug: str) -> JobType:
    """The type called ``slug``; KeyError if there is none."""
    return job_types()[slug]


def job_type_or_404(slug: str) -> JobType:
    try:
        return job_type(slug)
    except KeyError:
        raise Http404 from None
