"""Reads about people."""

from __future__ import annotations

from typing import Any

from accounts.models import ResearcherProfile


def profile_for(user: Any) -> ResearcherProfile:
    """The user's profile; an unsaved, empty one for an account made before
    profiles existed (it is saved by the first change, never by reading)."""
    profile = ResearcherProfile.objects.filter(user=user).first()
    return profile if profile is not None else ResearcherProfile(user=user)
