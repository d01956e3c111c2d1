from __future__ import annotations

from participants.models import DataRelease


def release_current() -> DataRelease | None:
    """The release researchers work on now (None before the first ingest)."""
    return DataRelease.objects.filter(status=DataRelease.Status.CURRENT).first()
