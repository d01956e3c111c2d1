"""What the current state allows: the two workflows of this app as explicit
state machines.

Each workflow is one table of allowed transitions. Every transition names the
*party* that may take it: the applicant (for a project, its owner), a lead of
the domain, or the system. Which *person* counts as that party is decided in
``domains.permissions``; this module only knows states.

The machinery (``Workflow``, ``Transition``, ``TransitionNotAllowed``) is
shared with other apps and lives in ``workflows``.

``docs/domains-workflows.md`` is generated from these tables
(``python manage.py domains_workflow_doc``) and a test keeps it current.
"""

from __future__ import annotations

import enum

from domains.models import MembershipStatus, ProjectStatus
from workflows import Transition, TransitionNotAllowed, Workflow

__all__ = ["MEMBERSHIP", "PROJECT", "WORKFLOWS", "Action", "Party", "Transition", "TransitionNotAllowed", "Workflow"]


class Party(enum.StrEnum):
    APPLICANT = "applicant"
    LEAD = "lead"
    SYSTEM = "system"


class Action(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    RETURN = "return"
    RESUBMIT = "resubmit"
    WITHDRAW = "withdraw"
    REVOKE = "revoke"
    CLOSE = "close"


_PAST = {
    Action.APPROVE: "approved",
    Action.REJECT: "rejected",
    Action.RETURN: "returned for changes",
    Action.RESUBMIT: "resubmitted",
    Action.WITHDRAW: "withdrawn",
    Action.REVOKE: "revoked",
    Action.CLOSE: "closed",
}

_M = MembershipStatus
MEMBERSHIP = Workflow(
    name="Membership application",
    thing="application",
    statuses=tuple(_M.values),
    labels=dict(_M.choices),
    initial=_M.PENDING,
    past=_PAST,
    transitions=(
        Transition(_M.PENDING, Action.APPROVE, _M.APPROVED, Party.LEAD, "the applicant becomes a member"),
        Transition(_M.PENDING, Action.REJECT, _M.REJECTED, Party.LEAD, "with a reason; the applicant may apply again"),
        Transition(_M.PENDING, Action.WITHDRAW, _M.WITHDRAWN, Party.APPLICANT, "before a decision"),
        Transition(_M.APPROVED, Action.REVOKE, _M.REVOKED, Party.LEAD, "with a reason; effective on the next request"),
    ),
)

_P = ProjectStatus
PROJECT = Workflow(
    name="Project",
    thing="project",
    statuses=tuple(_P.values),
    labels=dict(_P.choices),
    initial=_P.SUBMITTED,
    past=_PAST,
    transitions=(
        Transition(
            _P.SUBMITTED, Action.APPROVE, _P.APPROVED, Party.LEAD, "its members may reach data until the end date"
        ),
        Transition(_P.SUBMITTED, Action.REJECT, _P.REJECTED, Party.LEAD, "with a reason"),
        Transition(_P.SUBMITTED, Action.RETURN, _P.RETURNED, Party.LEAD, "with the changes asked for"),
        Transition(_P.SUBMITTED, Action.WITHDRAW, _P.WITHDRAWN, Party.APPLICANT, "by the owner"),
        Transition(_P.RETURNED, Action.RESUBMIT, _P.SUBMITTED, Party.APPLICANT, "the owner edits and resubmits"),
        Transition(_P.RETURNED, Action.WITHDRAW, _P.WITHDRAWN, Party.APPLICANT, "by the owner"),
        Transition(_P.APPROVED, Action.CLOSE, _P.CLOSED, Party.SYSTEM, "after the end date (access already stopped)"),
    ),
)

WORKFLOWS = (MEMBERSHIP, PROJECT)


def workflows_document() -> str:
    """The text of docs/domains-workflows.md."""
    parts = [
        "# Domain workflows",
        "",
        "<!-- Generated from domains/policies.py by `python manage.py domains_workflow_doc`; do not edit. -->",
        "",
        "Parties: **applicant** (the researcher who applied; for a project, its owner), "
        "**lead** (a lead of the domain concerned, never the applicant themself) and **system** "
        "(the portal, on a schedule).",
    ]
    for workflow in WORKFLOWS:
        parts += workflow.document_section()
    return "\n".join(parts) + "\n"
