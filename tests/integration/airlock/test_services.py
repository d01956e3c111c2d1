"""The airlock's services on a real release, real jobs and real files: building,
checking, blind review by two checkers, approval frozen by SHA-256, release
with its disclosure record, download by the author, and every refusal."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core import mail

from airlock import services
from airlock.models import OutputRequest, RequestStatus, Vote
from airlock.permissions import NotAllowed, TransitionNotAllowed
from airlock.selectors import blind, file_views
from audit.models import AuditAction, AuditEvent
from cohorts.services import cohort_create
from tests.integration.airlock.conftest import CONTEXT, CONTROLS, run_job
from tests.integration.analysis.conftest import CANCER

pytestmark = pytest.mark.django_db


def _start(finished, **kwargs):
    owner = finished.job.project.owner
    request = services.request_create(by=owner, project=finished.job.project)
    file = services.request_file_add(by=owner, request=request, artifact=finished.table, context=CONTEXT,
                                     controls=CONTROLS, **kwargs)  # fmt: skip
    return request, file


def _submitted(finished):
    request, file = _start(finished)
    return services.request_submit(by=request.author, request=request), file


def _review(request, checker, choice="approve", comment=""):
    for f in request.files.all():
        services.vote_cast(by=checker, file=f, choice=choice, comment=comment)
    return services.review_submit(by=checker, request=request)


def test_a_table_is_exported_as_the_csv_of_what_researchers_saw(finished, data_root):
    request, file = _start(finished)
    data = (data_root / file.path).read_bytes()
    assert file.format == "csv" and file.sha256 == hashlib.sha256(data).hexdigest() and file.size_bytes == len(data)
    lines = data.decode().splitlines()
    assert lines[0].replace('"', "").split(",")[:3] == ["cohort", "section", "category"]
    assert file.n_rows == finished.table.n_rows == len(lines) - 1
    assert file.check_status == "pass", file.checks
    assert {c["rule"] for c in file.checks} == {r.id for r in services.checks.RULES}


def test_the_whole_journey_releases_the_frozen_file_to_its_author(finished, checkers, data_root, eager):
    request, file = _submitted(finished)
    assert request.status == RequestStatus.SUBMITTED and request.round == 1
    first, second, _ = checkers
    request = _review(request, first)
    assert request.status == RequestStatus.PARTIALLY_REVIEWED
    request = _review(request, second)
    assert request.status == RequestStatus.REVIEWED
    mail.outbox.clear()
    with eager():
        services.request_decide(by=second, request=request, decision="approve")
    request.refresh_from_db()
    file.refresh_from_db()
    assert request.status == RequestStatus.RELEASED
    assert file.frozen_sha256 == file.sha256 and file.decision == "approved"
    assert sorted(m.subject for m in mail.outbox) == [
        f"[Research environment] Output request {request.pk} approved",
        f"[Research environment] Output request {request.pk} released",
    ]
    owner = request.author
    data = services.file_download(by=owner, file=file)
    assert hashlib.sha256(data).hexdigest() == file.frozen_sha256
    record = json.loads(services.record_download(by=owner, request=request))
    assert record["policy"] == {"rules": "sdc-1", "threshold": 5, "rounding": 5}
    assert {r["id"]: r["version"] for r in record["rules"]}["cohort-differencing"] == "1"
    (entry,) = record["files"]
    assert entry["sha256"] == file.frozen_sha256 and entry["context"] == CONTEXT
    assert {c["rule"]: c["status"] for c in entry["checks"]}["min-cell-count"] == "pass"
    assert sorted(v["reviewer"] for v in entry["votes"]) == sorted([first.email, second.email])
    assert sorted(r["reviewer"] for r in record["reviews"]) == sorted([first.email, second.email])
    assert record["request"]["approved_by"] == second.email and record["request"]["released_at"]
    actions = list(AuditEvent.objects.filter(target_id=str(request.pk), target_type="airlock.outputrequest")
                   .order_by("seq").values_list("action", flat=True))  # fmt: skip
    assert actions[-5:] == [AuditAction.OUTPUT_REQUEST_REVIEWED, AuditAction.OUTPUT_REQUEST_APPROVED,
                            AuditAction.OUTPUT_REQUEST_RELEASED, AuditAction.OUTPUT_DOWNLOADED,
                            AuditAction.OUTPUT_DOWNLOADED]  # fmt: skip


def test_tampered_bytes_block_the_download_and_the_refusal_is_audited(finished, checkers, data_root, eager):
    request, file = _submitted(finished)
    for checker in checkers[:2]:
        request = _review(request, checker)
    with eager():
        services.request_decide(by=checkers[0], request=request, decision="approve")
    file.refresh_from_db()
    path = data_root / file.path
    path.write_bytes(path.read_bytes().replace(b"Female", b"Femal3"))
    with pytest.raises(services.TamperedFile):
        services.file_download(by=request.author, file=file)
    assert AuditEvent.objects.filter(action=AuditAction.OUTPUT_DOWNLOAD_REFUSED, outcome="failure").count() == 1
    assert not AuditEvent.objects.filter(action=AuditAction.OUTPUT_DOWNLOADED).exists()


def test_only_the_author_downloads_and_only_once_released(finished, checkers, world, lead):
    request, file = _submitted(finished)
    with pytest.raises(TransitionNotAllowed):
        services.file_download(by=request.author, file=file)
    for someone in (checkers[0], world.teammate, lead):
        with pytest.raises(NotAllowed):
            services.file_download(by=someone, file=file)


def test_self_review_and_review_by_a_project_member_are_refused(finished, checkers, lead):
    from accounts.models import Role
    from accounts.services import role_grant
    from tests.factories.domains import add_to_project

    request, file = _submitted(finished)
    role_grant(user=request.author, role=Role.OUTPUT_CHECKER, by=None)
    with pytest.raises(NotAllowed, match="your own request"):
        services.vote_cast(by=request.author, file=file, choice="approve")
    with pytest.raises(NotAllowed, match="your own request"):
        services.review_submit(by=request.author, request=request)
    member_checker = checkers[2]
    add_to_project(member_checker, request.project)
    with pytest.raises(NotAllowed, match="on this request's project"):
        services.vote_cast(by=member_checker, file=file, choice="approve")
    with pytest.raises(NotAllowed, match="on this request's project"):
        services.review_submit(by=member_checker, request=request)
    with pytest.raises(NotAllowed, match="Only output checkers"):
        services.vote_cast(by=lead, file=file, choice="approve")


def test_votes_are_blind_until_two_reviews_are_submitted(finished, checkers):
    request, file = _submitted(finished)
    first, second, third = checkers
    services.vote_cast(by=first, file=file, choice="approve", comment="fine", visibility="private")
    services.vote_cast(by=second, file=file, choice="request_changes", comment="round the totals")
    for user in (first, second):
        (view,) = file_views(user=user, request=request, render=False)
        assert [v.own for v in view.votes] == [True] and not view.decision_visible
    services.review_submit(by=first, request=request)
    (view,) = file_views(user=third, request=request, render=False)
    assert view.votes == [] and blind(request)
    services.review_submit(by=second, request=request)
    assert not blind(request)
    (view,) = file_views(user=third, request=request, render=False)
    assert sorted(v.choice for v in view.votes) == ["approve", "request_changes"] and view.decision_visible
    file.refresh_from_db()
    assert file.decision == "conflicted"
    # The author sees no private comment, and nothing before a decision.
    (view,) = file_views(user=request.author, request=request, render=False)
    assert view.votes == []


def test_a_third_checker_settles_a_conflict(finished, checkers):
    request, file = _submitted(finished)
    first, second, third = checkers
    _review(request, first, "approve")
    request = _review(request, second, "request_changes", "round the totals")
    with pytest.raises(services.AirlockError, match="every file"):
        services.request_decide(by=first, request=request, decision="approve")
    request = _review(request, third, "approve")
    assert request.status == RequestStatus.REVIEWED
    file.refresh_from_db()
    assert file.decision == "approved"


def test_request_changes_needs_a_comment(finished, checkers):
    _, file = _submitted(finished)
    with pytest.raises(services.AirlockError, match="needs a comment"):
        services.vote_cast(by=checkers[0], file=file, choice="request_changes", comment=" ")


def test_a_changed_file_resets_its_votes_and_resubmission_makes_request_changes_undecided(
    finished, checkers, world, cohorts, eager
):
    request, table_file = _start(finished)
    plot_file = services.request_file_add(by=request.author, request=request, artifact=finished.plot,
                                          context=CONTEXT, controls=CONTROLS)  # fmt: skip
    request = services.request_submit(by=request.author, request=request)
    first, second, _ = checkers
    services.vote_cast(by=first, file=table_file, choice="request_changes", comment="explain the bands")
    services.vote_cast(by=first, file=plot_file, choice="approve")
    services.review_submit(by=first, request=request)
    services.vote_cast(by=second, file=table_file, choice="approve")
    services.vote_cast(by=second, file=plot_file, choice="request_changes", comment="use SVG")
    request = services.review_submit(by=second, request=request)
    request = services.request_decide(by=second, request=request, decision="return", comment="See the comments.")
    assert request.status == RequestStatus.RETURNED
    with pytest.raises(TransitionNotAllowed):
        services.vote_cast(by=first, file=plot_file, choice="approve")
    # The author changes the plot (another format): its votes go.
    services.request_file_replace(by=request.author, file=plot_file, artifact=finished.plot, format="svg")
    assert not Vote.objects.filter(file=plot_file).exists()
    request = services.request_submit(by=request.author, request=request)
    assert request.round == 2 and request.status == RequestStatus.SUBMITTED
    votes = {v.reviewer_id: v.choice for v in Vote.objects.filter(file=table_file)}
    assert votes == {first.pk: "undecided", second.pk: "approve"}
    assert AuditEvent.objects.filter(action=AuditAction.OUTPUT_FILE_CHANGED, details__votes_reset=2).exists()


def test_files_change_only_while_pending_or_returned(finished, checkers):
    request, file = _submitted(finished)
    for call in (
        lambda: services.request_file_add(by=request.author, request=request, artifact=finished.plot),
        lambda: services.request_file_update(by=request.author, file=file, context="new"),
        lambda: services.request_file_replace(by=request.author, file=file, artifact=finished.table),
        lambda: services.request_file_remove(by=request.author, file=file),
    ):
        with pytest.raises(TransitionNotAllowed):
            call()


def test_a_request_cannot_be_submitted_without_context_controls_or_a_justification(finished):
    request, file = _start(finished)
    services.request_file_update(by=request.author, file=file, context="", controls="")
    with pytest.raises(services.SubmissionIncomplete) as refused:
        services.request_submit(by=request.author, request=request)
    assert "context" in refused.value.problems[file.name][0] and "controls" in refused.value.problems[file.name][0]
    empty = OutputRequest.objects.get(pk=request.pk)
    services.request_file_remove(by=request.author, file=file)
    with pytest.raises(services.SubmissionIncomplete, match="at least one file"):
        services.request_submit(by=request.author, request=empty)


def test_a_failing_file_needs_a_written_justification(finished, settings):
    settings.AIRLOCK_MAX_ROWS = 3  # the summary table has more rows: the file-limits rule fails
    request, file = _start(finished)
    assert file.__class__.objects.get(pk=file.pk).check_status == "fail"
    with pytest.raises(services.SubmissionIncomplete, match="justification"):
        services.request_submit(by=request.author, request=request)
    services.request_file_update(by=request.author, file=file, justification="The journal needs the full table.")
    assert services.request_submit(by=request.author, request=request).status == RequestStatus.SUBMITTED


def test_one_open_request_per_author_and_project(finished):
    request, _ = _start(finished)
    with pytest.raises(services.AirlockError, match="already have an open output request"):
        services.request_create(by=request.author, project=request.project)
    services.request_withdraw(by=request.author, request=request)
    assert services.request_create(by=request.author, project=request.project).pk != request.pk


def test_participant_level_results_and_results_of_other_projects_cannot_be_added(finished, world, cohorts, eager):
    request, _ = _start(finished)
    finished.plot.__class__.objects.filter(pk=finished.plot.pk).update(participant_level=True)
    finished.plot.refresh_from_db()
    with pytest.raises(services.AirlockError, match="Participant-level"):
        services.request_file_add(by=request.author, request=request, artifact=finished.plot)
    with pytest.raises(services.AirlockError, match="CSV"):
        services.request_file_add(by=request.author, request=request, artifact=finished.table, format="png")


def test_outputs_of_jobs_whose_participants_withdraw_are_flagged_by_the_consent_rule(finished, world, cohorts):
    from analysis.services import jobs_flag_withdrawals
    from cohorts.models import CohortMember

    request, file = _start(finished)
    member = CohortMember.objects.filter(cohort=cohorts[0]).select_related("participant").first()
    release = finished.job.release
    jobs_flag_withdrawals(release=release, participant_ids=[member.participant.participant_id])
    assert services.requests_flag_withdrawals(release=release, participant_ids=[member.participant.participant_id]) == 1
    file.refresh_from_db()
    consent = next(c for c in file.checks if c["rule"] == "consent")
    assert consent["status"] == "fail" and file.check_status == "fail"


def test_the_withdrawal_register_flags_the_request_through_the_registered_flagger():
    from participants.withdrawals import participants_withdrawn_callbacks

    labels = [f.label for f in participants_withdrawn_callbacks()]
    assert labels.index("output requests") > labels.index("analysis results")


def test_cohort_differencing_flags_a_cohort_a_few_participants_from_a_released_one(
    finished, checkers, world, cohorts, eager
):
    from cohorts.models import CohortMember

    request, file = _submitted(finished)
    for checker in checkers[:2]:
        request = _review(request, checker)
    with eager():
        services.request_decide(by=checkers[0], request=request, decision="approve")
    # A cohort of the same project: the released one's members less two (as an exclusion would give).
    project = world.approved_project
    near = cohort_create(by=project.owner, project=project, name="Cancer less two", criteria_json=CANCER)
    dropped = list(CohortMember.objects.filter(cohort=near).values_list("pk", flat=True)[:2])
    CohortMember.objects.filter(pk__in=dropped).delete()
    job = run_job(project, [near], eager)
    second = services.request_create(by=project.owner, project=project)
    file2 = services.request_file_add(by=project.owner, request=second, artifact=job.artifacts.get(key="summary"))
    diff = next(c for c in file2.checks if c["rule"] == "cohort-differencing")
    assert diff["status"] == "fail", diff
    assert "fewer than 5 participants" in diff["reasons"][0]
    # The same cohort again is no differencing.
    same = run_job(project, [cohorts[0]], eager)
    file3 = services.request_file_add(by=project.owner, request=second, artifact=same.artifacts.get(key="summary"))
    assert next(c for c in file3.checks if c["rule"] == "cohort-differencing")["status"] == "fail"  # beside file2
    services.request_file_remove(by=project.owner, file=file2.__class__.objects.get(pk=file2.pk))
    file3.refresh_from_db()
    assert next(c for c in file3.checks if c["rule"] == "cohort-differencing")["status"] == "pass"
