"""Every status against every action, through the services with the party that
takes the action: what the workflow allows is not refused for its state, and
everything else is refused with TransitionNotAllowed (each case in a savepoint
rolled back afterwards)."""

from __future__ import annotations

import pytest
from django.db import transaction

from airlock import services
from airlock.models import OutputRequest, RequestStatus, Review, Vote
from airlock.permissions import NotAllowed, TransitionNotAllowed
from airlock.policies import REQUEST, Action
from tests.integration.airlock.conftest import CONTEXT, CONTROLS

pytestmark = pytest.mark.django_db


class _Undo(Exception):
    pass


def test_every_status_and_action_through_the_services(finished, checkers):
    owner = finished.job.project.owner
    request = services.request_create(by=owner, project=finished.job.project)
    file = services.request_file_add(by=owner, request=request, artifact=finished.table, context=CONTEXT,
                                     controls=CONTROLS)  # fmt: skip
    first, second, third = checkers
    for checker in (first, second, third):
        Vote.objects.create(file=file, reviewer=checker, choice="approve", round=1)
    for checker in (first, second):
        Review.objects.create(request=request, reviewer=checker, round=1)

    calls = {
        Action.EDIT: lambda r: services.request_file_update(by=owner, file=file, context="Other words"),
        Action.SUBMIT: lambda r: services.request_submit(by=owner, request=r),
        Action.RESUBMIT: lambda r: services.request_submit(by=owner, request=r),
        Action.WITHDRAW: lambda r: services.request_withdraw(by=owner, request=r),
        Action.REVIEW: lambda r: services.review_submit(by=third, request=r),
        Action.APPROVE: lambda r: services.request_decide(by=first, request=r, decision="approve"),
        Action.RETURN: lambda r: services.request_decide(by=first, request=r, decision="return", comment="x"),
        Action.REJECT: lambda r: services.request_decide(by=first, request=r, decision="reject", comment="x"),
    }
    seen = {}
    for status in RequestStatus.values:
        for action, call in calls.items():
            # submit and resubmit are one service: it resubmits a returned request and submits any other.
            effective = Action.RESUBMIT if action is Action.SUBMIT and status == "returned" else action
            if action is Action.RESUBMIT and status != "returned":
                effective = Action.SUBMIT
            try:
                with transaction.atomic():
                    OutputRequest.objects.filter(pk=request.pk).update(
                        status=status, round=0 if status == "pending" else 1
                    )
                    call(OutputRequest.objects.get(pk=request.pk))
                    raise _Undo
            except _Undo:
                outcome = "done"
            except TransitionNotAllowed:
                outcome = "refused"
            except (services.AirlockError, NotAllowed) as error:
                outcome = f"other: {error}"
            seen[(status, action)] = outcome
            assert (outcome == "refused") is (not REQUEST.allows(status, effective)), (status, action, outcome)
    # What is allowed was done, not stopped by anything else.
    assert {k for k, v in seen.items() if v == "done"} == {
        (s, a) for s in RequestStatus.values for a in calls
        if REQUEST.allows(s, Action.RESUBMIT if a is Action.SUBMIT and s == "returned"
                          else Action.SUBMIT if a is Action.RESUBMIT and s != "returned" else a)
    }  # fmt: skip
    # The system's release, from every status: only an approved request is released.
    for status in RequestStatus.values:
        with transaction.atomic():
            OutputRequest.objects.filter(pk=request.pk).update(status=status, round=0 if status == "pending" else 1)
            if status == "approved":
                file.__class__.objects.filter(pk=file.pk).update(frozen_sha256=file.sha256, frozen_at=file.changed_at)
            released = services.request_release(request_id=request.pk)
            assert (released is not None) is (status == "approved"), status
            transaction.set_rollback(True)
