"""List pages and list endpoints make the same number of queries for 1 row as for 10."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import _persona
from tests.factories.domains import DomainFactory, MembershipApplicationFactory, ProjectFactory, make_lead

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    client.get(url)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def _grow(n, lead, domain, member):
    for _ in range(n):
        other = DomainFactory()
        make_lead(lead, other)
        MembershipApplicationFactory(domain=domain)
        MembershipApplicationFactory(domain=other)
        project = ProjectFactory(domain=domain, status="approved")
        ProjectFactory(domain=domain)
        ProjectFactory(domain=domain, owner=member)
        project.memberships.create(user=member, added_by=project.owner)


@pytest.mark.parametrize(
    ("name", "who"),
    [
        ("domains:directory", "member"),
        ("domains:review-queue", "lead"),
        ("domains:my-projects", "member"),
        ("domains:project-register", "member"),
        ("domains:domain", "lead"),
        ("api:domains", "member"),
        ("api:applications", "member"),
        ("api:projects", "member"),
        ("api:review-applications", "lead"),
        ("api:review-projects", "lead"),
    ],
)
def test_list_has_no_n_plus_one(name, who, member, lead, domain, client_for, api_client_for):
    from domains.models import Domain

    user = {"member": member, "lead": lead}[who]
    client = api_client_for(user) if name.startswith("api:") else client_for(user)
    url = reverse(name, args=[domain.slug] if name == "domains:domain" else [])
    _grow(1, lead, domain, member)
    few = _queries(client, url)
    _grow(9, lead, domain, member)
    assert Domain.objects.count() >= 11
    many = _queries(client, url)
    assert many == few, f"{name}: {few} queries for a few rows, {many} for many"
    assert many <= 20


def test_a_lead_sees_members_on_the_domain_page_without_n_plus_one(client_for, lead, domain):
    for _ in range(3):
        MembershipApplicationFactory(domain=domain, status="approved")
    client = client_for(lead)
    few = _queries(client, reverse("domains:domain", args=[domain.slug]))
    for _ in range(7):
        MembershipApplicationFactory(domain=domain, status="approved", applicant=_persona(None, accredited=True))
    assert _queries(client, reverse("domains:domain", args=[domain.slug])) == few
