"""Cohort summary: demographics, age bands by sex, the most frequent HPO
terms, diseases and tumour types of one cohort, or two side by side, with bar
charts. Built on ``cohorts.selectors.cohort_summary``, over the job's usable
members; every count is disclosure-controlled there (small counts, rounding,
secondary suppression within each breakdown)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from analysis import costmodel
from analysis.jobtype import Column, Estimate, JobType, PlannedInput, PlotSpec, RoleSpec, TableSpec
from analysis.models import JobStage
from analysis.plots import grouped_bars, pyramid
from cohorts.models import Cohort
from cohorts.selectors import cohort_summary

SECTION_SIZE = "Participants"
SECTION_SEX = "Sex"
SECTION_AGE = "Age at consent"
SECTION_TERMS = "HPO term"
SECTION_DISEASE = "Disease"
SECTION_TUMOUR = "Tumour type"


def _draw_age_sex(table, ctx):
    return pyramid(table, section=SECTION_AGE, title="Age at consent by sex")


def _draw_terms(table, ctx):
    return grouped_bars(table, sections=[SECTION_TERMS], title="Most frequent HPO terms")


def _draw_diagnoses(table, ctx):
    return grouped_bars(table, sections=[SECTION_DISEASE, SECTION_TUMOUR], title="Diseases and tumour types")


class CohortSummary(JobType):
    slug = "cohort-summary"
    title = "Cohort summary"
    description = (
        "Who is in a cohort: sex, age at consent by sex, the most frequent HPO terms, diseases and tumour "
        "types, as tables and bar charts. Give two cohorts to see them side by side."
    )
    queue = "interactive"
    roles = (RoleSpec("cohort", "Cohorts", "One cohort, or two to compare side by side.", minimum=1, maximum=2),)
    params = ()
    artifacts = (
        TableSpec(
            key="summary",
            title="Summary",
            description="One row per cohort and category; counts are participants.",
            columns=(
                Column("cohort", "string", "Cohort", "The input cohort (name and version)."),
                Column("section", "string", "Section", "What the row counts: sex, age band, HPO term, disease..."),
                Column("category", "string", "Category", "The value counted (e.g. Female, 40-49, a term's name)."),
                Column("subgroup", "string", "Sex", "For age bands: the sex counted; otherwise empty."),
                Column("code", "string", "Code", "HPO term id where the row is a term."),
                Column("participants", "count", "Participants", "Participants in the category, controlled."),
            ),
            rules=(
                "categories of HPO terms, diseases and tumour types are the largest that can be shown, without a "
                "total beside them",
            ),
        ),
        PlotSpec("age_sex", "Age at consent by sex", "Participants by 10-year age band and sex.", "summary",
                 _draw_age_sex),
        PlotSpec("phenotypes", "Most frequent HPO terms", "Participants with each term (observed).", "summary",
                 _draw_terms),
        PlotSpec("diagnoses", "Diseases and tumour types", "Participants by specific disease and tumour type.",
                 "summary", _draw_diagnoses),
    )  # fmt: skip
    disclosure = (
        "counts below the threshold hidden, every count rounded",
        "in each breakdown shown with its total (sex, each age band), a single hidden cell is never recomputable",
        "only categories that can be shown are listed (terms, diseases, tumour types)",
    )

    def estimate(self, *, inputs: Sequence[PlannedInput], parameters: Mapping[str, Any], release) -> Estimate:
        k = costmodel.constants(self.slug)
        members = sum(i.members for i in inputs)
        return Estimate(
            participants=[(i.role, i.label, i.members) for i in inputs],
            variants=None,
            seconds=k["seconds_fixed"] + k["seconds_per_cohort"] * len(inputs) + k["seconds_per_member"] * members,
            memory_mb=k["memory_mb_fixed"] + k["memory_mb_per_member"] * members,
        )

    def run(self, ctx) -> None:
        rows: list[dict[str, Any]] = []
        for n, item in enumerate(ctx.inputs):
            ctx.check_cancelled()
            ctx.stage(JobStage.COMPUTING, f"Summarising {item.label}")
            summary = cohort_summary(cohort=Cohort.objects.get(pk=item.cohort_id), participant_ids=item.participant_ids)
            rows.extend(_rows(item.label, summary))
            ctx.progress(80 * (n + 1) / len(ctx.inputs), f"{item.label} summarised")
        ctx.stage(JobStage.WRITING_RESULTS, "Writing the summary")
        ctx.write_table("summary", rows)


def _rows(label: str, summary) -> list[dict[str, Any]]:
    def row(section: str, category: str, count, subgroup: str = "", code: str = "") -> dict[str, Any]:
        return {"cohort": label, "section": section, "category": category, "subgroup": subgroup, "code": code,
                "participants": count}  # fmt: skip

    rows = [row(SECTION_SIZE, "All", summary.size)]
    rows += [row(SECTION_SEX, sex, count) for sex, count in summary.sex.cells.items()]
    for band, breakdown in summary.age_sex.items():
        rows += [row(SECTION_AGE, band, count, subgroup=sex) for sex, count in breakdown.cells.items()]
    rows += [row(SECTION_TERMS, name or term, count, code=term) for term, name, count in summary.top_terms]
    rows += [row(SECTION_DISEASE, name, count) for name, count in summary.diseases]
    rows += [row(SECTION_TUMOUR, name, count) for name, count in summary.tumour_types]
    return rows


JOB_TYPE = CohortSummary()
