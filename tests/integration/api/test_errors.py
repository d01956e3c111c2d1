"""Every error under /api/ is JSON of one shape: {"detail": ..., "errors"?: {...}}."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _shape_ok(body: dict) -> bool:
    extra = set(body) - {"detail", "errors"}
    errors_ok = all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in body.get("errors", {}).values())
    return isinstance(body.get("detail"), str) and not extra and errors_ok


def test_an_unknown_api_path_answers_json_404(api_client_for, persona_world):
    response = api_client_for(persona_world.people["researcher"]).get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_object_answers_json_404(api_client_for, persona_world):
    response = api_client_for(persona_world.people["researcher"]).get(reverse("api:project", args=[987654]))
    assert response.status_code == 404 and _shape_ok(response.json())


def test_a_method_not_offered_answers_json_405(api_client_for, persona_world):
    response = api_client_for(persona_world.people["researcher"]).delete(reverse("api:domains"))
    assert response.status_code == 405 and _shape_ok(response.json())


def test_validation_errors_name_the_fields_in_errors(api_client_for, persona_world):
    response = api_client_for(persona_world.people["researcher"]).post(
        reverse("api:projects"), {"title": ""}, content_type="application/json"
    )
    body = response.json()
    assert response.status_code == 400 and _shape_ok(body)
    assert {"title", "lay_summary", "end_date"} <= set(body["errors"])


def test_malformed_json_answers_400_in_the_same_shape(api_client_for, persona_world):
    response = api_client_for(persona_world.people["researcher"]).post(
        reverse("api:projects"), "{not json", content_type="application/json"
    )
    assert response.status_code == 400 and _shape_ok(response.json())


def test_an_empty_page_number_is_refused(api_client_for, persona_world):
    response = api_client_for(persona_world.people["researcher"]).get(reverse("api:projects"), {"page": ""})
    assert response.status_code == 404 and _shape_ok(response.json())
