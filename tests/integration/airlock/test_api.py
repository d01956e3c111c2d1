"""The whole airlock journey through the API (/api/v1/outputs/), with tokens of
the author and two output checkers: request, files, checks, votes, reviews,
the decision, the queue, the ledger and the download, and its errors in the
one shape."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.urls import reverse

from tests.integration.airlock.conftest import CONTEXT, CONTROLS

pytestmark = pytest.mark.django_db


def _post(client, name, args=(), data=None):
    return client.post(reverse(name, args=args), json.dumps(data or {}), content_type="application/json")


def test_the_whole_journey_through_the_api(finished, checkers, api_client_for, eager):
    author = api_client_for(finished.job.project.owner)
    first, second = api_client_for(checkers[0]), api_client_for(checkers[1])
    response = _post(author, "outputs-api:list", data={"project": finished.job.project.pk, "title": "Table 1"})
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    response = _post(author, "outputs-api:files", [pk], {"artifact": finished.table.pk})
    assert response.status_code == 201
    (file,) = response.json()["files"]
    assert file["format"] == "csv" and file["check_status"] == "pass"
    # Without context and controls it cannot be submitted; the errors name the file.
    response = _post(author, "outputs-api:submit", [pk])
    assert response.status_code == 400 and "context" in response.json()["errors"][file["name"]][0]
    words = json.dumps({"context": CONTEXT, "controls": CONTROLS})
    response = author.patch(reverse("outputs-api:file", args=[pk, file["id"]]), words, content_type="application/json")
    assert response.status_code == 200
    checks = author.get(reverse("outputs-api:checks", args=[pk])).json()
    assert {r["id"] for r in checks["rules"]} >= {"min-cell-count", "cohort-differencing"}
    assert _post(author, "outputs-api:submit", [pk]).json()["status"] == "submitted"

    queue = first.get(reverse("outputs-api:queue")).json()
    assert [row["id"] for row in queue] == [pk] and queue[0]["files"] == 1
    assert author.get(reverse("outputs-api:queue")).status_code == 403
    response = _post(first, "outputs-api:vote", [pk, file["id"]], {"choice": "request_changes"})
    assert response.status_code == 400 and "comment" in response.json()["errors"]
    body = _post(first, "outputs-api:vote", [pk, file["id"]], {"choice": "approve", "comment": "ok"}).json()
    assert [v["own"] for v in body["files"][0]["votes"]] == [True] and body["files"][0]["decision"] is None
    assert _post(first, "outputs-api:review", [pk]).json()["status"] == "partially_reviewed"
    # Blind: the second checker sees no vote but their own.
    assert first.get(reverse("outputs-api:detail", args=[pk])).json()["files"][0]["votes"][0]["own"]
    assert second.get(reverse("outputs-api:detail", args=[pk])).json()["files"][0]["votes"] == []
    _post(second, "outputs-api:vote", [pk, file["id"]], {"choice": "approve"})
    assert _post(second, "outputs-api:review", [pk]).json()["status"] == "reviewed"
    response = _post(author, "outputs-api:decide", [pk], {"decision": "approve"})
    assert response.status_code == 403
    with eager():
        body = _post(second, "outputs-api:decide", [pk], {"decision": "approve"}).json()
    assert body["status"] in ("approved", "released")
    detail = author.get(reverse("outputs-api:detail", args=[pk])).json()
    assert detail["status"] == "released" and detail["files"][0]["frozen_sha256"] == file["sha256"]

    response = author.get(reverse("outputs-api:download", args=[pk, file["id"]]))
    assert response.status_code == 200 and hashlib.sha256(response.content).hexdigest() == file["sha256"]
    assert first.get(reverse("outputs-api:download", args=[pk, file["id"]])).status_code == 403
    record = json.loads(author.get(reverse("outputs-api:record", args=[pk])).content)
    assert record["files"][0]["sha256"] == file["sha256"]
    ledger = author.get(reverse("outputs-api:ledger") + f"?project={finished.job.project.pk}").json()
    assert [e["request"] for e in ledger] == [pk] and ledger[0]["files"][0]["sha256"] == file["sha256"]


def test_errors_are_in_the_one_shape(finished, api_client_for):
    author = api_client_for(finished.job.project.owner)
    response = _post(author, "outputs-api:list", data={})
    assert response.status_code == 400 and set(response.json()) == {"detail", "errors"}
    assert author.get(reverse("outputs-api:detail", args=[999999])).json() == {"detail": "Not found."}
    pk = _post(author, "outputs-api:list", data={"project": finished.job.project.pk}).json()["id"]
    response = _post(author, "outputs-api:files", [pk], {"artifact": finished.table.pk, "format": "png"})
    assert response.status_code == 400 and response.json()["errors"] == {"format": ["Tables leave as CSV."]}
    response = _post(author, "outputs-api:review", [pk])
    assert response.status_code == 403 and "detail" in response.json()
