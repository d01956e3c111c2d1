"""What an output request's current status allows: its workflow as an explicit
state machine (the ``workflows`` machinery, as ``domains.policies`` and
``analysis.policies`` use).

Parties: the **author** (the project member who made the request), a
**checker** (an output checker who is neither the author nor a member of the
project: ``airlock.permissions``) and the **system** (the portal releasing
approved files). ``docs/airlock-workflow.md`` is generated from this table
(``python manage.py airlock_workflow_doc``) and a test keeps it current.
"""

from __future__ import annotations

import enum

from airlock.models import RequestStatus
from workflows import Transition, TransitionNotAllowed, Workflow

__all__ = ["REQUEST", "Action", "Party", "TransitionNotAllowed", "workflow_document"]


class Party(enum.StrEnum):
    AUTHOR = "author"
    CHECKER = "checker"
    SYSTEM = "system"


class Action(enum.StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    RESUBMIT = "resubmit"
    WITHDRAW = "withdraw"
    REVIEW = "review"
    APPROVE = "approve"
    RETURN = "return"
    REJECT = "reject"
    RELEASE = "release"


_PAST = {
    Action.EDIT: "changed",
    Action.SUBMIT: "submitted",
    Action.RESUBMIT: "resubmitted",
    Action.WITHDRAW: "withdrawn",
    Action.REVIEW: "reviewed",
    Action.APPROVE: "approved",
    Action.RETURN: "returned",
    Action.REJECT: "rejected",
    Action.RELEASE: "released",
}

_S = RequestStatus
REQUEST = Workflow(
    name="Output request",
    thing="request",
    statuses=tuple(_S.values),
    labels=dict(_S.choices),
    initial=_S.PENDING,
    past=_PAST,
    transitions=(
        Transition(_S.PENDING, Action.EDIT, _S.PENDING, Party.AUTHOR, "files added, changed or removed; checks run"),
        Transition(_S.PENDING, Action.SUBMIT, _S.SUBMITTED, Party.AUTHOR,
                   "every file with context and controls; a failing one with a justification"),
        Transition(_S.PENDING, Action.WITHDRAW, _S.WITHDRAWN, Party.AUTHOR, "before review"),
        Transition(_S.SUBMITTED, Action.REVIEW, _S.PARTIALLY_REVIEWED, Party.CHECKER,
                   "a first checker submits their review"),
        Transition(_S.PARTIALLY_REVIEWED, Action.REVIEW, _S.REVIEWED, Party.CHECKER,
                   "a second checker submits theirs: votes are no longer blind"),
        Transition(_S.REVIEWED, Action.REVIEW, _S.REVIEWED, Party.CHECKER, "a third checker settles a conflict"),
        Transition(_S.REVIEWED, Action.APPROVE, _S.APPROVED, Party.CHECKER,
                   "every file approved by two votes; files frozen by SHA-256"),
        Transition(_S.REVIEWED, Action.RETURN, _S.RETURNED, Party.CHECKER, "back to the author for changes"),
        Transition(_S.REVIEWED, Action.REJECT, _S.REJECTED, Party.CHECKER, "nothing leaves"),
        Transition(_S.RETURNED, Action.EDIT, _S.RETURNED, Party.AUTHOR, "files added, changed or removed; checks run"),
        Transition(_S.RETURNED, Action.RESUBMIT, _S.SUBMITTED, Party.AUTHOR,
                   "a new round: changed files re-reviewed, 'request changes' on unchanged ones undecided"),
        Transition(_S.RETURNED, Action.WITHDRAW, _S.WITHDRAWN, Party.AUTHOR, "instead of resubmitting"),
        Transition(_S.APPROVED, Action.RELEASE, _S.RELEASED, Party.SYSTEM,
                   "frozen bytes verified, disclosure record written, the ledger entry made"),
    ),
)  # fmt: skip


def workflow_document() -> str:
    """The text of docs/airlock-workflow.md."""
    parts = [
        "# Airlock: output request workflow",
        "",
        "<!-- Generated from airlock/policies.py by `python manage.py airlock_workflow_doc`; do not edit. -->",
        "",
        "Parties: **author** (the project member who made the request, while they may reach the project's "
        "data), **checker** (an output checker who is neither the author nor a member of the project) and "
        "**system** (the portal, releasing approved files after the approval commits).",
        "",
        "Files can be added, changed or removed only in `pending` and `returned` (the `edit` action); "
        "a changed file loses its votes. A checker's votes are blind to other checkers until two reviews "
        "of the round are submitted. A file is approved by two approving votes; disagreement shows as "
        "conflicted until a third checker's vote settles it.",
        *REQUEST.document_section(),
    ]
    return "\n".join(parts) + "\n"
