"""Airlock pages: refusals shown in place with what was typed kept, the review
page's parts, the queue's filters, navigation, and the e-mails at each step."""

from __future__ import annotations

from html import escape

import pytest
from django.core import mail
from django.urls import reverse

from airlock import services
from tests.integration.airlock.conftest import CONTEXT, CONTROLS

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(finished):
    owner = finished.job.project.owner
    request = services.request_create(by=owner, project=finished.job.project)
    file = services.request_file_add(by=owner, request=request, artifact=finished.table, context=CONTEXT,
                                     controls=CONTROLS)  # fmt: skip
    services.request_file_add(by=owner, request=request, artifact=finished.plot, context=CONTEXT, controls=CONTROLS)
    return services.request_submit(by=owner, request=request), file


def test_a_refused_vote_is_shown_in_place_with_the_comment_kept(submitted, checkers, client_for):
    request, file = submitted
    vote = {"choice": "request_changes", "comment": "", "visibility": "public"}
    response = client_for(checkers[0]).post(reverse("airlock:vote", args=[request.pk, file.pk]), vote)
    assert response.status_code == 400
    assert "needs a comment" in response.content.decode()
    response = client_for(checkers[0]).post(reverse("airlock:decide", args=[request.pk]), {"decision": "reject"})
    assert response.status_code == 409 and "cannot be rejected now" in response.content.decode()


def test_a_refused_export_is_shown_in_place_with_what_was_typed_kept(finished, client_for):
    client = client_for(finished.job.project.owner)
    typed = {"artifact": finished.table.pk, "format": "pdf", "context": "My words", "controls": "Mine"}
    response = client.post(reverse("airlock:from-job", args=[finished.job.pk]), typed)
    page = response.content.decode()
    assert response.status_code == 400 and "Tables leave as CSV." in page
    assert "My words</textarea>" in page and "Mine</textarea>" in page


def test_the_review_page_shows_the_file_checks_context_provenance_and_earlier_releases(submitted, checkers, client_for):
    request, file = submitted
    page = client_for(checkers[0]).get(reverse("airlock:review", args=[request.pk])).content.decode()
    assert f'data-testid="rendered-{file.name}"' in page and "<table" in page
    assert "data:image/png;base64," in page  # the plot, inline
    assert "Minimum cell count" in page and escape(CONTEXT) in page
    assert f"Job {file.artifact.job_id}" in page and "Release" in page and "Cancer" in page
    assert "Nothing has been released for this project before." in page
    assert "Votes are blind" in page


def test_the_queue_shows_age_waiting_and_state_and_filters(submitted, checkers, client_for):
    request, _ = submitted
    client = client_for(checkers[0])
    page = client.get(reverse("airlock:queue")).content.decode()
    assert f'data-testid="queue-row-{request.pk}"' in page and "Submitted, waiting for output checkers" in page
    assert f"queue-row-{request.pk}" not in client.get(reverse("airlock:queue") + "?show=returned").content.decode()
    assert f"queue-row-{request.pk}" in client.get(reverse("airlock:queue") + "?mine=todo").content.decode()
    assert "Output review" in page  # the checkers' navigation link


def test_researchers_reach_request_export_from_the_job_and_the_project(finished, client_for):
    client = client_for(finished.job.project.owner)
    job_page = client.get(reverse("analysis:job", args=[finished.job.pk])).content.decode()
    assert reverse("airlock:from-job", args=[finished.job.pk]) in job_page
    workspace = client.get(reverse("domains:project-workspace", args=[finished.job.project.pk])).content.decode()
    assert reverse("airlock:project-outputs", args=[finished.job.project.pk]) in workspace


def test_e_mails_go_to_the_checkers_on_submission_and_to_the_author_on_each_decision(finished, checkers, eager):
    owner = finished.job.project.owner
    request = services.request_create(by=owner, project=finished.job.project)
    services.request_file_add(by=owner, request=request, artifact=finished.table, context=CONTEXT, controls=CONTROLS)
    mail.outbox.clear()
    with eager():
        request = services.request_submit(by=owner, request=request)
    (sent,) = mail.outbox
    assert sorted(sent.to) == sorted(c.email for c in checkers) and "waits for review" in sent.subject
    for checker in checkers[:2]:
        for f in request.files.all():
            services.vote_cast(by=checker, file=f, choice="approve")
        request = services.review_submit(by=checker, request=request)
    mail.outbox.clear()
    with eager():
        services.request_decide(by=checkers[0], request=request, decision="return", comment="Add the totals.")
    (sent,) = mail.outbox
    assert sent.to == [owner.email] and "returned" in sent.subject and "Add the totals." in sent.body
