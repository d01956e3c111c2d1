"""Statistical disclosure control, as code. Plain Python: every place that
shows a count (cohort builder, summaries, charts, API, airlock checks) goes
through these functions, with one threshold setting.

Rules (version recorded with every output that applies them):

1. **Small counts.** A non-zero count below the threshold (default 5, as
   Genomics England shows 1-4 as "<5") is never shown.
2. **Rounding.** Every shown count is rounded to the nearest multiple of
   ``rounding`` (default 5). Differencing two rounded counts cannot recover
   a small cell exactly (see docs/adr/0004-disclosure-control.md).
3. **Secondary suppression.** In a breakdown shown beside its total, a single
   hidden cell could be recomputed as total minus the rest: another cell is
   hidden too (the smallest shown one), so at least two are hidden, or none.
4. **Zeros** are shown as 0: they reveal only that nobody matched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

RULES_VERSION = "sdc-1"
DEFAULT_THRESHOLD = 5
DEFAULT_ROUNDING = 5


@dataclass(frozen=True)
class Policy:
    threshold: int = DEFAULT_THRESHOLD
    rounding: int = DEFAULT_ROUNDING

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError("The disclosure threshold must be at least 1.")
        if self.rounding < 1:
            raise ValueError("Rounding must be to a base of at least 1.")

    @property
    def hidden_label(self) -> str:
        return f"<{self.threshold}"

    def describe(self) -> dict[str, object]:
        return {"rules": RULES_VERSION, "threshold": self.threshold, "rounding": self.rounding}


@dataclass(frozen=True)
class SafeCount:
    """What may be shown of one count: ``value`` is None when it is hidden."""

    value: int | None
    label: str

    @property
    def hidden(self) -> bool:
        return self.value is None

    def as_json(self) -> dict[str, object]:
        return {"value": self.value, "display": self.label, "suppressed": self.hidden}


def _round(n: int, base: int) -> int:
    return int((n + base / 2) // base * base) if base > 1 else n


def safe_count(n: int, policy: Policy) -> SafeCount:
    """One count on its own (rules 1, 2 and 4)."""
    if n < 0:
        raise ValueError("A count cannot be negative.")
    if n == 0:
        return SafeCount(0, "0")
    if n < policy.threshold:
        return SafeCount(None, policy.hidden_label)
    # The smallest value ever shown is the first multiple of the rounding base
    # at or above the threshold, so rounding never produces a small number.
    smallest = -(-policy.threshold // policy.rounding) * policy.rounding
    rounded = max(_round(n, policy.rounding), smallest)
    return SafeCount(rounded, f"{rounded:,}")


@dataclass(frozen=True)
class SafeBreakdown:
    total: SafeCount
    cells: dict[str, SafeCount] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {"total": self.total.as_json(), "cells": {k: v.as_json() for k, v in self.cells.items()}}


def safe_breakdown(cells: Mapping[str, int], policy: Policy, total: int | None = None) -> SafeBreakdown:
    """A breakdown shown with its total (rules 1-4). ``total`` defaults to the
    sum of the cells; pass it when the categories overlap or do not cover it."""
    shown = {key: safe_count(n, policy) for key, n in cells.items()}
    hidden = [key for key, c in shown.items() if c.hidden]
    if len(hidden) == 1:
        candidates = sorted(
            (key for key, c in shown.items() if not c.hidden and cells[key] > 0), key=lambda k: (cells[k], k)
        )
        if candidates:
            shown[candidates[0]] = SafeCount(None, policy.hidden_label)
        # With nothing else to hide, the total itself would give the cell away.
    total_n = sum(cells.values()) if total is None else total
    total_count = safe_count(total_n, policy)
    if len([c for c in shown.values() if c.hidden]) == 1:
        total_count = SafeCount(None, policy.hidden_label if total_n < policy.threshold else "hidden")
    return SafeBreakdown(total_count, shown)
