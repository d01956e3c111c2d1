"""Every automated output rule of disclosure.checks has a passing case and a
failing case (plain Python, no database)."""

from __future__ import annotations

import pytest

from disclosure import checks
from disclosure.checks import FAIL, NEEDS_REVIEW, NOT_APPLICABLE, PASS, CohortUsed, Limits, Output
from disclosure.rules import Policy

POLICY = Policy(threshold=5, rounding=5)
LIMITS = Limits()
COUNTS = [{"name": "category", "type": "string"}, {"name": "participants", "type": "count"}]


def run(rule: str, **fields) -> checks.Result:
    defaults = {"name": "t.csv", "format": "csv", "size_bytes": 100}
    return checks.RULES_BY_ID[rule].run(Output(**{**defaults, **fields}), POLICY, LIMITS)


def test_every_rule_has_an_id_a_version_and_a_description():
    assert len({r.id for r in checks.RULES}) == len(checks.RULES) == 12
    for rule in checks.RULES:
        assert rule.version and rule.title and rule.description


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([{"category": "a", "participants": "10"}, {"category": "b", "participants": ""}, {"participants": "0"}], PASS),
        ([{"category": "a", "participants": "3"}], FAIL),
        ([{"category": "a", "participants": "12"}], FAIL),  # not rounded to 5
    ],
)
def test_minimum_cell_count(rows, expected):
    result = run("min-cell-count", columns=COUNTS, rows=rows)
    assert result.status == expected, result.reasons
    if expected == FAIL:
        assert "row 1, participants" in result.reasons[0]


def test_dominance_and_p_percent():
    spread = {"total income": [10, 11, 12, 9, 10, 13]}
    assert run("dominance", magnitudes=spread).status == PASS
    assert run("p-percent", magnitudes=spread).status == PASS
    dominated = {"total income": [1000, 20, 5, 5]}  # two largest: 1020/1030 > 0.9
    assert run("dominance", magnitudes=dominated).status == FAIL
    # Second largest knows the largest to within the rest (1 < 10% of 100).
    assert run("p-percent", magnitudes={"c": [100, 50, 1]}).status == FAIL
    assert run("p-percent", magnitudes={"c": [100, 50, 20]}).status == PASS
    assert run("dominance").status == NOT_APPLICABLE


def test_residual_degrees_of_freedom():
    cols = [{"name": "term", "type": "string"}, {"name": "residual_df", "type": "integer"}]
    assert run("residual-df", columns=cols, rows=[{"term": "x", "residual_df": "120"}]).status == PASS
    assert run("residual-df", columns=cols, rows=[{"term": "x", "residual_df": "8"}]).status == FAIL
    obs = [{"name": "n_obs", "type": "integer"}, {"name": "n_params", "type": "integer"}]
    assert run("residual-df", columns=obs, rows=[{"n_obs": 12, "n_params": 4}]).status == FAIL
    assert run("residual-df", columns=COUNTS, rows=[{"participants": 10}]).status == NOT_APPLICABLE


def test_identifier_patterns_are_the_shapes_of_the_release_ids():
    patterns = checks.identifier_patterns(["GEL0000001", "GEL0001234", "FAM000012", "GEL0000001-T1", ""])
    assert patterns == [r"FAM\d{6}", r"GEL\d{7}", r"GEL\d{7}\-T\d{1}"]


def test_no_identifiers():
    patterns = checks.identifier_patterns(["GEL0000001", "FAM000012"])
    clean = [{"category": "Female", "participants": "10"}, {"category": "HP:0001250", "participants": "5"}]
    assert run("no-identifiers", columns=COUNTS, rows=clean, identifier_patterns=patterns).status == PASS
    leaked = [{"category": "GEL0123456", "participants": "10"}]
    result = run("no-identifiers", columns=COUNTS, rows=leaked, identifier_patterns=patterns)
    assert result.status == FAIL and "row 1, category" in result.reasons[0]
    assert run("no-identifiers", kind="plot", format="svg", text="family FAM123456",
               identifier_patterns=patterns).status == FAIL  # fmt: skip


def test_no_exact_dates_and_ages_in_bands():
    cols = [{"name": "age_band", "type": "string"}, {"name": "when", "type": "string"}]
    good = [{"age_band": "40-49", "when": "2021-03"}, {"age_band": "80+", "when": "2021"}]
    assert run("no-exact-dates", columns=cols, rows=good).status == PASS
    assert run("no-exact-dates", columns=cols, rows=[{"age_band": "40-49", "when": "2021-03-14"}]).status == FAIL
    assert run("no-exact-dates", columns=cols, rows=[{"age_band": "14/03/2021", "when": ""}]).status == FAIL
    result = run("no-exact-dates", columns=cols, rows=[{"age_band": "47", "when": ""}])
    assert result.status == FAIL and "bands" in result.reasons[0]


def _variants(n, af, ac):
    cols = [{"name": "variant", "type": "string"}, {"name": "af", "type": "float"}, {"name": "ac", "type": "count"}]
    return cols, [{"variant": f"chr1:{i}:A:G", "af": af, "ac": ac} for i in range(n)]


def test_variant_lists():
    cols, rows = _variants(400, "0.01", "40")
    assert run("variant-lists", columns=cols, rows=rows).status == PASS
    cols, rows = _variants(400, "0.001", "40")  # a bulk list of rare variants
    assert run("variant-lists", columns=cols, rows=rows).status == FAIL
    cols, rows = _variants(12, "0.001", "")  # a short list of selected ones, AC hidden
    assert run("variant-lists", columns=cols, rows=rows).status == NEEDS_REVIEW
    assert run("variant-lists", columns=COUNTS, rows=[{"participants": 10}]).status == NOT_APPLICABLE


def test_survival_curves():
    cols = [{"name": n, "type": "count"} for n in ("at_risk", "events")] + [{"name": "group", "type": "string"}]
    good = [{"group": "a", "at_risk": 50, "events": 5}, {"group": "a", "at_risk": 45, "events": 10},
            {"group": "b", "at_risk": 30, "events": 0}]  # fmt: skip
    assert run("survival", columns=cols, rows=good).status == PASS
    small_group = [*good, {"group": "c", "at_risk": 3, "events": 0}]
    assert run("survival", columns=cols, rows=small_group).status == FAIL
    thin_step = [{"group": "a", "at_risk": 50, "events": 2}]
    assert "events" in run("survival", columns=cols, rows=thin_step).reasons[0]


def test_file_types_sizes_and_rows():
    assert run("file-limits", rows=[{}] * 10).status == PASS
    assert run("file-limits", format="parquet").status == FAIL
    assert run("file-limits", size_bytes=LIMITS.max_bytes + 1).status == FAIL
    assert run("file-limits", rows=[{}] * (LIMITS.max_rows + 1)).status == FAIL


def test_a_plot_passes_only_if_its_table_does():
    assert run("plot-from-table", kind="plot", format="png", source_status=PASS).status == PASS
    assert run("plot-from-table", kind="plot", format="png", source_status=FAIL).status == FAIL
    assert run("plot-from-table", kind="plot", format="png", source_status=None).status == FAIL
    assert run("plot-from-table", kind="plot", format="png", source_status=NEEDS_REVIEW).status == NEEDS_REVIEW
    assert run("plot-from-table").status == NOT_APPLICABLE


def test_cohort_differencing():
    base = frozenset(range(100))
    mine = [CohortUsed("A", base)]
    far = [CohortUsed("B", frozenset(range(90)))]  # 10 apart: safe
    same = [CohortUsed("A again", base)]
    near = [CohortUsed("A less three", frozenset(range(97)))]
    assert run("cohort-differencing", cohorts=mine, released_cohorts=far + same).status == PASS
    result = run("cohort-differencing", cohorts=mine, released_cohorts=near)
    assert result.status == FAIL and "already released" in result.reasons[0]
    result = run("cohort-differencing", cohorts=mine, sibling_cohorts=[CohortUsed("A plus one", base | {500})])
    assert result.status == FAIL and "another file of this request" in result.reasons[0]
    assert run("cohort-differencing").status == NOT_APPLICABLE


def test_consent():
    assert run("consent", withdrawn_since=False).status == PASS
    assert run("consent", withdrawn_since=True).status == FAIL


def test_a_files_status_is_the_worst_of_its_rules():
    results = checks.run_checks(Output("t.csv", "csv", 10, columns=COUNTS, rows=[{"participants": "10"}]),
                                POLICY, LIMITS)  # fmt: skip
    assert checks.overall(results) == PASS
    assert checks.overall([*results, checks.Result("x", "1", "x", NEEDS_REVIEW)]) == NEEDS_REVIEW
    assert checks.overall([*results, checks.Result("x", "1", "x", FAIL)]) == FAIL
