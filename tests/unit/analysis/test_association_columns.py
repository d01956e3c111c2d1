"""The association table's combined columns, read by the airlock's rules (variant lists: ``ac``
and ``af``; residual degrees of freedom: ``n_obs`` and ``n_params``), come from the shown counts only."""

from analysis.jobtypes.association import _ac, _af_all, _n_obs


def _row(case, control):
    cells = ("hom_ref", "het", "hom_alt", "missing")
    row = {f"case_{c}": v for c, v in zip(cells, case, strict=True)}
    return row | {f"control_{c}": v for c, v in zip(cells, control, strict=True)}


def test_allele_count_and_frequency_over_both_cohorts():
    row = _row((50, 40, 10, 0), (80, 15, 5, 5))
    assert _ac(row) == 2 * (10 + 5) + (40 + 15)
    assert _af_all(row) == round(85 / (2 * 200), 6)
    assert _n_obs(row) == 200


def test_a_hidden_count_gives_no_allele_count_and_a_lower_bound_of_the_called():
    row = _row((50, 40, None, 0), (80, 15, 5, None))
    assert _ac(row) is None and _af_all(row) is None
    assert _n_obs(row) == 50 + 40 + 80 + 15 + 5
