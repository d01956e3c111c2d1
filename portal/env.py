"""Read settings from environment variables, failing loudly with a hint.

Every setting the portal reads from its environment goes through these helpers,
and every variable is documented in ``.env.example``.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_MISSING = object()
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str, default: object, hint: str) -> str | object:
    value = os.environ.get(name)
    if value is None:
        if default is _MISSING:
            raise ImproperlyConfigured(f"The environment variable {name} is not set. {hint} (see .env.example)")
        return default
    return value


def env_str(name: str, default: object = _MISSING, *, hint: str = "") -> str:
    value = _raw(name, default, hint)
    return value  # type: ignore[return-value]


def env_bool(name: str, default: object = _MISSING, *, hint: str = "") -> bool:
    value = _raw(name, default, hint)
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"The environment variable {name} must be true or false, not {value!r}. {hint}")


def env_int(name: str, default: object = _MISSING, *, hint: str = "") -> int:
    value = _raw(name, default, hint)
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ImproperlyConfigured(
            f"The environment variable {name} must be a whole number, not {value!r}. {hint}"
        ) from None


def env_list(name: str, default: object = _MISSING, *, hint: str = "") -> list[str]:
    value = _raw(name, default, hint)
    if isinstance(value, list):
        return value
    return [item.strip() for item in str(value).split(",") if item.strip()]
