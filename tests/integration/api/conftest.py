# A loaded release and the small world of domains and projects.
from tests.integration.cohorts.conftest import prepared_release, release  # noqa: F401
from tests.integration.domains.conftest import (  # noqa: F401
    applicant,
    domain,
    lead,
    member,
    other_domain,
    other_lead,
    people,
    world,
)
