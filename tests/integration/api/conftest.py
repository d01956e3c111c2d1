# A loaded release for the cohort endpoints.
from tests.integration.cohorts.conftest import prepared_release, release  # noqa: F401
