"""The API: personal tokens, own objects only, and the schema."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_hash, api_token_revoke
from audit.models import AuditAction, AuditEvent
from tests.factories.domains import MembershipApplicationFactory, ProjectFactory
from tests.helpers import sign_in_password_only, sign_in_verified

pytestmark = pytest.mark.django_db


def _token_client(key: str) -> Client:
    return Client(headers={"Authorization": f"Token {key}"})


def test_only_a_hash_of_the_key_is_stored(researcher):
    token, key = api_token_create(by=researcher, name="laptop", lifetime_days=30)
    stored = ApiToken.objects.get(pk=token.pk)
    assert key not in {stored.key_hash, stored.prefix, stored.name}
    assert stored.key_hash == api_token_hash(key) and key.startswith(stored.prefix)
    event = AuditEvent.objects.get(action=AuditAction.API_TOKEN_CREATED)
    assert key not in event.details_json


def test_a_token_authenticates_and_records_its_last_use(researcher):
    token, key = api_token_create(by=researcher, name="laptop", lifetime_days=30)
    assert _token_client(key).get(reverse("api:domains")).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize("state", ["unknown", "revoked", "expired", "account_inactive"])
def test_bad_tokens_are_refused_and_audited(researcher, state):
    token, key = api_token_create(by=researcher, name="laptop", lifetime_days=30)
    if state == "unknown":
        key = key[:-4] + "xxxx"
    elif state == "revoked":
        api_token_revoke(token=token, by=researcher)
    elif state == "expired":
        ApiToken.objects.filter(pk=token.pk).update(
            created_at=timezone.now() - timedelta(days=40), expires_at=timezone.now() - timedelta(days=10)
        )
    else:
        researcher.is_active = False
        researcher.save()
    response = _token_client(key).get(reverse("api:domains"))
    assert response.status_code == 401
    event = AuditEvent.objects.filter(action=AuditAction.API_TOKEN_REFUSED).latest("seq")
    assert event.details["reason"] == state and event.outcome == "denied"
    assert key not in event.details_json


def test_account_page_shows_a_new_token_once_and_revokes_it(client_for, researcher):
    client = client_for(researcher)
    response = client.post(reverse("accounts:token-create"), {"name": "laptop", "lifetime_days": "30"})
    assert response.status_code == 200
    key = response.context["new_token_key"]
    assert key in response.content.decode()
    assert key not in client.get(reverse("accounts:account")).content.decode()
    token = ApiToken.objects.get(user=researcher)
    client.post(reverse("accounts:token-revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert _token_client(key).get(reverse("api:domains")).status_code == 401


def test_a_token_form_error_is_shown_next_to_the_field(client_for, researcher):
    response = client_for(researcher).post(reverse("accounts:token-create"), {"name": ""})
    assert response.status_code == 400
    assert "Give the token a name" in response.content.decode()


def test_tokens_cannot_be_made_without_the_second_factor(client, researcher):
    sign_in_password_only(client, researcher)
    response = client.post(reverse("accounts:token-create"), {"name": "x", "lifetime_days": "30"})
    assert response.status_code == 302 and "/two-factor/" in response["Location"]
    assert not ApiToken.objects.exists()


def test_nobody_revokes_someone_elses_token(client_for, researcher, member):
    token, _ = api_token_create(by=member, name="theirs", lifetime_days=30)
    client_for(researcher).post(reverse("accounts:token-revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is None


def test_session_clients_past_the_second_factor_may_use_the_api(client, researcher):
    sign_in_verified(client, researcher)
    assert client.get(reverse("api:domains")).status_code == 200


def test_list_endpoints_never_include_others_objects(api_client_for, world, member, lead, other_lead, researcher):
    own = api_client_for(member).get(reverse("api:applications")).json()["results"]
    assert {row["applicant"]["email"] for row in own} == {member.email}
    projects = api_client_for(member).get(reverse("api:projects")).json()["results"]
    assert {row["owner"]["email"] for row in projects} == {member.email}
    assert api_client_for(researcher).get(reverse("api:projects")).json()["results"] == []
    queue = api_client_for(lead).get(reverse("api:review-applications")).json()["results"]
    assert [row["id"] for row in queue] == [world.pending_application.pk]
    other_queue = api_client_for(other_lead).get(reverse("api:review-applications")).json()["results"]
    assert [row["id"] for row in other_queue] == [world.other_domain_application.pk]
    projects_queue = api_client_for(lead).get(reverse("api:review-projects")).json()["results"]
    assert [row["id"] for row in projects_queue] == [world.submitted_project.pk]
    assert api_client_for(researcher).get(reverse("api:review-projects")).json()["results"] == []


def test_api_approve_and_reject_call_the_same_services(api_client_for, domain, lead):
    application = MembershipApplicationFactory(domain=domain)
    response = api_client_for(lead).post(
        reverse("api:application-reject", args=[application.pk]), {"reason": ""}, content_type="application/json"
    )
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    response = api_client_for(lead).post(
        reverse("api:application-approve", args=[application.pk]), {}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert AuditEvent.objects.filter(action=AuditAction.MEMBERSHIP_APPROVED, actor_id=lead.pk).exists()


def test_api_withdraw_own_application(api_client_for, researcher, domain):
    response = api_client_for(researcher).post(
        reverse("api:applications"),
        {"domain": domain.slug, "justification": "I study inherited epilepsies."},
        content_type="application/json",
    )
    assert response.status_code == 201
    pk = response.json()["id"]
    response = api_client_for(researcher).post(reverse("api:application-withdraw", args=[pk]))
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"


def test_api_unknown_domain_is_404(api_client_for, researcher):
    response = api_client_for(researcher).post(
        reverse("api:applications"),
        {"domain": "no-such-domain", "justification": "I study inherited epilepsies."},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_project_decisions_over_the_api(api_client_for, member, domain, lead):
    project = ProjectFactory(domain=domain, owner=member)
    client = api_client_for(lead)
    response = client.post(
        reverse("api:project-return", args=[project.pk]), {"reason": "More detail."}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["status"] == "returned"
    response = client.post(reverse("api:project-approve", args=[project.pk]), {}, content_type="application/json")
    assert response.status_code == 409 and "returned for changes" in response.json()["detail"]


def test_the_openapi_schema_of_these_endpoints_is_valid_and_warning_free():
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/", include("domains.api_urls"))])
    with GENERATOR_STATS.silence():
        schema = generator.get_schema(request=None, public=True)
    assert not GENERATOR_STATS, "drf-spectacular warned about the domains API"
    validate_schema(schema)
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    assert "/api/v1/applications/{id}/approve/" in schema["paths"]


def test_the_schema_is_served_to_signed_in_callers(api_client_for, researcher):
    response = api_client_for(researcher).get(reverse("api-schema"))
    assert response.status_code == 200 and b"/api/v1/domains/" in response.content


def test_docs_pages_are_served_from_local_assets(client_for, researcher):
    client = client_for(researcher)
    body = client.get(reverse("api-docs")).content.decode()
    assert "/static/drf_spectacular_sidecar/" in body
    assert "cdn." not in body and "unpkg" not in body and "fonts.googleapis" not in body
    assert '"validatorUrl": null' in body


def test_the_docs_page_sends_a_signed_out_visitor_to_sign_in(client):
    response = client.get(reverse("api-docs"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:sign-in"))


def test_redoc_is_not_offered(client_for, researcher):
    assert client_for(researcher).get("/api/v1/redoc/").status_code == 404
