"""The job workflow is explicit, complete and documented."""

from pathlib import Path

import pytest

from analysis.models import JobStatus
from analysis.policies import JOB, Action, Party, TransitionNotAllowed, workflow_document

DOC = Path(__file__).resolve().parents[3] / "docs" / "analysis-workflow.md"


def test_the_workflow_covers_every_job_status():
    assert set(JOB.statuses) == {"queued", "running", "succeeded", "failed", "cancelled"} == set(JobStatus.values)
    assert set(JOB.labels) == set(JobStatus.values)


def test_every_status_is_reachable_and_either_has_a_party_or_is_final():
    seen, frontier = {JOB.initial}, [JOB.initial]
    while frontier:
        status = frontier.pop()
        for t in JOB.transitions:
            if t.source == status and t.target not in seen:
                seen.add(t.target)
                frontier.append(t.target)
    assert seen == set(JOB.statuses)
    assert JOB.terminal() == {"succeeded", "cancelled"}


def test_who_acts_in_each_status():
    expected = {
        "queued": {Party.MEMBER, Party.SYSTEM},
        "running": {Party.MEMBER, Party.SYSTEM},
        "failed": {Party.MEMBER},
        "succeeded": set(),
        "cancelled": set(),
    }
    assert {s: set(JOB.parties_in(s)) for s in JOB.statuses} == expected


def test_each_action_belongs_to_one_party_and_leads_to_one_place():
    keys = [(t.source, t.action) for t in JOB.transitions]
    assert len(keys) == len(set(keys))
    for action in Action:
        assert JOB.party_for(action) in set(Party)


@pytest.mark.parametrize("status", list(JobStatus.values))
def test_every_status_action_pair_is_allowed_or_refused_with_words(status):
    for action in Action:
        if JOB.allows(status, action):
            assert JOB.transition(status, action).source == status
        else:
            with pytest.raises(TransitionNotAllowed, match=r"^This job is .+, so it cannot be .+ now\.$"):
                JOB.transition(status, action)


def test_retry_is_only_for_failed_jobs_and_cancel_only_for_active_ones():
    assert [s for s in JOB.statuses if JOB.allows(s, Action.RETRY)] == ["failed"]
    assert {s for s in JOB.statuses if JOB.allows(s, Action.CANCEL)} == {"queued", "running"}


def test_the_workflow_document_is_up_to_date():
    assert DOC.read_text() == workflow_document(), "run: python manage.py analysis_workflow_doc"
    for t in JOB.transitions:
        assert f"{t.source} --> {t.target}: {t.action} ({t.party})" in DOC.read_text()
