"""A provider's list of withdrawals, as ``manage.py record_withdrawals`` reads
it (documented in docs/reference/release-bundle.md, "Withdrawals between
releases").

A UTF-8, tab-separated file with the header ``participant_id<TAB>withdrawal_month``
and one withdrawal per line: a participant id as the releases spell it and
the month of the withdrawal (``YYYY-MM``, not in the future). Blank lines are
ignored; line numbers count the header as line 1.

Plain Python, no Django: every problem with the file's form is listed here
with its line; what the portal knows about the participants is checked by
``participants.services.withdrawals_check``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from genomics.validate import Problem
from participants import bundle as fmt

HEADER = ("participant_id", "withdrawal_month")


@dataclass(frozen=True)
class WithdrawalLine:
    """One withdrawal to record; ``line`` is its line in a provider's list (None on the page or the API)."""

    participant_id: str
    withdrawal_month: str
    line: int | None = None


def this_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def cell_problems(participant_id: str, withdrawal_month: str, *, file: str, line: int | None) -> list[Problem]:
    """What is wrong with one withdrawal's two values, in words."""
    problems = []
    if not fmt.ID_PATTERN.match(participant_id):
        problems.append(
            Problem(
                file,
                line,
                "participant_id",
                "invalid_value",
                f"{participant_id!r} is not a participant id (1-40 letters, digits, '.', '_' or '-')",
            )
        )
    try:
        fmt.parse_month(withdrawal_month)
    except fmt.Invalid as error:
        problems.append(Problem(file, line, "withdrawal_month", "invalid_value", str(error)))
    else:
        if withdrawal_month > this_month():
            problems.append(
                Problem(file, line, "withdrawal_month", "future_month", f"{withdrawal_month} is a month still to come")
            )
    return problems


def read_withdrawal_list(path: Path) -> tuple[list[WithdrawalLine], list[Problem]]:
    """The withdrawals of the file at ``path`` and every problem with its form."""
    name = path.name
    if not path.is_file():
        return [], [Problem(str(path), None, None, "missing_file", "is not a file")]
    lines: list[WithdrawalLine] = []
    problems: list[Problem] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            header = next(reader, None)
            if header is None:
                return [], [Problem(name, 1, None, "empty_file", "file is empty: a header line is needed")]
            if tuple(h.strip() for h in header) != HEADER:
                shown = "<TAB>".join(header)
                return [], [
                    Problem(
                        name,
                        1,
                        None,
                        "wrong_header",
                        f"the header is {shown!r}; it must be participant_id<TAB>withdrawal_month",
                    )
                ]
            seen: dict[str, int] = {}
            for number, cells in enumerate(reader, start=2):
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue
                if len(cells) != len(HEADER):
                    problems.append(
                        Problem(name, number, None, "wrong_cell_count", f"has {len(cells)} cells; the header has 2")
                    )
                    continue
                participant_id, month = (c.strip() for c in cells)
                found = cell_problems(participant_id, month, file=name, line=number)
                if participant_id in seen:
                    found.append(
                        Problem(
                            name,
                            number,
                            "participant_id",
                            "duplicate_id",
                            f"participant {participant_id} is already on line {seen[participant_id]}",
                        )
                    )
                seen.setdefault(participant_id, number)
                problems.extend(found)
                if not found:
                    lines.append(WithdrawalLine(participant_id, month, number))
    except UnicodeDecodeError as error:
        return [], [Problem(name, None, None, "not_utf8", f"is not UTF-8 text ({error.reason})")]
    if not lines and not problems:
        problems.append(Problem(name, None, None, "no_withdrawals", "lists no withdrawals"))
    return lines, problems
