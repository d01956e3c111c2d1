"""What a job's current status allows: the job workflow as an explicit state machine.

Parties: a **member** (an accredited member of the job's project with data
access, see ``analysis.permissions``) and the **system** (a worker, or the
sweeper on its schedule). ``docs/analysis-workflow.md`` is generated from this
table (``python manage.py analysis_workflow_doc``) and a test keeps it current.
"""

from __future__ import annotations

import enum

from analysis.models import JobStatus
from workflows import Transition, TransitionNotAllowed, Workflow

__all__ = ["JOB", "Action", "Party", "TransitionNotAllowed", "workflow_document"]


class Party(enum.StrEnum):
    MEMBER = "member"
    SYSTEM = "system"


class Action(enum.StrEnum):
    START = "start"
    REPUBLISH = "republish"
    CANCEL = "cancel"
    STOP = "stop"
    SUCCEED = "succeed"
    FAIL = "fail"
    RETRY = "retry"


_PAST = {
    Action.START: "started",
    Action.REPUBLISH: "handed to the workers again",
    Action.CANCEL: "cancelled",
    Action.STOP: "stopped",
    Action.SUCCEED: "finished",
    Action.FAIL: "failed",
    Action.RETRY: "retried",
}

_S = JobStatus
JOB = Workflow(
    name="Analysis job",
    thing="job",
    statuses=tuple(_S.values),
    labels=dict(_S.choices),
    initial=_S.QUEUED,
    past=_PAST,
    transitions=(
        Transition(_S.QUEUED, Action.START, _S.RUNNING, Party.SYSTEM, "a worker claims it, if the project has a slot"),
        Transition(_S.QUEUED, Action.REPUBLISH, _S.QUEUED, Party.SYSTEM, "the sweeper hands a lost publish again"),
        Transition(_S.QUEUED, Action.CANCEL, _S.CANCELLED, Party.MEMBER, "it never starts"),
        Transition(_S.QUEUED, Action.FAIL, _S.FAILED, Party.SYSTEM, "its inputs cannot be read"),
        Transition(_S.RUNNING, Action.CANCEL, _S.RUNNING, Party.MEMBER, "asks the worker to stop at its next block"),
        Transition(_S.RUNNING, Action.STOP, _S.CANCELLED, Party.SYSTEM, "the worker stops after a cancel"),
        Transition(_S.RUNNING, Action.SUCCEED, _S.SUCCEEDED, Party.SYSTEM, "results written and renamed into place"),
        Transition(
            _S.RUNNING, Action.FAIL, _S.FAILED, Party.SYSTEM, "an error, the time limit, or a worker that went silent"
        ),
        Transition(_S.FAILED, Action.RETRY, _S.QUEUED, Party.MEMBER, "the same inputs and parameters, queued again"),
    ),
)


def workflow_document() -> str:
    """The text of docs/analysis-workflow.md."""
    parts = [
        "# Analysis job workflow",
        "",
        "<!-- Generated from analysis/policies.py by `python manage.py analysis_workflow_doc`; do not edit. -->",
        "",
        "Parties: **member** (an accredited member of the job's project, while the project is approved "
        "and current) and **system** (a worker running the job, or the sweeper on its schedule).",
        "",
        "The finer *stage* of a job (waiting for a worker, waiting for a slot, reading genotypes, "
        "writing results...) says why a queued job waits or what a running one is doing; it is not a status.",
        *JOB.document_section(),
    ]
    return "\n".join(parts) + "\n"
