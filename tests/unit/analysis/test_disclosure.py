"""What a table file holds is what may be shown: counts controlled as written,
genotype counts as a breakdown, AF derived from the shown AC and AN only."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.artifacts import disclose_rows, write_table
from analysis.jobtypes.allele_frequencies import TABLE
from disclosure.rules import RULES_VERSION, Policy, SafeCount

POLICY = Policy(threshold=5, rounding=5)


def _row(ac, an, hom_ref, het, hom_alt, missing):
    return {"cohort": "A (v1)", "variant": "chr1:1:A:G", "contig": "chr1", "position": 1, "ref": "A", "alt": "G",
            "gene": "G1", "consequence": "missense_variant", "population_af": 0.01, "ac": ac, "an": an,
            "n_hom_ref": hom_ref, "n_het": het, "n_hom_alt": hom_alt, "n_missing": missing}  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 400), st.integers(0, 40), st.integers(0, 40), st.integers(0, 40))
def test_no_shown_count_is_small_and_af_never_recovers_a_raw_ac(hom_ref, het, hom_alt, missing):
    called = hom_ref + het + hom_alt
    ac, an = het + 2 * hom_alt, 2 * called
    row = disclose_rows(TABLE, [_row(ac, an, hom_ref, het, hom_alt, missing)], POLICY).to_pylist()[0]
    shown = [row[c] for c in ("ac", "an", "n_hom_ref", "n_het", "n_hom_alt", "n_missing")]
    assert all(v is None or v == 0 or (v >= 5 and v % 5 == 0) for v in shown)
    cells = [row[c] for c in ("n_hom_ref", "n_het", "n_hom_alt", "n_missing")]
    if sum(v is None for v in cells) == 1:  # only when the rest are zeros: then the total is the cell, and small
        assert [v for v in cells if v is not None] == [0, 0, 0]
        assert hom_ref + het + hom_alt + missing < 5, "a single hidden cell would be the total minus the others"
    if row["ac"] is None or not row["an"]:
        assert row["af"] is None
    else:
        assert row["af"] == round(row["ac"] / row["an"], 6)
        assert abs(row["af"] * row["an"] - row["ac"]) < 1e-3, "AF times the shown AN gives the shown AC, not the raw"


def test_a_rare_variant_hides_its_ac_af_and_a_second_genotype_cell():
    row = disclose_rows(TABLE, [_row(2, 400, 198, 2, 0, 0)], POLICY).to_pylist()[0]
    assert row["ac"] is None and row["af"] is None and row["an"] == 400
    assert row["n_het"] is None and row["n_hom_ref"] is None and row["n_hom_alt"] == 0


def test_already_controlled_counts_pass_unchanged():
    from analysis.jobtypes.cohort_summary import CohortSummary

    spec = CohortSummary.artifacts[0]
    rows = [{"cohort": "A", "section": "Sex", "category": "Female", "subgroup": "", "code": "",
             "participants": SafeCount(None, "<5")}]  # fmt: skip
    assert disclose_rows(spec, rows, POLICY).to_pylist()[0]["participants"] is None


def test_the_file_records_its_columns_and_the_rules_applied(tmp_path):
    table = disclose_rows(TABLE, [_row(40, 400, 170, 20, 10, 0)], POLICY)
    written = write_table(TABLE, table, tmp_path, POLICY)
    meta = pq.read_schema(written.files[0].path).metadata
    disclosure = json.loads(meta[b"portal:disclosure"])
    assert disclosure["rules_version"] == RULES_VERSION and disclosure["threshold"] == 5
    assert "ac" in disclosure["count_columns"] and any("shown AC" in r for r in disclosure["applied"])
    assert [c["name"] for c in json.loads(meta[b"portal:columns"])] == [c.name for c in TABLE.columns]
    assert written.files[0].sha256 and written.files[0].size_bytes == written.files[0].path.stat().st_size
