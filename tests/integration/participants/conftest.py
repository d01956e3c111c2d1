import shutil

import pytest

from participants.synthetic import generate_release

SMALL = {"participants": 120, "variants": 600, "seed": 11}


@pytest.fixture(scope="session")
def generated_bundle(tmp_path_factory):
    """A small synthetic bundle, generated once per test session."""
    path = tmp_path_factory.mktemp("bundle") / "release"
    generate_release(path, **SMALL)
    return path


@pytest.fixture
def bundle(generated_bundle, tmp_path):
    """A private copy of the generated bundle that a test may damage."""
    copy = tmp_path / "bundle"
    shutil.copytree(generated_bundle, copy)
    return copy


@pytest.fixture
def data_root(settings, tmp_path):
    settings.DATA_ROOT = tmp_path / "data"
    settings.DATA_ROOT.mkdir()
    return settings.DATA_ROOT


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
