"""Plots drawn on the server with matplotlib, from the rows of a result table
as written (so after disclosure control): a hidden count is drawn as nothing
and labelled with the policy's hidden label, never as its value."""

from __future__ import annotations

import json
from collections.abc import Sequence

import matplotlib
import numpy as np
import pyarrow as pa
from matplotlib.figure import Figure
from scipy import special

matplotlib.use("Agg")
matplotlib.rcParams.update(
    {
        "svg.fonttype": "none",  # text stays text in the SVG: smaller, selectable, readable by screen readers
        "svg.hashsalt": "tre-portal",  # element ids do not change from one run to the next
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)

PALETTE = ("#1b4d6b", "#c2711a", "#3a7d44", "#8a3b8f", "#5a6b7b", "#b23a3a")


def hidden_label(table: pa.Table) -> str:
    """How a hidden count reads: the policy's label, from the disclosure record in the table's metadata."""
    meta = table.schema.metadata or {}
    try:
        threshold = json.loads(meta[b"portal:disclosure"])["threshold"]
    except (KeyError, ValueError):
        return "hidden"
    return f"<{threshold}"


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _rows(table: pa.Table, sections: Sequence[str]) -> list[dict]:
    return [r for r in table.to_pylist() if r["section"] in sections]


def _empty(figure: Figure, title: str, message: str) -> Figure:
    ax = figure.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center")
    figure.suptitle(title)
    return figure


def grouped_bars(table: pa.Table, *, sections: Sequence[str], title: str, value: str = "participants") -> Figure:
    """Horizontal bars per category, one bar per cohort, for the rows of ``sections``."""
    rows = _rows(table, sections)
    cohorts = list(dict.fromkeys(r["cohort"] for r in rows))
    categories = list(dict.fromkeys((r["section"], r["category"]) for r in rows))
    figure = _figure(7.5, max(2.2, 0.32 * len(categories) * max(1, len(cohorts)) + 1.2))
    if not rows:
        return _empty(figure, title, "Nothing here is frequent enough to be shown.")
    ax = figure.add_subplot()
    height = 0.8 / max(1, len(cohorts))
    values = {(r["cohort"], r["section"], r["category"]): r[value] for r in rows}
    hidden = hidden_label(table)
    for c, cohort in enumerate(cohorts):
        ys, widths = [], []
        for k, (section, category) in enumerate(categories):
            v = values.get((cohort, section, category))
            ys.append(k + c * height)
            widths.append(v or 0)
            if v is None and (cohort, section, category) in values:
                ax.text(0, k + c * height, f" {hidden}", va="center", fontsize=7, color="#5a6b7b")
        ax.barh(ys, widths, height=height, color=PALETTE[c % len(PALETTE)], label=cohort)
    ax.set_yticks([k + height * (len(cohorts) - 1) / 2 for k in range(len(categories))])
    labels = [category if len(sections) == 1 else f"{category} ({section.lower()})" for section, category in categories]
    ax.set_yticklabels([label if len(label) <= 48 else label[:46] + "…" for label in labels])
    ax.invert_yaxis()
    ax.set_xlabel("Participants (rounded; small counts hidden)")
    if len(cohorts) > 1:
        ax.legend(loc="lower right", frameon=False)
    figure.suptitle(title)
    return figure


def pyramid(table: pa.Table, *, section: str, title: str) -> Figure:
    """Age bands by sex: females to the left, males to the right, one panel per cohort."""
    rows = _rows(table, [section])
    cohorts = list(dict.fromkeys(r["cohort"] for r in rows))
    bands = list(dict.fromkeys(r["category"] for r in rows))
    figure = _figure(3.8 * max(1, len(cohorts)), 3.4)
    if not rows:
        return _empty(figure, title, "No age band can be shown.")
    axes = figure.subplots(1, len(cohorts), sharey=True, squeeze=False)[0]
    hidden = hidden_label(table)
    for ax, cohort in zip(axes, cohorts, strict=True):
        mine = {(r["category"], r["subgroup"]): r["participants"] for r in rows if r["cohort"] == cohort}
        widest = max([abs(v) for v in mine.values() if v] or [5])
        for sex, sign, colour in (("Female", -1, PALETTE[1]), ("Male", 1, PALETTE[0])):
            widths = [sign * (mine.get((band, sex)) or 0) for band in bands]
            ax.barh(range(len(bands)), widths, color=colour, label=sex)
            for k, band in enumerate(bands):
                if (band, sex) in mine and mine[(band, sex)] is None:
                    ax.text(sign * widest * 0.03, k, hidden, va="center", ha="left" if sign > 0 else "right",
                            fontsize=7, color="#5a6b7b")  # fmt: skip
        ax.set_xlim(-widest * 1.15, widest * 1.15)
        ax.axvline(0, color="#1b2a3a", linewidth=0.6)
        ax.set_yticks(range(len(bands)))
        ax.set_yticklabels(bands)
        ax.set_title(cohort, fontsize=9)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{abs(int(x))}"))
        ax.set_xlabel("Participants")
    axes[0].legend(loc="lower left", frameon=False, fontsize=7)
    figure.suptitle(title)
    return figure


CONSEQUENCE_COLOURS = {
    "stop_gained": "#b23a3a",
    "frameshift_variant": "#b23a3a",
    "splice_donor_variant": "#c2711a",
    "splice_acceptor_variant": "#c2711a",
    "start_lost": "#b23a3a",
    "missense_variant": "#8a3b8f",
    "synonymous_variant": "#3a7d44",
    "intron_variant": "#9aa8b5",
    "intergenic_variant": "#9aa8b5",
}


def lollipop(table: pa.Table, *, title: str, contig: str, start: int | None, end: int | None) -> Figure:
    """Allele frequency of each variant along the gene or region, a panel per cohort.
    Variants whose frequency is hidden (AC below the threshold) are marked on the axis."""
    rows = table.to_pylist()
    cohorts = list(dict.fromkeys(r["cohort"] for r in rows))
    figure = _figure(8.5, 1.2 + 2.0 * max(1, len(cohorts)))
    if not rows:
        return _empty(figure, title, "No variant to draw.")
    axes = figure.subplots(len(cohorts), 1, sharex=True, squeeze=False)[:, 0]
    floor = 1e-5
    label = hidden_label(table)
    for ax, cohort in zip(axes, cohorts, strict=True):
        mine = [r for r in rows if r["cohort"] == cohort]
        shown = [r for r in mine if r["af"] is not None and r["af"] > 0]
        hidden = [r for r in mine if r["af"] is None]
        by_colour: dict[str, tuple[list[int], list[float]]] = {}
        for r in shown:
            xs, ys = by_colour.setdefault(CONSEQUENCE_COLOURS.get(r["consequence"], "#5a6b7b"), ([], []))
            xs.append(r["position"])
            ys.append(r["af"])
        for colour, (xs, ys) in by_colour.items():  # one artist per colour, whatever the number of variants
            ax.vlines(xs, floor, ys, color=colour, linewidth=0.8)
            ax.plot(xs, ys, "o", color=colour, markersize=3.5)
        if hidden:
            ax.plot([r["position"] for r in hidden], [floor] * len(hidden), "|", color="#5a6b7b", markersize=6,
                    label=f"AC {label}: AF not shown")  # fmt: skip
            ax.legend(loc="upper right", frameon=False, fontsize=7)
        ax.set_yscale("log")
        ax.set_ylim(floor * 0.8, 1.2)
        ax.set_ylabel("AF")
        ax.set_title(cohort, fontsize=9, loc="left")
    if start is not None and end is not None:
        axes[-1].set_xlim(start, end)
    axes[-1].set_xlabel(f"Position on {contig} (1-based)")
    axes[-1].ticklabel_format(axis="x", style="plain", useOffset=False)
    used = sorted({r["consequence"] for r in rows if r["af"]})
    if used:
        handles = [
            matplotlib.lines.Line2D([], [], marker="o", linestyle="", color=CONSEQUENCE_COLOURS.get(c, "#5a6b7b"),
                                    label=c.replace("_", " "))
            for c in used
        ]  # fmt: skip
        figure.legend(
            handles=handles, loc="outside lower center", ncols=min(4, len(handles)), frameon=False, fontsize=7
        )
    figure.suptitle(title)
    return figure


def _contig_key(contig: str) -> tuple[int, str]:
    name = contig.removeprefix("chr")
    return (int(name), "") if name.isdigit() else (100, name)


def manhattan(table: pa.Table, *, title: str, labels: int = 8) -> Figure:
    """-log10 p of every variant along the genome, contigs in order and alternately shaded; the
    genes of the top hits (the best variant of each of the ``labels`` best genes) are labelled."""
    figure = _figure(9.0, 3.8)
    if not table.num_rows:
        return _empty(figure, title, "No variant passed the filters.")
    contig = np.array(table.column("contig").to_pylist(), dtype=object)
    position = table.column("position").to_numpy(zero_copy_only=False).astype(float)
    p = np.array([np.nan if v is None else v for v in table.column("p").to_pylist()], dtype=float)
    genes = table.column("gene").to_pylist()
    ok = np.isfinite(p) & (p > 0)
    score = np.full(p.shape, np.nan)
    score[ok] = -np.log10(p[ok])
    ax = figure.add_subplot()
    offset, ticks, names = 0.0, [], []
    x = np.zeros(len(position))
    for k, name in enumerate(sorted(set(contig), key=_contig_key)):
        mine = contig == name
        span = position[mine].max() if mine.any() else 0
        x[mine] = offset + position[mine]
        ax.scatter(x[mine & ok], score[mine & ok], s=4, color=PALETTE[0] if k % 2 == 0 else PALETTE[4],
                   linewidths=0, rasterized=True)  # fmt: skip
        ticks.append(offset + span / 2)
        names.append(name.removeprefix("chr"))
        offset += span * 1.02 + 1
    n_tests = int(ok.sum())
    if n_tests:
        ax.axhline(-np.log10(0.05 / n_tests), color="#b23a3a", linewidth=0.7, linestyle="--",
                   label=f"Bonferroni 0.05 / {n_tests:,}")  # fmt: skip
        ax.legend(loc="upper right", frameon=False, fontsize=7)
    seen: set[str] = set()
    for i in np.argsort(np.where(ok, p, np.inf)):
        if len(seen) >= labels or not ok[i]:
            break
        gene = genes[i]
        if not gene or gene in seen:
            continue
        seen.add(gene)
        ax.annotate(gene, (x[i], score[i]), xytext=(0, 4), textcoords="offset points", ha="center", fontsize=7,
                    fontstyle="italic")  # fmt: skip
    ax.set_xticks(ticks)
    ax.set_xticklabels(names, fontsize=6)
    ax.set_xlabel("Chromosome")
    ax.set_ylabel("-log10 p")
    top = np.nanmax(score) if n_tests else 1.0
    ax.set_ylim(0, max(top * 1.12, -np.log10(0.05 / max(1, n_tests)) * 1.1))
    figure.suptitle(title)
    return figure


def genomic_inflation(p: Sequence[float] | np.ndarray) -> float:
    """lambda: the median chi-square (1 df) of the p values over its expected median, 0.4549."""
    values = np.array([v for v in p if v is not None and v > 0], dtype=float)
    if not values.size:
        return float("nan")
    return float(np.median(special.chdtri(1, values)) / special.chdtri(1, 0.5))


def qq_plot(table: pa.Table, *, title: str, column: str = "p_score") -> Figure:
    """Observed against expected -log10 p, with the genomic inflation factor lambda."""
    figure = _figure(4.6, 4.4)
    values = np.array([v for v in table.column(column).to_pylist() if v is not None and v > 0], dtype=float)
    if not values.size:
        return _empty(figure, title, "No p value to draw.")
    observed = -np.log10(np.sort(values))
    expected = -np.log10((np.arange(1, values.size + 1) - 0.5) / values.size)
    ax = figure.add_subplot()
    ax.scatter(expected, observed, s=5, color=PALETTE[0], linewidths=0, rasterized=True)
    top = max(expected.max(), observed.max())
    ax.plot([0, top], [0, top], color="#b23a3a", linewidth=0.7)
    ax.set_xlabel("Expected -log10 p")
    ax.set_ylabel("Observed -log10 p")
    lam = genomic_inflation(values)
    ax.text(0.04, 0.94, f"λ = {lam:.3f}", transform=ax.transAxes, fontsize=9, va="top")
    figure.suptitle(title)
    return figure
