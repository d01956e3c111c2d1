"""Disclosure checks of outputs asked to leave the environment (the airlock),
as rules in code. Plain Python, no Django: each rule has an id, a version, a
title, and a function from what is known of one output to a result with
reasons a researcher understands.

What a rule is given (``Output``): the file's format, size and rows (a table
as a list of dicts with its declared columns), the portal's policy and the
airlock's limits (``Limits``), the patterns of identifiers of the release, and
what the portal knows and no file-based airlock can: the cohorts each output
was computed from (their member sets), the cohorts of outputs already released
for the project and of the other files of the request, whether participants
have withdrawn since, and for a plot the result of its source table.

Each result is ``pass``, ``fail`` or ``needs_review``, or ``not_applicable``
(the rule does not concern this kind of output). A file's status is the worst
of its rules'. The record of a release keeps every rule's id, version, the
settings it used and its result.

Rules and their sources: minimum cell count (Genomics England, ACRO), dominance
(n, k) and p-percent (ACRO's defaults n=2, k=0.9, p=0.1), residual degrees of
freedom (ACRO: 10), no identifiers and no exact dates, ages in bands
(Genomics England), variant lists (Genomics England: AF >= 0.005 and AC >= 20
for bulk lists, about 300 selected variants), survival curves (ACRO,
Genomics England), file types, sizes and rows (OpenSAFELY: 16 MB, 5,000 rows),
plots only from passing tables, cohort differencing and consent (the portal's
own).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from disclosure.rules import Policy

PASS = "pass"  # noqa: S105 - a check result, not a password
FAIL = "fail"
NEEDS_REVIEW = "needs_review"
NOT_APPLICABLE = "not_applicable"
_SEVERITY = {NOT_APPLICABLE: 0, PASS: 1, NEEDS_REVIEW: 2, FAIL: 3}
STATUS_LABELS = {PASS: "Pass", FAIL: "Fail", NEEDS_REVIEW: "Needs review", NOT_APPLICABLE: "Not applicable"}

TABLE_FORMATS = ("csv",)
PLOT_FORMATS = ("png", "svg", "pdf")


@dataclass(frozen=True)
class Limits:
    """The airlock's settings (``AIRLOCK_*``), recorded with every release."""

    allowed_formats: tuple[str, ...] = TABLE_FORMATS + PLOT_FORMATS
    max_bytes: int = 16 * 1024 * 1024
    max_rows: int = 5000
    min_residual_df: int = 10
    dominance_n: int = 2
    dominance_k: float = 0.9
    p_percent: float = 0.1
    variant_min_af: float = 0.005
    variant_min_ac: int = 20
    selected_variants_max: int = 300

    def describe(self) -> dict[str, Any]:
        return {
            "allowed_formats": list(self.allowed_formats),
            "max_bytes": self.max_bytes,
            "max_rows": self.max_rows,
            "min_residual_df": self.min_residual_df,
            "dominance": {"n": self.dominance_n, "k": self.dominance_k},
            "p_percent": self.p_percent,
            "variant_min_af": self.variant_min_af,
            "variant_min_ac": self.variant_min_ac,
            "selected_variants_max": self.selected_variants_max,
        }


@dataclass(frozen=True)
class CohortUsed:
    """One cohort an output was computed from: a label for people, and its members."""

    label: str
    members: frozenset[Any]


@dataclass(frozen=True)
class Output:
    """What is known of one output file."""

    name: str
    format: str
    size_bytes: int
    kind: str = "table"  # "table" or "plot"
    columns: Sequence[Mapping[str, Any]] = ()  # declared: name, type (count/integer/float/string...)
    rows: Sequence[Mapping[str, Any]] = ()
    text: str = ""  # the text of an SVG plot (labels may carry identifiers or dates)
    magnitudes: Mapping[str, Sequence[float]] = field(default_factory=dict)  # cell -> contributions
    identifier_patterns: Sequence[str] = ()  # regular expressions of the release's id formats
    cohorts: Sequence[CohortUsed] = ()
    released_cohorts: Sequence[CohortUsed] = ()  # cohorts of the project's released outputs
    sibling_cohorts: Sequence[CohortUsed] = ()  # cohorts of the request's other files
    withdrawn_since: bool = False
    source_status: str | None = None  # a plot: its table's overall status

    @property
    def column_names(self) -> list[str]:
        return [c["name"] for c in self.columns] if self.columns else sorted({k for r in self.rows for k in r})

    def column_type(self, name: str) -> str:
        return next((c.get("type", "") for c in self.columns if c["name"] == name), "")


@dataclass(frozen=True)
class Result:
    rule: str
    version: str
    title: str
    status: str
    reasons: tuple[str, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "version": self.version,
            "title": self.title,
            "status": self.status,
            "reasons": list(self.reasons),
            "settings": dict(self.settings),
        }


CheckFn = Callable[[Output, Policy, Limits], tuple[str, list[str], dict[str, Any]]]


@dataclass(frozen=True)
class Rule:
    id: str
    version: str
    title: str
    description: str
    check: CheckFn

    def run(self, output: Output, policy: Policy, limits: Limits) -> Result:
        status, reasons, settings = self.check(output, policy, limits)
        return Result(self.id, self.version, self.title, status, tuple(reasons), settings)


def _numbers(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _few(items: Iterable[str], n: int = 3) -> str:
    items = list(items)
    shown = ", ".join(items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")


# --- the rules ---------------------------------------------------------------------------------


def _min_cell_count(out: Output, policy: Policy, limits: Limits):
    settings = {"threshold": policy.threshold, "rounding": policy.rounding}
    if out.kind != "table":
        return NOT_APPLICABLE, [], settings
    counts = [c["name"] for c in out.columns if c.get("type") == "count"]
    if not counts:
        return NOT_APPLICABLE, ["The table declares no count columns."], settings
    small: list[str] = []
    unrounded: list[str] = []
    for i, row in enumerate(out.rows, start=1):
        for name in counts:
            n = _numbers(row.get(name))
            if n is None or n == 0:
                continue
            if n < policy.threshold:
                small.append(f"row {i}, {name} = {n:g}")
            elif policy.rounding > 1 and n % policy.rounding:
                unrounded.append(f"row {i}, {name} = {n:g}")
    reasons = []
    if small:
        reasons.append(
            f"{len(small)} count(s) are below the threshold of {policy.threshold} and neither suppressed nor "
            f"rounded ({_few(small)}). Suppress them (leave the cell empty) or round them."
        )
    if unrounded:
        reasons.append(
            f"{len(unrounded)} count(s) are not rounded to a multiple of {policy.rounding} ({_few(unrounded)})."
        )
    if reasons:
        return FAIL, reasons, settings
    return PASS, [f"Every count is 0, suppressed, or at least {policy.threshold} and rounded."], settings


def _dominance(out: Output, policy: Policy, limits: Limits):
    settings = {"n": limits.dominance_n, "k": limits.dominance_k}
    if not out.magnitudes:
        return NOT_APPLICABLE, ["No magnitude table (sums of values over people) in this output."], settings
    bad = []
    for cell, values in out.magnitudes.items():
        values = sorted((abs(v) for v in values), reverse=True)
        total = sum(values)
        if total > 0 and sum(values[: limits.dominance_n]) / total > limits.dominance_k:
            bad.append(cell)
    if bad:
        return (
            FAIL,
            [
                f"In {_few(bad)}, the {limits.dominance_n} largest contributors make up more than "
                f"{limits.dominance_k:.0%} of the total: the cell would reveal them. Combine or suppress these cells."
            ],
            settings,
        )
    return PASS, [f"No cell is dominated by its {limits.dominance_n} largest contributors."], settings


def _p_percent(out: Output, policy: Policy, limits: Limits):
    settings = {"p": limits.p_percent}
    if not out.magnitudes:
        return NOT_APPLICABLE, ["No magnitude table (sums of values over people) in this output."], settings
    bad = []
    for cell, values in out.magnitudes.items():
        values = sorted((abs(v) for v in values), reverse=True)
        if len(values) < 2:
            bad.append(cell)
            continue
        # The second largest contributor can estimate the largest from the
        # total to within the sum of the others (ACRO's p-percent rule).
        rest = sum(values[2:])
        if rest < limits.p_percent * values[0]:
            bad.append(cell)
    if bad:
        return (
            FAIL,
            [
                f"In {_few(bad)}, the second largest contributor could estimate the largest to within "
                f"{limits.p_percent:.0%}. Combine or suppress these cells."
            ],
            settings,
        )
    return PASS, ["No contributor's value can be estimated closely from a cell total."], settings


_DF_COLUMNS = ("residual_df", "df_residual", "df_resid")


def _residual_df(out: Output, policy: Policy, limits: Limits):
    settings = {"min_residual_df": limits.min_residual_df}
    names = set(out.column_names)
    column = next((c for c in _DF_COLUMNS if c in names), None)
    obs, params = ("n_obs", "n_params")
    if column is None and not {obs, params} <= names:
        return NOT_APPLICABLE, ["Not a model output (no residual degrees of freedom recorded)."], settings
    low = []
    for i, row in enumerate(out.rows, start=1):
        df = _numbers(row.get(column)) if column else None
        if df is None and not column:
            n, p = _numbers(row.get(obs)), _numbers(row.get(params))
            df = n - p if n is not None and p is not None else None
        if df is None or df < limits.min_residual_df:
            low.append(f"row {i}")
    if low:
        return (
            FAIL,
            [
                f"The model has fewer than {limits.min_residual_df} residual degrees of freedom (or none recorded) "
                f"in {_few(low)}: its coefficients could describe single people."
            ],
            settings,
        )
    return PASS, [f"Every model has at least {limits.min_residual_df} residual degrees of freedom."], settings


def id_shape(value: str) -> str:
    """A regular expression for values shaped like ``value``: letters kept, each
    run of digits as that many digits (``P000123`` -> ``P\\d{6}``)."""
    parts = []
    for run in re.finditer(r"\d+|[^\d]+", value):
        text = run.group()
        parts.append(rf"\d{{{len(text)}}}" if text.isdigit() else re.escape(text))
    return "".join(parts)


def identifier_patterns(values: Iterable[str]) -> list[str]:
    """The distinct shapes of a release's identifiers (participants, families, samples, tumours)."""
    return sorted({id_shape(v) for v in values if v and any(ch.isdigit() for ch in v)})


def _cells_and_text(out: Output) -> Iterable[tuple[str, str]]:
    for i, row in enumerate(out.rows, start=1):
        for name, value in row.items():
            if isinstance(value, str):
                yield f"row {i}, {name}", value
    for name in out.column_names:
        yield "the header", name
    if out.text:
        yield "the plot's text", out.text


def _no_identifiers(out: Output, policy: Policy, limits: Limits):
    settings = {"patterns": list(out.identifier_patterns)}
    if not out.rows and not out.text:
        return NOT_APPLICABLE, ["Nothing to read in this file (a PNG or PDF: its table is checked)."], settings
    if not out.identifier_patterns:
        return PASS, ["The release has no identifiers to look for."], settings
    pattern = re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(out.identifier_patterns) + r")(?![A-Za-z0-9])")
    found = [where for where, text in _cells_and_text(out) if pattern.search(text)]
    if found:
        return (
            FAIL,
            [
                f"Values shaped like the release's participant, family, sample or tumour identifiers appear in "
                f"{_few(found)}. Identifiers may never leave: remove them."
            ],
            settings,
        )
    return PASS, ["No value looks like a participant, family, sample or tumour identifier."], settings


_DATE = re.compile(
    r"(?<!\d)(?:(?:19|20)\d\d[-/.](?:0[1-9]|1[0-2])[-/.](?:0[1-9]|[12]\d|3[01])"
    r"|(?:0[1-9]|[12]\d|3[01])[-/.](?:0[1-9]|1[0-2])[-/.](?:19|20)\d\d)(?!\d)"
)
_AGE_BAND = re.compile(r"^\s*(?:\d+\s*[-–]\s*\d+|\d+\+|<\s*\d+|\d+\s*(?:and|or)\s*over)\s*$")


def _no_exact_dates(out: Output, policy: Policy, limits: Limits):
    settings = {"age_columns": "names starting with 'age' hold bands (e.g. 40-49), never single years"}
    if not out.rows and not out.text:
        return NOT_APPLICABLE, ["Nothing to read in this file (a PNG or PDF: its table is checked)."], settings
    reasons = []
    dated = [where for where, text in _cells_and_text(out) if _DATE.search(text)]
    if dated:
        reasons.append(f"Exact dates appear in {_few(dated)}. Give months or years only.")
    ages = []
    for name in out.column_names:
        if not name.lower().startswith("age"):
            continue
        for i, row in enumerate(out.rows, start=1):
            value = row.get(name)
            if value is None or value == "":
                continue
            if isinstance(value, (int, float)) or not _AGE_BAND.match(str(value)):
                ages.append(f"row {i}, {name} = {value}")
    if ages:
        reasons.append(f"Ages are given as single values in {_few(ages)}. Give ages in bands (e.g. 40-49).")
    if reasons:
        return FAIL, reasons, settings
    return PASS, ["No exact dates; ages, if any, are in bands."], settings


def _variant_lists(out: Output, policy: Policy, limits: Limits):
    settings = {
        "min_af": limits.variant_min_af,
        "min_ac": limits.variant_min_ac,
        "selected_variants_max": limits.selected_variants_max,
    }
    names = set(out.column_names)
    if out.kind != "table" or not ("variant" in names or {"contig", "position", "ref", "alt"} <= names):
        return NOT_APPLICABLE, ["Not a list of variants."], settings
    key = "variant" if "variant" in names else None
    below = []
    for i, row in enumerate(out.rows, start=1):
        af, ac = _numbers(row.get("af")), _numbers(row.get("ac"))
        if af is None or ac is None or af < limits.variant_min_af or ac < limits.variant_min_ac:
            below.append(str(row.get(key)) if key else f"row {i}")
    n = len(out.rows)
    if not below:
        return PASS, [f"Every variant has AF >= {limits.variant_min_af:g} and AC >= {limits.variant_min_ac}."], settings
    if n > limits.selected_variants_max:
        return (
            FAIL,
            [
                f"A bulk list of {n} variants may hold only variants with AF >= {limits.variant_min_af:g} and "
                f"AC >= {limits.variant_min_ac}; {len(below)} are below (or hidden), e.g. {_few(below)}. "
                f"Filter them out, or keep at most {limits.selected_variants_max} selected significant variants."
            ],
            settings,
        )
    return (
        NEEDS_REVIEW,
        [
            f"A short list ({n} variants) with {len(below)} rare or low-count variant(s) ({_few(below)}): "
            "fine for selected significant variants; a checker decides."
        ],
        settings,
    )


def _survival(out: Output, policy: Policy, limits: Limits):
    settings = {"threshold": policy.threshold}
    names = set(out.column_names)
    if out.kind != "table" or not {"at_risk", "events"} <= names:
        return NOT_APPLICABLE, ["Not a survival table (no at_risk and events columns)."], settings
    group_col = next((c for c in ("group", "cohort", "stratum") if c in names), None)
    first_at_risk: dict[Any, float | None] = {}
    thin_steps = []
    for i, row in enumerate(out.rows, start=1):
        group = row.get(group_col) if group_col else ""
        at_risk, events = _numbers(row.get("at_risk")), _numbers(row.get("events"))
        first_at_risk.setdefault(group, at_risk)
        if events is not None and 0 < events < policy.threshold:
            thin_steps.append(f"row {i}")
    small_groups = [str(g) or "the curve" for g, n in first_at_risk.items() if n is None or n < policy.threshold]
    reasons = []
    if small_groups:
        reasons.append(f"Group(s) {_few(small_groups)} start with fewer than {policy.threshold} people at risk.")
    if thin_steps:
        reasons.append(
            f"Step(s) at {_few(thin_steps)} are backed by fewer than {policy.threshold} events: "
            "combine time intervals so each step has enough."
        )
    if reasons:
        return FAIL, reasons, settings
    return (
        PASS,
        [f"Every group starts with at least {policy.threshold} people, every step has enough events."],
        settings,
    )


def _file_limits(out: Output, policy: Policy, limits: Limits):
    settings = {"allowed_formats": list(limits.allowed_formats), "max_bytes": limits.max_bytes,
                "max_rows": limits.max_rows}  # fmt: skip
    reasons = []
    if out.format not in limits.allowed_formats:
        reasons.append(f"Files of type {out.format!r} cannot leave; allowed: {', '.join(limits.allowed_formats)}.")
    if out.size_bytes > limits.max_bytes:
        reasons.append(f"The file is {out.size_bytes:,} bytes; at most {limits.max_bytes:,} may leave.")
    if out.kind == "table" and len(out.rows) > limits.max_rows:
        reasons.append(f"The table has {len(out.rows):,} rows; at most {limits.max_rows:,} may leave.")
    if reasons:
        return FAIL, reasons, settings
    return PASS, [f"An allowed type ({out.format}), within the size and row limits."], settings


def _plot_from_table(out: Output, policy: Policy, limits: Limits):
    settings: dict[str, Any] = {}
    if out.kind != "plot":
        return NOT_APPLICABLE, [], settings
    if out.source_status is None:
        return FAIL, ["The table this plot was drawn from is not known, so the plot cannot be checked."], settings
    if out.source_status == FAIL:
        return FAIL, ["The table this plot was drawn from fails its checks, so the plot does too."], settings
    if out.source_status == NEEDS_REVIEW:
        return NEEDS_REVIEW, ["The table this plot was drawn from needs a checker's review."], settings
    return PASS, ["The table this plot was drawn from passes its checks."], settings


def _cohort_differencing(out: Output, policy: Policy, limits: Limits):
    settings = {"threshold": policy.threshold}
    if not out.cohorts:
        return NOT_APPLICABLE, ["The portal knows no cohort behind this output."], settings
    reasons = []
    for mine in out.cohorts:
        for where, others in (("an output already released for the project", out.released_cohorts),
                              ("another file of this request", out.sibling_cohorts)):  # fmt: skip
            for other in others:
                if other.members == mine.members:
                    continue
                differ = len(mine.members ^ other.members)
                if 0 < differ < policy.threshold:
                    reasons.append(
                        f"The cohort {mine.label} differs from {other.label} (in {where}) by fewer than "
                        f"{policy.threshold} participants: counts of the two side by side would reveal a small group."
                    )
    if reasons:
        return FAIL, sorted(set(reasons)), settings
    return (
        PASS,
        [f"No cohort differs from one already released or requested by 1 to {policy.threshold - 1} participants."],
        settings,
    )


def _consent(out: Output, policy: Policy, limits: Limits):
    if out.withdrawn_since:
        return (
            FAIL,
            [
                "This output was computed with participants who have since withdrawn consent. "
                "Run the analysis again (they are left out now) and export the new result."
            ],
            {},
        )
    return PASS, ["No participant whose data it used has withdrawn since."], {}


RULES: tuple[Rule, ...] = (
    Rule("file-limits", "1", "File type, size and rows", "Only allowed types; size and row limits.", _file_limits),
    Rule("min-cell-count", "1", "Minimum cell count",
         "Counts below the release's threshold are suppressed or rounded.", _min_cell_count),
    Rule("dominance", "1", "Dominance (n, k)",
         "No magnitude cell dominated by its n largest contributors.", _dominance),
    Rule("p-percent", "1", "p-percent", "No contributor estimable to within p% from a cell.", _p_percent),
    Rule("residual-df", "1", "Residual degrees of freedom", "Model outputs keep enough residual df.", _residual_df),
    Rule("no-identifiers", "1", "No identifiers",
         "No participant, sample, family or tumour ids (patterns from the release).", _no_identifiers),
    Rule("no-exact-dates", "1", "No exact dates; ages in bands", "Months or years only; age bands.", _no_exact_dates),
    Rule("variant-lists", "1", "Variant lists",
         "Bulk lists only above the AF and AC floor; short lists of selected variants reviewed.", _variant_lists),
    Rule("survival", "1", "Survival curves",
         "Each group and each step backed by at least the threshold.", _survival),
    Rule("plot-from-table", "1", "Plot from a passing table", "A plot passes only if its table does.",
         _plot_from_table),
    Rule("cohort-differencing", "1", "Cohort differencing",
         "No cohort differs from a released or requested one by 1 to threshold-1 people.", _cohort_differencing),
    Rule("consent", "1", "Consent", "No output computed from participants who withdrew since.", _consent),
)  # fmt: skip
RULES_BY_ID = {rule.id: rule for rule in RULES}


def run_checks(output: Output, policy: Policy, limits: Limits) -> list[Result]:
    return [rule.run(output, policy, limits) for rule in RULES]


def overall(results: Iterable[Result | Mapping[str, Any]]) -> str:
    """The file's status: the worst of its rules' (fail > needs review > pass)."""
    worst = PASS
    for r in results:
        status = r.status if isinstance(r, Result) else r["status"]
        if _SEVERITY[status] > _SEVERITY[worst]:
            worst = status
    return worst
