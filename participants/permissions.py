"""Who may act on the withdrawal register."""

from __future__ import annotations

from typing import Any

from accounts.authorization import Permission, has_permission


class WithdrawalNotAllowed(Exception):
    """The person may not record withdrawals; the message says why."""


def user_can_record_withdrawals(user: Any) -> bool:
    """Governance reviewers read and record the withdrawal register; nobody else sees it."""
    return has_permission(user, Permission.WITHDRAWAL_RECORD)


def check_user_can_record_withdrawals(user: Any) -> None:
    if not user_can_record_withdrawals(user):
        raise WithdrawalNotAllowed("Only governance reviewers record withdrawals of consent.")
