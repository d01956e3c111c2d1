"""The association job's plots: lambda, the labelled genes, and empty tables."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from analysis.plots import genomic_inflation, manhattan, qq_plot


def test_lambda_is_one_on_uniform_p_and_grows_with_inflation():
    p = (np.arange(1, 20001) - 0.5) / 20000
    assert genomic_inflation(p) == pytest.approx(1.0, abs=1e-3)
    inflated = stats.chi2.sf(stats.chi2.isf(p, 1) * 1.2, 1)
    assert genomic_inflation(inflated) == pytest.approx(1.2, rel=1e-3)


def _table(n=300):
    rng = np.random.default_rng(1)
    p = rng.uniform(size=n)
    p[7], p[150] = 1e-12, 1e-8
    genes = [f"G{i}" for i in range(n)]
    return pa.table({
        "contig": [f"chr{1 + i % 3}" for i in range(n)], "position": list(range(1000, 1000 + n)),
        "gene": genes, "p": p.tolist(), "p_score": p.tolist(),
    })  # fmt: skip


def _svg(figure) -> str:
    out = io.StringIO()
    figure.savefig(out, format="svg")
    return out.getvalue()


def test_manhattan_labels_the_genes_of_the_top_hits():
    svg = _svg(manhattan(_table(), title="M", labels=2))
    assert "G7" in svg and "G150" in svg
    assert "Bonferroni" in svg


def test_qq_plot_states_lambda_and_empty_tables_say_so():
    assert "λ =" in _svg(qq_plot(_table(), title="QQ"))
    empty = pa.table({"contig": pa.array([], pa.string()), "position": pa.array([], pa.int64()),
                      "gene": pa.array([], pa.string()), "p": pa.array([], pa.float64()),
                      "p_score": pa.array([], pa.float64())})  # fmt: skip
    assert "No variant passed the filters." in _svg(manhattan(empty, title="M"))
    assert "No p value to draw." in _svg(qq_plot(empty, title="QQ"))
