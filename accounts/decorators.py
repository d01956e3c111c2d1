"""Marks for views that the two-factor wall (``accounts.middleware``) reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

_View = TypeVar("_View", bound=Callable[..., object])

PUBLIC_ATTRIBUTE = "portal_public_page"


def public_page(view: _View) -> _View:
    """Open to everyone, signed in or not (the public project register).
    A public page shows nothing that is not published anyway."""
    setattr(view, PUBLIC_ATTRIBUTE, True)
    return view


def is_public_page(view: object) -> bool:
    return bool(getattr(view, PUBLIC_ATTRIBUTE, False))
