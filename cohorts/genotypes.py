"""The genotype store of a release, opened once per process and kept."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings

from genomics.store import GenotypeStore
from participants.models import DataRelease


@lru_cache(maxsize=8)
def _store(path: str) -> GenotypeStore:
    return GenotypeStore(path)


def genotype_store(release: DataRelease) -> GenotypeStore:
    return _store(str(Path(settings.DATA_ROOT) / release.store_path))
