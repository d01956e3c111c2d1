"""Explicit state machines shared by every app with a workflow (domains,
analysis jobs, and the airlock to come). Plain Python, no Django.

A :class:`Workflow` is one table of allowed transitions; each transition names
the *party* that may take it. Which person counts as that party is each app's
``permissions`` module's business; this module only knows states. Each app
keeps its own ``Party`` and ``Action`` enums and the past tense of its actions
(for refusals a person can read), and renders its diagram with
:meth:`Workflow.document_section`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

A = TypeVar("A", bound=enum.StrEnum)  # the workflow's actions
P = TypeVar("P", bound=enum.StrEnum)  # its parties


class TransitionNotAllowed(Exception):
    """The object's state does not allow this action; the message says why."""


@dataclass(frozen=True)
class Transition(Generic[A, P]):
    source: str
    action: A
    target: str
    party: P
    note: str


@dataclass(frozen=True)
class Workflow(Generic[A, P]):
    name: str
    thing: str
    statuses: tuple[str, ...]
    labels: dict[str, str]
    initial: str
    transitions: tuple[Transition[A, P], ...]
    # How each action reads in "... so it cannot be <past> now."
    past: Mapping[A, str] = field(default_factory=dict)

    def transition(self, source: str, action: A) -> Transition[A, P]:
        for candidate in self.transitions:
            if candidate.source == source and candidate.action == action:
                return candidate
        done = self.past.get(action, f"{action}ed")
        raise TransitionNotAllowed(f"This {self.thing} is {self.labels[source].lower()}, so it cannot be {done} now.")

    def allows(self, source: str, action: A) -> bool:
        return any(t.source == source and t.action == action for t in self.transitions)

    def parties_in(self, status: str) -> frozenset[P]:
        """Who may act while an object is in ``status`` (empty: the status is final)."""
        return frozenset(t.party for t in self.transitions if t.source == status)

    def actions_for(self, status: str, party: P) -> tuple[A, ...]:
        return tuple(t.action for t in self.transitions if t.source == status and t.party == party)

    def party_for(self, action: A) -> P:
        """The one party that takes ``action`` (LookupError if none or several)."""
        parties = {t.party for t in self.transitions if t.action == action}
        if len(parties) != 1:
            raise LookupError(f"{self.name}: no single party takes {action!r}")
        return parties.pop()

    def terminal(self) -> frozenset[str]:
        return frozenset(s for s in self.statuses if not self.parties_in(s))

    def mermaid(self) -> str:
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for t in self.transitions:
            lines.append(f"    {t.source} --> {t.target}: {t.action} ({t.party})")
        lines.extend(f"    {status} --> [*]" for status in self.statuses if status in self.terminal())
        return "\n".join(lines)

    def document_section(self) -> list[str]:
        """Lines of a Markdown section: the diagram and the table of who may act in each status."""
        parts = ["", f"## {self.name}", "", "```mermaid", self.mermaid(), "```", ""]
        parts += ["| status | meaning | who may act | actions |", "| --- | --- | --- | --- |"]
        for status in self.statuses:
            parties = ", ".join(sorted(self.parties_in(status))) or "nobody (final)"
            actions = "; ".join(
                f"{t.action} → {t.target} ({t.party}: {t.note})" for t in self.transitions if t.source == status
            )
            parts.append(f"| `{status}` | {self.labels[status]} | {parties} | {actions or '—'} |")
        return parts
