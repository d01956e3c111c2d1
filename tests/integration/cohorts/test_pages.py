"""Cohort pages: what a member sees, error messages, query counts, the API schema."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cohorts.services import cohort_create

CANCER = {"include_all": [{"type": "programme", "values": ["cancer"]}]}


def test_cohort_page_shows_the_definition_in_words_and_no_identifiers(release, world, client_for):
    project = world.approved_project
    cohort = cohort_create(by=project.owner, project=project, name="Nervous system",
                           criteria_json={"include_all": [{"type": "hpo", "term": "HP:0000707"}]})  # fmt: skip
    html = client_for(project.owner).get(reverse("cohorts:detail", args=[cohort.pk])).content.decode()
    assert "has HP:0000707 Abnormality of the nervous system (or a more specific term)" in html
    assert release.name in html
    ids = list(release.participants.values_list("participant_id", flat=True))
    assert not any(pid in html for pid in ids)


def test_builder_shows_a_clear_error_for_a_bad_hpo_id(release, world, client_for):
    project = world.approved_project
    response = client_for(project.owner).post(reverse("cohorts:count", args=[project.pk]), {"hpo_terms": "seizures"})
    assert response.status_code == 400
    assert "write HPO ids as HP: and seven digits" in response.content.decode()


def test_builder_reports_invalid_json_criteria(release, world, client_for):
    project = world.approved_project
    url = reverse("cohorts:count", args=[project.pk])
    response = client_for(project.owner).post(url, {"criteria_json": '{"include_all": [{"type": "planet"}]}'})
    assert response.status_code == 400
    assert "&#x27;planet&#x27; is not a criterion type" in response.content.decode()


def test_saving_without_a_name_keeps_the_criteria_and_says_why(release, world, client_for):
    project = world.approved_project
    response = client_for(project.owner).post(reverse("cohorts:builder", args=[project.pk]), {"programme": ["cancer"]})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html
    cancer_box = re.search(r'<input[^>]*name="programme"[^>]*value="cancer"[^>]*>', html).group(0)
    assert "checked" in cancer_box


def test_cohort_list_query_count_does_not_grow(release, world, client_for):
    project = world.approved_project
    client = client_for(project.owner)
    cohort_create(by=project.owner, project=project, name="One", criteria_json=CANCER)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("cohorts:list")).status_code == 200
    for i in range(5):
        cohort_create(by=project.owner, project=project, name=f"More {i}", criteria_json=CANCER)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("cohorts:list"))
    assert len(many) == len(few)


@pytest.mark.django_db
def test_openapi_schema_documents_the_criteria(client_for, researcher):
    response = client_for(researcher).get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/cohorts/count" in text
    assert "include_all" in text and "consequence_classes" in text


def test_the_whole_openapi_schema_is_valid_and_warning_free():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS, "drf-spectacular warned about the API"
    validate_schema(schema)
    assert "/api/v1/cohorts/count" in schema["paths"]
