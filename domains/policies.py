"""What the current state allows: the two workflows of this app as explicit
state machines.

Each workflow is one table of allowed transitions. Every transition names the
*party* that may take it: the applicant (for a project, its owner), a lead of
the domain, or the system. Which *person* counts as that party is decided in
``domains.permissions``; this module only knows states.

``docs/domains-workflows.md`` is generated from these tables
(``python manage.py domains_workflow_doc``) and a test keeps it current.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from domains.models import MembershipStatus, ProjectStatus


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


class TransitionNotAllowed(Exception):
    """The object's state does not allow this action; the message says why."""


@dataclass(frozen=True)
class Transition:
    source: str
    action: Action
    target: str
    party: Party
    note: str


@dataclass(frozen=True)
class Workflow:
    name: str
    thing: str
    statuses: tuple[str, ...]
    labels: dict[str, str]
    initial: str
    transitions: tuple[Transition, ...]

    def transition(self, source: str, action: Action) -> Transition:
        for candidate in self.transitions:
            if candidate.source == source and candidate.action == action:
                return candidate
        raise TransitionNotAllowed(
            f"This {self.thing} is {self.labels[source].lower()}, so it cannot be {_PAST[action]} now."
        )

    def allows(self, source: str, action: Action) -> bool:
        return any(t.source == source and t.action == action for t in self.transitions)

    def parties_in(self, status: str) -> frozenset[Party]:
        """Who may act while an object is in ``status`` (empty: the status is final)."""
        return frozenset(t.party for t in self.transitions if t.source == status)

    def actions_for(self, status: str, party: Party) -> tuple[Action, ...]:
        return tuple(t.action for t in self.transitions if t.source == status and t.party == party)

    def terminal(self) -> frozenset[str]:
        return frozenset(s for s in self.statuses if not self.parties_in(s))

    def mermaid(self) -> str:
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for t in self.transitions:
            lines.append(f"    {t.source} --> {t.target}: {t.action} ({t.party})")
        lines.extend(f"    {status} --> [*]" for status in self.statuses if status in self.terminal())
        return "\n".join(lines)


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
        parts += ["", f"## {workflow.name}", "", "```mermaid", workflow.mermaid(), "```", ""]
        parts += ["| status | meaning | who may act | actions |", "| --- | --- | --- | --- |"]
        for status in workflow.statuses:
            parties = ", ".join(sorted(workflow.parties_in(status))) or "nobody (final)"
            actions = "; ".join(
                f"{t.action} → {t.target} ({t.party}: {t.note})" for t in workflow.transitions if t.source == status
            )
            parts.append(f"| `{status}` | {workflow.labels[status]} | {parties} | {actions or '—'} |")
    return "\n".join(parts) + "\n"
