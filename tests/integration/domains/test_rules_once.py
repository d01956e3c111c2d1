"""Each rule of domains is written once; the form, the API and the pages call it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from domains import services
from domains.models import RESERVED_SLUGS

pytestmark = pytest.mark.django_db


def test_every_fixed_page_under_domains_is_a_reserved_slug():
    from domains.urls import urlpatterns

    fixed = set()
    for pattern in urlpatterns:
        route = str(pattern.pattern)
        if route.startswith("domains/") and route.count("/") >= 2:
            first = route.split("/")[1]
            if first and "<" not in first:
                fixed.add(first)
    assert fixed == set(RESERVED_SLUGS)


@pytest.mark.parametrize("text", ["pls", "   short with spaces    "])
def test_a_short_justification_gets_the_services_words_on_the_page_and_in_the_api(
    text, client_for, api_client_for, researcher, domain
):
    with pytest.raises(services.NotAllowed) as refused:
        services.clean_justification(text)
    page = client_for(researcher).post(reverse("domains:domain", args=[domain.slug]), {"justification": text})
    assert page.status_code == 400 and str(refused.value) in page.content.decode()
    api = api_client_for(researcher).post(
        reverse("api:applications"), {"domain": domain.slug, "justification": text}, content_type="application/json"
    )
    assert api.status_code == 400


def test_a_rejection_without_a_reason_gets_the_services_words_on_the_form(client_for, lead, domain, applicant):
    from tests.factories.domains import MembershipApplicationFactory

    application = MembershipApplicationFactory(domain=domain, applicant=applicant)
    response = client_for(lead).post(
        reverse("domains:application-decide", args=[application.pk]), {"decision": "reject", "reason": "  "}
    )
    assert response.status_code == 400
    assert "Give a reason: the researcher will read it." in response.content.decode()
