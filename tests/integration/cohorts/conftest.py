"""A loaded data release for cohort tests, fast: the bundle is generated and
its genotype store built once per session; each test loads only the rows
(inside its own transaction) against that store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from genomics.store import GenotypeStore, import_vcf
from participants import bundle as fmt
from participants.loader import release_load, rows_from_bundle, store_path_for
from participants.models import DataRelease, HpoTerm
from participants.synthetic import generate_release

RELEASE = "test-r1"


@dataclass
class Prepared:
    bundle_path: Path
    data_root: Path
    bundle: fmt.Bundle
    sample_index: dict[str, int]


@pytest.fixture(scope="session")
def prepared_release(tmp_path_factory) -> Prepared:
    root = tmp_path_factory.mktemp("cohort-release")
    bundle_path = root / "bundle"
    generate_release(bundle_path, participants=300, variants=1500, seed=21)
    data_root = root / "data"
    store = data_root / store_path_for(RELEASE)
    import_vcf(bundle_path / fmt.GERMLINE, store)
    sample_index = {sid: i for i, sid in enumerate(GenotypeStore(store).sample_ids)}
    return Prepared(bundle_path, data_root, fmt.read_bundle(bundle_path, check_vcfs=False), sample_index)


@pytest.fixture
def release(db, prepared_release, settings) -> DataRelease:
    assert HpoTerm.objects.exists(), "the HPO ontology is loaded at test database set-up"
    settings.DATA_ROOT = prepared_release.data_root
    # Rows only: validation and the store were done once above.
    return load_prepared(prepared_release, name=RELEASE).release


def load_prepared(prepared: Prepared, *, name: str, checksum: str = "0" * 64, bundle: fmt.Bundle | None = None):
    """Load the prepared bundle's rows (or ``bundle``'s) as release ``name``, against the prepared store."""
    rows = rows_from_bundle(bundle or prepared.bundle, name=name, checksum=checksum, sample_index=prepared.sample_index)
    return release_load(rows=rows, by=None)


# Personas and the small world of domains and projects, shared with the domains tests.
from tests.integration.domains.conftest import (  # noqa: E402,F401
    applicant,
    domain,
    lead,
    member,
    other_domain,
    other_lead,
    people,
    world,
)
