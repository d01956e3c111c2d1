"""The portal's disclosure policy, read from settings (DISCLOSURE_THRESHOLD,
DISCLOSURE_ROUNDING)."""

from django.conf import settings

from disclosure.rules import Policy


def current_policy() -> Policy:
    return Policy(threshold=settings.DISCLOSURE_THRESHOLD, rounding=settings.DISCLOSURE_ROUNDING)
