"""The workflows are explicit, complete and documented.

Each workflow is checked against a specification written out here, by hand,
from the ADR (docs/adr/0003-domains-and-projects.md), not against the tables
it is built from: a transition added, dropped or given to another party in
domains/policies.py fails these tests until the specification agrees. The
diagram is checked by reading its text back, edge by edge."""

import re
from pathlib import Path

import pytest

from domains.models import MembershipStatus, ProjectStatus
from domains.policies import MEMBERSHIP, PROJECT, WORKFLOWS, Action, Party, TransitionNotAllowed, workflows_document

DOC = Path(__file__).resolve().parents[3] / "docs" / "domains-workflows.md"

# (from, action) -> (to, who acts)
MEMBERSHIP_SPEC = {
    ("pending", "approve"): ("approved", "lead"),
    ("pending", "reject"): ("rejected", "lead"),
    ("pending", "withdraw"): ("withdrawn", "applicant"),
    ("approved", "revoke"): ("revoked", "lead"),
}
MEMBERSHIP_FINAL = {"rejected", "withdrawn", "revoked"}
PROJECT_SPEC = {
    ("submitted", "approve"): ("approved", "lead"),
    ("submitted", "reject"): ("rejected", "lead"),
    ("submitted", "return"): ("returned", "lead"),
    ("submitted", "withdraw"): ("withdrawn", "applicant"),
    ("returned", "resubmit"): ("submitted", "applicant"),
    ("returned", "withdraw"): ("withdrawn", "applicant"),
    ("approved", "close"): ("closed", "system"),
}
PROJECT_FINAL = {"rejected", "withdrawn", "closed"}
CASES = [
    pytest.param(MEMBERSHIP, MembershipStatus, MEMBERSHIP_SPEC, MEMBERSHIP_FINAL, "pending", id="membership"),
    pytest.param(PROJECT, ProjectStatus, PROJECT_SPEC, PROJECT_FINAL, "submitted", id="project"),
]


def _as_spec(workflow) -> dict:
    return {(t.source, str(t.action)): (t.target, str(t.party)) for t in workflow.transitions}


@pytest.mark.parametrize(("workflow", "model_statuses", "spec", "final", "initial"), CASES)
def test_the_transitions_are_exactly_the_specified_ones(workflow, model_statuses, spec, final, initial):
    assert _as_spec(workflow) == spec
    assert workflow.initial == initial


@pytest.mark.parametrize(("workflow", "model_statuses", "spec", "final", "initial"), CASES)
def test_every_status_of_the_model_is_in_the_specification(workflow, model_statuses, spec, final, initial):
    specified = {source for source, _ in spec} | {target for target, _ in spec.values()}
    assert set(model_statuses.values) == specified
    assert set(workflow.statuses) == specified


@pytest.mark.parametrize(("workflow", "model_statuses", "spec", "final", "initial"), CASES)
def test_the_final_statuses_are_the_specified_ones(workflow, model_statuses, spec, final, initial):
    assert workflow.terminal() == final
    assert initial not in final


@pytest.mark.parametrize(("workflow", "model_statuses", "spec", "final", "initial"), CASES)
def test_every_status_is_reachable_from_the_initial_one(workflow, model_statuses, spec, final, initial):
    seen, frontier = {initial}, [initial]
    while frontier:
        status = frontier.pop()
        for (source, _), (target, _) in spec.items():
            if source == status and target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(model_statuses.values)


@pytest.mark.parametrize(("workflow", "model_statuses", "spec", "final", "initial"), CASES)
def test_each_status_and_action_is_allowed_as_specified_or_refused_in_words(
    workflow, model_statuses, spec, final, initial
):
    checked = 0
    for status, label in model_statuses.choices:
        for action in Action:
            key = (status, str(action))
            if key in spec:
                transition = workflow.transition(status, action)
                assert (transition.target, str(transition.party)) == spec[key]
                assert workflow.allows(status, action)
            else:
                assert not workflow.allows(status, action)
                with pytest.raises(TransitionNotAllowed, match=rf"is {re.escape(label.lower())}, so it cannot be"):
                    workflow.transition(status, action)
            checked += 1
    assert checked == len(model_statuses.choices) * len(Action)


@pytest.mark.parametrize(("workflow", "model_statuses", "spec", "final", "initial"), CASES)
def test_who_may_act_in_each_status_follows_the_specification(workflow, model_statuses, spec, final, initial):
    for status in model_statuses.values:
        expected = {Party(party) for (source, _), (_, party) in spec.items() if source == status}
        assert set(workflow.parties_in(status)) == expected, status
        for party in Party:
            actions = {action for (source, action), (_, who) in spec.items() if source == status and who == party}
            assert {str(a) for a in workflow.actions_for(status, party)} == actions


_EDGE = re.compile(r"^\s+(\w+) --> (\w+): (\w+) \((\w+)\)$")


@pytest.mark.parametrize(("workflow", "model_statuses", "spec", "final", "initial"), CASES)
def test_the_diagram_reads_back_as_the_specification(workflow, model_statuses, spec, final, initial):
    lines = workflow.mermaid().splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert lines[1].strip() == f"[*] --> {initial}"
    edges = {}
    ends = set()
    for line in lines[2:]:
        if match := _EDGE.match(line):
            source, target, action, party = match.groups()
            edges[(source, action)] = (target, party)
        elif match := re.match(r"^\s+(\w+) --> \[\*\]$", line):
            ends.add(match.group(1))
        else:
            pytest.fail(f"a diagram line that is neither an edge nor an end: {line!r}")
    assert edges == spec
    assert ends == final


def test_the_workflow_document_holds_both_diagrams_and_is_up_to_date():
    text = DOC.read_text()
    assert text == workflows_document(), "run: python manage.py domains_workflow_doc"
    for workflow in WORKFLOWS:
        assert f"```mermaid\n{workflow.mermaid()}\n```" in text
        for status in workflow.statuses:
            assert f"| `{status}` |" in text
