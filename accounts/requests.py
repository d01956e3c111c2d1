"""Types for requests after the portal's middleware has run."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from accounts.models import User


class PortalRequest(HttpRequest):
    """A request past the two-factor wall: ``user`` is a signed-in ``User``."""

    user: User  # type: ignore[assignment]
    htmx: HtmxDetails


def is_verified(user: Any) -> bool:
    """Whether this user passed the second factor in this session (set by django-otp's middleware)."""
    check = getattr(user, "is_verified", None)
    return bool(getattr(user, "is_authenticated", False) and check is not None and check())
