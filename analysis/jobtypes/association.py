"""Case-control association: every variant of the release tested between two
saved cohorts (cases and controls), from the release's packed genotype matrix.

Per variant, on the 2x2 table of ALT and REF alleles (missing calls dropped):
allelic chi-square (1 df) and Fisher's exact test, the odds ratio of ALT with
its 95% CI, and the Hardy-Weinberg exact p in controls, as PLINK 1.9
``--assoc`` / ``--assoc fisher`` give them. Then logistic regression of case
status on ALT dosage with covariates (sex, age at consent, genetic ancestry
as indicators, and principal components computed here from the cohorts'
common, LD-pruned variants): a score test of every variant after one fit of
the null model, then the full Wald fit of the variants whose score p is under
a threshold, with Firth's penalised likelihood where a cell of the allele
table is empty or the plain fit fails (as plink2 ``--glm firth-fallback``).
Each row says which test gave its logistic p. ``genomics.assoc`` holds the
statistics; the tests check them against PLINK 1.9, plink2, scipy and
statsmodels.

Block-split: the first task fixes the samples, the covariates, the principal
components and the null fit (``null.npz`` in the job's work directory); each
block of ``ANALYSIS_BLOCK_VARIANTS`` variants is tested by any worker; the
combiner sorts the table by p and draws the Manhattan and QQ plots.
Members of both cohorts are counted as cases only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from scipy import special

from analysis import costmodel, genotypes
from analysis.jobtype import (
    Breakdown,
    Column,
    Derived,
    Estimate,
    JobError,
    JobType,
    Param,
    ParameterError,
    PlannedInput,
    PlotSpec,
    RoleSpec,
    TableSpec,
)
from analysis.models import JobStage
from analysis.plots import manhattan, qq_plot
from genomics import assoc
from genomics.association import CELLS, GROUPS, TooFewVariants, block_statistics, principal_components
from genomics.bed import PackedGenotypes
from participants.models import Participant

COVARIATES = {"sex": "Sex", "age": "Age at consent", "ancestry": "Genetic ancestry (indicators)"}
NULL_FILE = "null.npz"


def _af(group: str):
    def compute(row: Mapping[str, Any]) -> float | None:
        """AF from the *shown* genotype counts only (null when one is hidden)."""
        cells = [row[f"{group}_{c}"] for c in ("hom_ref", "het", "hom_alt")]
        if any(c is None for c in cells) or sum(cells) == 0:
            return None
        hom_ref, het, hom_alt = cells
        return round((2 * hom_alt + het) / (2 * (hom_ref + het + hom_alt)), 6)

    return compute


def _shown_calls(row: Mapping[str, Any]) -> list[int] | None:
    """hom-ref, het and hom-alt counted over both cohorts from the *shown* counts (None when one is hidden)."""
    cells = [row[f"{g}_{c}"] for g in GROUPS for c in ("hom_ref", "het", "hom_alt")]
    if any(c is None for c in cells):
        return None
    return [sum(cells[i::3]) for i in range(3)]


def _ac(row: Mapping[str, Any]) -> int | None:
    calls = _shown_calls(row)
    return None if calls is None else 2 * calls[2] + calls[1]


def _af_all(row: Mapping[str, Any]) -> float | None:
    calls = _shown_calls(row)
    if calls is None or sum(calls) == 0:
        return None
    return round((2 * calls[2] + calls[1]) / (2 * sum(calls)), 6)


def _n_obs(row: Mapping[str, Any]) -> int:
    """At least this many members have a call: the shown counts, a hidden one taken as 0 (so nothing
    hidden can be recomputed from it)."""
    return sum(row[f"{g}_{c}"] or 0 for g in GROUPS for c in ("hom_ref", "het", "hom_alt"))


def _counts(group: str, label: str) -> tuple[Column, ...]:
    words = {"hom_ref": "two REF alleles", "het": "one ALT allele", "hom_alt": "two ALT alleles",
             "missing": "no call"}  # fmt: skip
    return tuple(
        Column(f"{group}_{c}", "count", f"{label} {c.replace('_', ' ')}", f"{label} members with {words[c]}.")
        for c in CELLS
    )


def _draw_manhattan(table: pa.Table, ctx) -> Any:
    return manhattan(table, title="Manhattan plot: logistic p of every variant")


def _draw_qq(table: pa.Table, ctx) -> Any:
    return qq_plot(table, title="QQ plot of the score test")


TABLE = TableSpec(
    key="association",
    title="Association",
    description="One row per variant tested, the smallest logistic p first.",
    columns=(
        Column("variant", "string", "Variant", "contig:position:ref:alt (GRCh38)."),
        Column("contig", "string", "Contig", "Chromosome."),
        Column("position", "integer", "Position", "1-based position of the variant."),
        Column("gene", "string", "Gene", "Gene the variant is annotated to."),
        Column("consequence", "string", "Consequence", "Most severe consequence (Sequence Ontology)."),
        Column("a1", "string", "A1", "The allele tested (ALT): odds ratios are for each copy of it."),
        *_counts("case", "Cases"),
        *_counts("control", "Controls"),
        Column("case_af", "float", "AF cases", "A1 frequency in cases, from the shown (controlled) counts."),
        Column("control_af", "float", "AF controls", "A1 frequency in controls, from the shown counts."),
        Column("ac", "integer", "AC", "A1 alleles counted in both cohorts, from the shown counts."),
        Column("af", "float", "AF", "A1 frequency over both cohorts, from the shown counts."),
        Column("n_obs", "integer", "Called", "At least this many members have a call (the shown counts)."),
        Column("n_params", "integer", "Parameters", "Parameters of the logistic model: intercept, covariates, A1."),
        Column("odds_ratio", "float", "OR (allelic)", "Odds ratio of A1, cases against controls, on alleles."),
        Column("ci_low", "float", "OR 95% low", "Lower end of the allelic OR's 95% interval (Woolf)."),
        Column("ci_high", "float", "OR 95% high", "Upper end of the allelic OR's 95% interval (Woolf)."),
        Column("p_chi2", "float", "p (chi-square)", "Allelic chi-square test, 1 df."),
        Column("p_fisher", "float", "p (Fisher)", "Fisher's exact test on the 2x2 allele table."),
        Column("p_hwe_controls", "float", "p (HWE, controls)", "Hardy-Weinberg exact test in controls."),
        Column("p_score", "float", "p (score)", "Logistic score test with the covariates, after one null fit."),
        Column("logistic_or", "float", "OR (logistic)", "Odds ratio per A1 copy from the full fit (where made)."),
        Column("logistic_ci_low", "float", "Logistic OR 95% low", "Wald interval of the logistic OR."),
        Column("logistic_ci_high", "float", "Logistic OR 95% high", "Wald interval of the logistic OR."),
        Column("p", "float", "p (logistic)", "Wald p of the full fit where it was made, else the score p."),
        Column("p_test", "string", "Test of p", "Which test gave p: Wald, Firth (penalised) or score."),
    ),
    breakdowns=(
        Breakdown(cells=tuple(f"case_{c}" for c in CELLS)),
        Breakdown(cells=tuple(f"control_{c}" for c in CELLS)),
    ),
    derived=(
        Derived("case_af", _af("case")),
        Derived("control_af", _af("control")),
        Derived("ac", _ac),
        Derived("af", _af_all),
        Derived("n_obs", _n_obs),
    ),
    rules=(
        "only variants whose minor allele is counted at least the minimum MAC over both cohorts are listed",
        "allele frequencies are derived from the shown genotype counts only",
    ),
    default_sort="p",
)


class Association(JobType):
    slug = "association"
    title = "Case-control association"
    description = (
        "Every variant of the release tested between a cases cohort and a controls cohort: allelic chi-square "
        "and Fisher's exact test with odds ratios, and logistic regression with covariates (sex, age, ancestry, "
        "principal components) by score test, then Wald or Firth fits where the score p is small. A sorted "
        "table, a Manhattan plot and a QQ plot with the genomic inflation factor."
    )
    queue = "heavy"
    uses_genotypes = True
    splittable = True
    roles = (
        RoleSpec("cases", "Cases", "The cohort of cases (e.g. a diagnosis). Members in both cohorts count as cases."),
        RoleSpec("controls", "Controls", "The cohort of controls (e.g. the rest of the programme)."),
    )
    params = (
        Param("min_maf", "Minimum MAF", "Leave out variants whose minor allele frequency over both cohorts is below "
              "this.", kind="number", default=0.01, min_value=0.0, max_value=0.5),
        Param("min_mac", "Minimum minor allele count", "Leave out variants whose minor allele is seen fewer times "
              "over both cohorts (at least 5: rarer variants are not listed).", kind="integer", default=20,
              min_value=5, max_value=1_000_000),
        Param("score_threshold", "Score p threshold for full fits", "Variants whose score-test p is under this get "
              "the full Wald fit (Firth's where needed); 1 fits every variant.", kind="number", default=0.05,
              min_value=1e-12, max_value=1.0),
        Param("covariates", "Covariates", "Adjust the logistic regression for these.", kind="multichoice",
              choices=tuple(COVARIATES.items()), default=list(COVARIATES)),
        Param("n_pcs", "Principal components", "How many principal components of the cohorts' common, LD-pruned "
              "variants to adjust for (0 for none).", kind="integer", default=4, min_value=0, max_value=10),
    )  # fmt: skip
    artifacts = (
        TABLE,
        PlotSpec("manhattan", "Manhattan plot", "-log10 p of every variant along the genome; the genes of the top "
                 "hits are labelled.", "association", _draw_manhattan),
        PlotSpec("qq", "QQ plot", "Observed against expected -log10 p of the score test, with the genomic "
                 "inflation factor lambda.", "association", _draw_qq),
    )  # fmt: skip
    disclosure = (
        "genotype counts below the threshold hidden, every count rounded; each group's counts are a breakdown",
        "allele frequencies are computed from the shown counts, never from the raw ones",
        "only variants with a minor allele count of at least the minimum MAC (5 or more) are listed",
    )

    def clean(self, values: dict[str, Any], *, release) -> dict[str, Any]:
        if values.get("min_maf") is None:
            values["min_maf"] = 0.01
        if values.get("score_threshold") is None:
            values["score_threshold"] = 0.05
        if values.get("min_mac") is None:
            values["min_mac"] = 20
        if values.get("n_pcs") is None:
            values["n_pcs"] = 4
        if values["score_threshold"] <= 0:
            raise ParameterError({"score_threshold": "Give a threshold above 0."})
        return values

    def estimate(self, *, inputs: Sequence[PlannedInput], parameters: Mapping[str, Any], release) -> Estimate:
        k = costmodel.constants(self.slug)
        store = _store(release)
        n = sum(i.genomes for i in inputs)
        notes = []
        if not any(i.role == "cases" and i.genomes for i in inputs):
            notes.append("The cases cohort has nobody with a genome.")
        return Estimate(
            participants=[(i.role, i.label, i.genomes) for i in inputs],
            variants=store.n_variants,
            seconds=k["seconds_fixed"] + k["seconds_per_genotype"] * n * store.n_variants,
            memory_mb=k["memory_mb_fixed"] + k["memory_mb_per_sample"] * n,
            notes=notes,
        )

    # Blocks ------------------------------------------------------------------------------

    def blocks(self, ctx) -> list[dict[str, Any]]:
        ctx.stage(JobStage.PREPARING, "Fixing samples and covariates")
        packed = _packed(ctx.release)
        cases, controls = (
            np.unique(np.concatenate([np.asarray(i.sample_indices, dtype=np.int64) for i in ctx.inputs_as(role)]))
            for role in ("cases", "controls")
        )
        overlap = np.intersect1d(cases, controls)
        controls = np.setdiff1d(controls, cases)
        if overlap.size:
            ctx.log("Members of both cohorts are counted as cases only.")
        if cases.size < 2 or controls.size < 2:
            raise JobError("Both cohorts need members with a genome (cases, and controls not among the cases).")
        samples = np.concatenate([cases, controls])
        order = np.argsort(samples)
        samples = samples[order]
        y = np.concatenate([np.ones(cases.size), np.zeros(controls.size)])[order]
        columns = [np.ones(samples.size)]
        names = ["intercept"]
        covariates = _covariates(ctx.release, samples, ctx.parameters["covariates"])
        for name, values in covariates:
            columns.append(values)
            names.append(name)
        n_pcs = int(ctx.parameters["n_pcs"])
        if n_pcs:
            ctx.stage(JobStage.READING_GENOTYPES, "Principal components of common, pruned variants")
            try:
                pcs, used = principal_components(packed, samples, n_pcs, ctx.store.variant_contigs())
            except TooFewVariants:
                raise JobError(
                    "Too few common variants among the cohorts for principal components: choose 0."
                ) from None
            ctx.log(f"Principal components from {used:,} common, LD-pruned variants.")
            for k in range(pcs.shape[1]):
                columns.append(pcs[:, k])
                names.append(f"PC{k + 1}")
        x = np.column_stack(columns)
        x, names, dropped = _usable_covariates(x, names, y)
        if dropped:
            ctx.log("Left out of the model (constant, redundant, or separating cases from controls): "
                    + ", ".join(dropped) + ".")  # fmt: skip
        ctx.stage(JobStage.COMPUTING, "Fitting the null model")
        null = assoc.null_fit(x, y)
        if not null.converged:
            raise JobError("The model with the covariates alone does not converge: choose fewer covariates.")
        ctx.log("Null model fitted with " + ", ".join(names[1:] or ["no covariates"]) + ".")
        np.savez(ctx.work / NULL_FILE, samples=samples, y=y, x=x, beta=null.beta, names=np.array(names))
        size = max(1, int(settings.ANALYSIS_BLOCK_VARIANTS))
        return [{"start": a, "stop": min(packed.n_variants, a + size)} for a in range(0, packed.n_variants, size)]

    def run_block(self, ctx, block: dict[str, Any], out: Path) -> None:
        packed = _packed(ctx.release)
        saved = np.load(ctx.work / NULL_FILE)
        samples, y, x, beta = saved["samples"], saved["y"], saved["x"], saved["beta"]
        null = assoc.NullModel(x, y, beta, special.expit(x @ beta), True)
        pq.write_table(block_statistics(packed, samples, null, block["start"], block["stop"], ctx.parameters), out)

    def combine(self, ctx, partials: list[Path]) -> None:
        ctx.stage(JobStage.COMBINING, "Combining the blocks")
        table = pa.concat_tables([pq.read_table(p) for p in partials])
        ctx.log(f"{table.num_rows:,} variant(s) pass the MAF and MAC filters.")
        ctx.check_cancelled()
        ctx.stage(JobStage.WRITING_RESULTS, "Writing the table")
        n_params = int(np.load(ctx.work / NULL_FILE)["x"].shape[1]) + 1  # the null model's columns and A1
        ctx.write_table("association", _rows(table, ctx.store, n_params))


def _covariates(release, samples: np.ndarray, chosen: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    rows = {
        r["sample_index"]: r
        for r in Participant.objects.filter(release=release, sample_index__in=[int(s) for s in samples]).values(
            "sample_index", "sex", "age_at_consent", "genetic_ancestry"
        )
    }
    missing = [int(s) for s in samples if int(s) not in rows]
    if missing:
        raise JobError("Some members' clinical records are missing from the release.")
    out: list[tuple[str, np.ndarray]] = []
    if "sex" in chosen:
        out.append(("male", np.array([rows[int(s)]["sex"] == "male" for s in samples], dtype=float)))
    if "age" in chosen:
        out.append(("age at consent", np.array([rows[int(s)]["age_at_consent"] for s in samples], dtype=float)))
    if "ancestry" in chosen:
        ancestry = np.array([rows[int(s)]["genetic_ancestry"] for s in samples])
        levels, sizes = np.unique(ancestry, return_counts=True)
        reference = levels[np.argmax(sizes)]
        for level in levels:
            if level != reference:
                out.append((f"ancestry {level}", (ancestry == level).astype(float)))
    return out


def _usable_covariates(x: np.ndarray, names: list[str], y: np.ndarray) -> tuple[np.ndarray, list[str], list[str]]:
    """Leave out covariates that are constant or a combination of earlier ones (e.g. one sex only),
    and indicators whose members are all cases or all controls (no finite fit exists with them)."""
    kept: list[int] = []
    for j in range(x.shape[1]):
        column = x[:, j]
        if j and set(np.unique(column)) <= {0.0, 1.0}:
            ones = column == 1
            if len(set(y[ones])) < 2 or len(set(y[~ones])) < 2:
                continue
        if np.linalg.matrix_rank(x[:, [*kept, j]]) == len(kept) + 1:
            kept.append(j)
    dropped = [n for j, n in enumerate(names) if j not in kept]
    return x[:, kept], [names[j] for j in kept], dropped


def _rows(table: pa.Table, store, n_params: int) -> list[dict[str, Any]]:
    """The table's rows before disclosure control, sorted by p (none last), then contig and position.

    Built column by column: the annotation of the listed variants only, the derived columns with numpy."""
    ann = store.annotation_of(np.asarray(table.column("variant_index").to_numpy(), dtype=np.int64))
    fitted = table.column("fitted").to_numpy(zero_copy_only=False).astype(bool)
    firth = table.column("firth").to_numpy(zero_copy_only=False).astype(bool)
    beta = _floats(table, "beta")
    se = _floats(table, "se")
    with np.errstate(over="ignore", invalid="ignore"):
        logistic = {
            "logistic_or": np.where(fitted, np.exp(beta), np.nan),
            "logistic_ci_low": np.where(fitted, np.exp(beta - assoc.Z95 * se), np.nan),
            "logistic_ci_high": np.where(fitted, np.exp(beta + assoc.Z95 * se), np.nan),
        }
    p = np.where(fitted, _floats(table, "p_wald"), _floats(table, "p_score"))
    p[~np.isfinite(p)] = np.nan
    contig, position = ann.column("contig").to_pylist(), ann.column("position").to_pylist()
    ref, alt = ann.column("ref").to_pylist(), ann.column("alt").to_pylist()
    columns: dict[str, list[Any]] = {
        "variant": [f"{c}:{pos}:{r}:{a}" for c, pos, r, a in zip(contig, position, ref, alt, strict=True)],
        "contig": contig,
        "position": position,
        "gene": [g or "" for g in ann.column("gene").to_pylist()],
        "consequence": ann.column("csq").to_pylist(),
        "a1": alt,
        **{f"{g}_{c}": table.column(f"{g}_{c}").to_pylist() for g in GROUPS for c in CELLS},
        **{name: _nullable(_floats(table, name)) for name in ("odds_ratio", "ci_low", "ci_high", "p_chi2", "p_fisher",
                                                             "p_hwe_controls", "p_score")},
        **{name: _nullable(values) for name, values in logistic.items()},
        "p": _nullable(p),
        "p_test": np.where(fitted, np.where(firth, "Firth", "Wald"), "score").tolist(),
        "n_params": [n_params] * table.num_rows,
    }  # fmt: skip
    names = list(columns)
    rows = [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    # p ascending, rows without p last; ties by contig (as text) and position
    rows.sort(key=lambda r: (r["p"] is None, r["p"] if r["p"] is not None else 1.0, r["contig"], r["position"]))
    return rows


def _floats(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)


def _nullable(values: np.ndarray) -> list[float | None]:
    """Floats, with None for a value that is not finite (NaN, inf)."""
    out: list[float | None] = values.tolist()
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        out[i] = None
    return out


def _store(release):
    try:
        return genotypes.store_for(release)
    except genotypes.StoreError as error:
        raise JobError(f"The genotype store of release {release.name} cannot be read ({error}).") from None


def _packed(release) -> PackedGenotypes:
    try:
        return genotypes.packed_for(release)
    except genotypes.StoreError as error:
        raise JobError(f"Release {release.name} has no analysis-ready genotype matrix ({error}).") from None


JOB_TYPE = Association()
