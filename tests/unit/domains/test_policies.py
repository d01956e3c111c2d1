"""The workflows are explicit, complete and documented."""

from pathlib import Path

import pytest

from domains.models import MembershipStatus, ProjectStatus
from domains.policies import MEMBERSHIP, PROJECT, WORKFLOWS, Action, Party, TransitionNotAllowed, workflows_document

DOC = Path(__file__).resolve().parents[3] / "docs" / "domains-workflows.md"


def _reachable(workflow):
    seen, frontier = {workflow.initial}, [workflow.initial]
    while frontier:
        status = frontier.pop()
        for t in workflow.transitions:
            if t.source == status and t.target not in seen:
                seen.add(t.target)
                frontier.append(t.target)
    return seen


@pytest.mark.parametrize(("workflow", "statuses"), [(MEMBERSHIP, MembershipStatus), (PROJECT, ProjectStatus)])
def test_workflow_covers_every_status_of_its_model(workflow, statuses):
    assert set(workflow.statuses) == set(statuses.values)
    assert set(workflow.labels) == set(statuses.values)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_every_status_is_reachable_from_the_initial_one(workflow):
    assert _reachable(workflow) == set(workflow.statuses)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_every_status_either_has_a_party_who_acts_or_is_final(workflow):
    for status in workflow.statuses:
        assert workflow.parties_in(status) or status in workflow.terminal(), status
    assert workflow.initial not in workflow.terminal()


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_transitions_stay_within_the_workflow_and_are_unambiguous(workflow):
    keys = [(t.source, t.action) for t in workflow.transitions]
    assert len(keys) == len(set(keys)), "one action from one status must lead to one place"
    for t in workflow.transitions:
        assert t.source in workflow.statuses and t.target in workflow.statuses


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_each_action_belongs_to_exactly_one_party(workflow):
    for action in {t.action for t in workflow.transitions}:
        assert len({t.party for t in workflow.transitions if t.action == action}) == 1, action


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_every_status_action_pair_is_either_allowed_or_refused_with_words(workflow):
    for status in workflow.statuses:
        for action in Action:
            if workflow.allows(status, action):
                assert workflow.transition(status, action).source == status
            else:
                with pytest.raises(TransitionNotAllowed, match=r"cannot be .+ now"):
                    workflow.transition(status, action)


def test_who_acts_in_each_membership_status():
    expected = {
        "pending": {Party.APPLICANT, Party.LEAD},
        "approved": {Party.LEAD},
        "rejected": set(),
        "withdrawn": set(),
        "revoked": set(),
    }
    assert {s: set(MEMBERSHIP.parties_in(s)) for s in MEMBERSHIP.statuses} == expected


def test_who_acts_in_each_project_status():
    expected = {
        "submitted": {Party.APPLICANT, Party.LEAD},
        "returned": {Party.APPLICANT},
        "approved": {Party.SYSTEM},
        "rejected": set(),
        "withdrawn": set(),
        "closed": set(),
    }
    assert {s: set(PROJECT.parties_in(s)) for s in PROJECT.statuses} == expected


def test_the_diagram_names_every_transition():
    for workflow in WORKFLOWS:
        diagram = workflow.mermaid()
        for t in workflow.transitions:
            assert f"{t.source} --> {t.target}: {t.action} ({t.party})" in diagram


def test_the_workflow_document_is_up_to_date():
    assert DOC.read_text() == workflows_document(), "run: python manage.py domains_workflow_doc"
