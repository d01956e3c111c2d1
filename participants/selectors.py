from __future__ import annotations

from django.db.models import QuerySet

from participants.models import ConsentStatus, DataRelease, Participant


def release_current() -> DataRelease | None:
    """The release researchers work on now (None before the first ingest)."""
    return DataRelease.objects.filter(status=DataRelease.Status.CURRENT).first()


def release_consenting(release: DataRelease) -> QuerySet[Participant]:
    """The participants of ``release`` who consent: all a cohort, a count or its per-value counts may include."""
    return Participant.objects.filter(release=release, consent_status=ConsentStatus.CONSENTING)
