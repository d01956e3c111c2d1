"""The output request workflow is explicit, complete and documented: every
allowed transition is listed here, and every other (status, action) pair is
refused with words a person can read."""

from pathlib import Path

import pytest

from airlock.models import RequestStatus
from airlock.policies import REQUEST, Action, Party, TransitionNotAllowed, workflow_document

DOC = Path(__file__).resolve().parents[3] / "docs" / "airlock-workflow.md"

S = RequestStatus
ALLOWED = {
    (S.PENDING, Action.EDIT): (S.PENDING, Party.AUTHOR),
    (S.PENDING, Action.SUBMIT): (S.SUBMITTED, Party.AUTHOR),
    (S.PENDING, Action.WITHDRAW): (S.WITHDRAWN, Party.AUTHOR),
    (S.SUBMITTED, Action.REVIEW): (S.PARTIALLY_REVIEWED, Party.CHECKER),
    (S.PARTIALLY_REVIEWED, Action.REVIEW): (S.REVIEWED, Party.CHECKER),
    (S.REVIEWED, Action.REVIEW): (S.REVIEWED, Party.CHECKER),
    (S.REVIEWED, Action.APPROVE): (S.APPROVED, Party.CHECKER),
    (S.REVIEWED, Action.RETURN): (S.RETURNED, Party.CHECKER),
    (S.REVIEWED, Action.REJECT): (S.REJECTED, Party.CHECKER),
    (S.RETURNED, Action.EDIT): (S.RETURNED, Party.AUTHOR),
    (S.RETURNED, Action.RESUBMIT): (S.SUBMITTED, Party.AUTHOR),
    (S.RETURNED, Action.WITHDRAW): (S.WITHDRAWN, Party.AUTHOR),
    (S.APPROVED, Action.RELEASE): (S.RELEASED, Party.SYSTEM),
}


def test_the_workflow_covers_every_request_status():
    assert set(REQUEST.statuses) == set(RequestStatus.values) == set(REQUEST.labels)
    assert set(REQUEST.statuses) == {"pending", "submitted", "partially_reviewed", "reviewed", "approved",
                                     "released", "returned", "rejected", "withdrawn"}  # fmt: skip


@pytest.mark.parametrize("status", list(RequestStatus.values))
@pytest.mark.parametrize("action", list(Action))
def test_every_status_and_action_is_allowed_as_listed_or_refused(status, action):
    if (status, action) in ALLOWED:
        transition = REQUEST.transition(status, action)
        assert (transition.target, transition.party) == ALLOWED[(status, action)]
    else:
        assert not REQUEST.allows(status, action)
        with pytest.raises(TransitionNotAllowed, match=r"^This request is .+, so it cannot be .+ now\.$"):
            REQUEST.transition(status, action)


def test_who_may_act_in_each_status():
    expected = {
        "pending": {Party.AUTHOR},
        "returned": {Party.AUTHOR},
        "submitted": {Party.CHECKER},
        "partially_reviewed": {Party.CHECKER},
        "reviewed": {Party.CHECKER},
        "approved": {Party.SYSTEM},
        "released": set(),
        "rejected": set(),
        "withdrawn": set(),
    }
    assert {s: set(REQUEST.parties_in(s)) for s in REQUEST.statuses} == expected
    assert REQUEST.terminal() == {"released", "rejected", "withdrawn"}


def test_every_status_is_reachable_and_each_action_has_one_party():
    seen, frontier = {REQUEST.initial}, [REQUEST.initial]
    while frontier:
        status = frontier.pop()
        for t in REQUEST.transitions:
            if t.source == status and t.target not in seen:
                seen.add(t.target)
                frontier.append(t.target)
    assert seen == set(REQUEST.statuses)
    for action in Action:
        assert REQUEST.party_for(action) in set(Party)


def test_the_generated_diagram_is_current():
    assert DOC.read_text() == workflow_document()
