"""Disclosure rules: no shown count is a small number, and no hidden cell can
be recovered from the total and the cells shown beside it."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from disclosure.rules import Policy, safe_breakdown, safe_count

policies = st.builds(Policy, threshold=st.integers(1, 20), rounding=st.integers(1, 10))


@given(policies, st.integers(0, 10_000))
def test_no_shown_count_is_between_one_and_the_threshold(policy, n):
    shown = safe_count(n, policy)
    if shown.value is not None:
        assert shown.value == 0 or shown.value >= policy.threshold
        assert (shown.value == 0) == (n == 0)
        assert shown.value % policy.rounding == 0 or shown.value == 0 or policy.rounding == 1
    else:
        assert 0 < n < policy.threshold


@given(policies, st.integers(0, 10_000))
def test_rounding_stays_close(policy, n):
    shown = safe_count(n, policy)
    if shown.value is not None and n >= policy.threshold:
        assert abs(shown.value - n) <= max(policy.rounding, policy.threshold)


@settings(max_examples=400)
@given(policies, st.dictionaries(st.text(min_size=1, max_size=4), st.integers(0, 60), min_size=1, max_size=8))
def test_no_hidden_cell_can_be_recomputed_from_the_total(policy, cells):
    breakdown = safe_breakdown(cells, policy)
    hidden = [k for k, c in breakdown.cells.items() if c.hidden]
    for key, count in breakdown.cells.items():
        assert count.hidden or count.value == 0 or count.value >= policy.threshold, key
    # A single hidden cell next to a shown total would be total minus the rest.
    if len(hidden) == 1:
        assert breakdown.total.hidden
    # Every primary-suppressed cell is hidden.
    for key, n in cells.items():
        if 0 < n < policy.threshold:
            assert breakdown.cells[key].hidden


@pytest.mark.parametrize(
    ("n", "label"), [(0, "0"), (1, "<5"), (4, "<5"), (5, "5"), (7, "5"), (8, "10"), (1234, "1,235")]
)
def test_default_policy_labels(n, label):
    assert safe_count(n, Policy()).label == label


def test_secondary_suppression_hides_the_smallest_other_cell():
    breakdown = safe_breakdown({"female": 3, "male": 40, "unknown": 12}, Policy())
    assert breakdown.cells["female"].hidden and breakdown.cells["unknown"].hidden
    assert breakdown.cells["male"].label == "40"
    assert not breakdown.total.hidden


def test_policy_refuses_nonsense():
    with pytest.raises(ValueError):
        Policy(threshold=0)
