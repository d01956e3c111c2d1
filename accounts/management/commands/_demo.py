"""Shared by the demo commands: they work only with DEBUG on."""

from django.conf import settings
from django.core.management.base import CommandError

DEMO_USERS = [
    # e-mail, full name, global roles, accredited
    ("researcher@example.org", "Rosa Researcher", ["researcher"], True),
    ("lead@example.org", "Leo Lead", ["researcher"], True),
    ("checker@example.org", "Chen Checker", ["output_checker"], True),
    ("checker2@example.org", "Chloe Checker", ["output_checker"], True),
    ("governance@example.org", "Grace Governance", ["governance_reviewer"], True),
    ("admin@example.org", "Ada Admin", ["administrator"], False),
]


def refuse_unless_debug(command: str) -> None:
    if not settings.DEBUG:
        raise CommandError(f"{command} creates demo accounts with a known password and is refused when DEBUG is off.")
