"""Over random criteria on a real release: no count the portal shows is in
1..threshold-1, and no hidden cell can be recomputed from the total and the
cells shown beside it."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohorts import criteria as crit
from cohorts.services import cohort_count
from participants import vocabularies as vocab

pytestmark = pytest.mark.django_db


def _subset(values):
    return st.lists(st.sampled_from(values), min_size=1, max_size=len(values), unique=True)


simple_criterion = st.one_of(
    st.builds(lambda v: {"type": "programme", "values": v}, _subset(vocab.RECRUITMENT_PROGRAMMES.criterion_values)),
    st.builds(lambda v: {"type": "sex", "values": v}, _subset(vocab.SEXES.criterion_values)),
    st.builds(lambda v: {"type": "age_band", "values": v}, _subset(crit.AGE_BANDS)),
    st.builds(lambda v: {"type": "ancestry", "values": v}, _subset(vocab.ANCESTRIES.criterion_values)),
    st.builds(lambda v: {"type": "family_role", "values": v}, _subset(vocab.FAMILY_ROLES.criterion_values)),
    st.builds(lambda v: {"type": "vital_status", "values": v}, _subset(vocab.VITAL_STATUSES.criterion_values)),
    st.builds(lambda v: {"type": "tumour", "stages": v}, _subset(vocab.STAGES.criterion_values)),
    st.builds(lambda t, o: {"type": "hpo", "term": t, "observed": o},
              st.sampled_from(["HP:0000707", "HP:0000478", "HP:0000598", "HP:0001626", "HP:0000118"]),
              st.booleans()),
)  # fmt: skip
criteria_strategy = st.fixed_dictionaries(
    {
        "include_all": st.lists(simple_criterion, max_size=4),
        "include_any": st.lists(simple_criterion, max_size=2),
        "exclude": st.lists(simple_criterion, max_size=2),
    }
)


def _check_count(count, threshold):
    assert count.value is None or count.value == 0 or count.value >= threshold, count


def _check_breakdown(breakdown, threshold):
    _check_count(breakdown.total, threshold)
    hidden = [c for c in breakdown.cells.values() if c.hidden]
    for cell in breakdown.cells.values():
        _check_count(cell, threshold)
    assert len(hidden) != 1 or breakdown.total.hidden


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(criteria=criteria_strategy)
def test_random_criteria_never_show_a_small_or_recoverable_count(release, world, settings, criteria):
    settings.COHORT_COUNT_LIMIT_PER_HOUR = 10**6
    project = world.approved_project
    result = cohort_count(by=project.owner, project=project, criteria_json=criteria)
    threshold = settings.DISCLOSURE_THRESHOLD
    _check_count(result.total, threshold)
    for _, count in result.per_criterion:
        _check_count(count, threshold)
    _check_breakdown(result.by_sex, threshold)
    _check_breakdown(result.by_programme, threshold)
