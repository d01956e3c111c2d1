"""Allele frequencies in a gene or region for one or more cohorts: AC, AN,
AF and genotype counts per variant, with its consequence and population AF,
and a lollipop plot along the gene. The counts follow ``bcftools +fill-tags``
on the same samples (AC, AN, AC_Het, AC_Hom/2); the test suite checks them
against its output.

Block-split: the selected variants are cut into blocks of
``ANALYSIS_BLOCK_VARIANTS`` (never between two variants at one position), each
counted by any worker; the combiner writes the table in position order.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.conf import settings

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
from analysis.plots import lollipop
from genomics.kernels import AlleleCounts
from participants.models import Gene
from participants.vocabularies import CONSEQUENCE_CLASSES

CLASS_LABELS = {
    "loss_of_function": "Loss of function",
    "missense": "Missense",
    "synonymous": "Synonymous",
    "intronic": "Intronic",
    "intergenic": "Intergenic",
}
COUNTS = ("ac", "an", "n_het", "n_hom_alt", "n_hom_ref", "n_missing")


def _af(row: Mapping[str, Any]) -> float | None:
    """AF from the *shown* AC and AN: never from raw counts, so it cannot give back a hidden or rounded AC."""
    ac, an = row["ac"], row["an"]
    if ac is None or an is None or an == 0:
        return None
    return round(ac / an, 6)


def _draw(table: pa.Table, ctx) -> Any:
    gene, region = selection(ctx.parameters)
    contig, start, end = _span(ctx.parameters, ctx.release, table)
    where = gene or ctx.parameters["region"]
    return lollipop(table, title=f"Allele frequency along {where}", contig=contig, start=start, end=end)


TABLE = TableSpec(
    key="allele_frequencies",
    title="Allele frequencies",
    description="One row per variant and cohort. AF is the shown AC over the shown AN.",
    columns=(
        Column("cohort", "string", "Cohort", "The input cohort (name and version)."),
        Column("variant", "string", "Variant", "contig:position:ref:alt (GRCh38)."),
        Column("contig", "string", "Contig", "Chromosome."),
        Column("position", "integer", "Position", "1-based position of the variant."),
        Column("ref", "string", "Ref", "Reference allele."),
        Column("alt", "string", "Alt", "Alternate allele."),
        Column("gene", "string", "Gene", "Gene the variant is annotated to."),
        Column("consequence", "string", "Consequence", "Most severe consequence (Sequence Ontology)."),
        Column("population_af", "float", "Population AF", "Allele frequency in a reference population (POPAF)."),
        Column("ac", "count", "AC", "Alternate alleles among called alleles in the cohort."),
        Column("an", "count", "AN", "Called alleles in the cohort."),
        Column("af", "float", "AF", "AC / AN, from the shown (controlled) AC and AN."),
        Column("n_hom_ref", "count", "Hom ref", "Members with two reference alleles."),
        Column("n_het", "count", "Het", "Members with one alternate allele."),
        Column("n_hom_alt", "count", "Hom alt", "Members with two alternate alleles."),
        Column("n_missing", "count", "Missing", "Members with a missing call."),
    ),
    breakdowns=(Breakdown(cells=("n_hom_ref", "n_het", "n_hom_alt", "n_missing")),),
    derived=(Derived("af", _af),),
    rules=("allele frequencies are derived from the shown AC and AN only",),
    default_sort="position",
)


class AlleleFrequencies(JobType):
    slug = "allele-frequencies"
    title = "Allele frequencies"
    description = (
        "AC, AN, AF and genotype counts of every variant in a gene or region, for one or more cohorts side by "
        "side, with each variant's consequence and population AF, and a lollipop plot along the gene. "
        "Counts as bcftools +fill-tags gives them on the same samples."
    )
    queue = "interactive"
    uses_genotypes = True
    splittable = True
    roles = (RoleSpec("cohort", "Cohorts", "One or more cohorts (up to four), side by side.", minimum=1, maximum=4),)
    params = (
        Param("gene", "Gene", "A gene symbol of the release's gene table, e.g. BRCA1. Give a gene or a region "
              "(with both: the gene's variants inside the region).", placeholder="BRCA1", max_length=40),
        Param("region", "Region", "A chromosome and 1-based inclusive positions, e.g. chr17:43044295-43125483.",
              placeholder="chr17:43044295-43125483", max_length=60),
        Param("consequences", "Consequences", "Only variants with one of these consequences; none ticked: every "
              "variant.", kind="multichoice", choices=tuple(CLASS_LABELS.items()), default=[]),
        Param("only_observed", "Only variants seen in these cohorts", "Leave out variants that no chosen cohort "
              "carries.", kind="boolean", default=True),
    )  # fmt: skip
    artifacts = (
        TABLE,
        PlotSpec("lollipop", "Allele frequency along the gene", "Each variant's AF in each cohort, by position; "
                 "variants whose AC is hidden are marked on the axis.", "allele_frequencies", _draw),
    )  # fmt: skip
    disclosure = (
        "AC, AN and genotype counts below the threshold hidden, every count rounded",
        "the genotype counts of each row are a breakdown: a single hidden cell is never recomputable",
        "AF is computed from the shown AC and AN, never from the raw counts",
    )

    def clean(self, values: dict[str, Any], *, release) -> dict[str, Any]:
        gene, region = values["gene"], values["region"]
        if not gene and not region:
            raise ParameterError({"": "Give a gene or a region."})
        if gene:
            symbols = {s.upper(): s for s in Gene.objects.filter(release=release).values_list("symbol", flat=True)}
            known = symbols.get(gene.upper())
            if known is None:
                close = difflib.get_close_matches(gene.upper(), list(symbols), n=3)
                hint = f" Did you mean {', '.join(symbols[c] for c in close)}?" if close else ""
                raise ParameterError({"gene": f"{gene} is not in the gene table of release {release.name}.{hint}"})
            values["gene"] = known
        if region:
            try:
                contig, start, end = genotypes.parse_region(region)
            except ValueError as error:
                raise ParameterError({"region": str(error).capitalize() + "."}) from None
            values["region"] = f"{contig}:{start}-{end}"
        return values

    def estimate(self, *, inputs: Sequence[PlannedInput], parameters: Mapping[str, Any], release) -> Estimate:
        k = costmodel.constants(self.slug)
        store = _store(release)
        gene, region = selection(parameters)
        n_variants = genotypes.variant_count(store, gene=gene, region=region)
        rows = n_variants * len(inputs)
        notes = [] if n_variants else ["No variant of the release is in this gene or region."]
        return Estimate(
            participants=[(i.role, i.label, i.genomes) for i in inputs],
            variants=n_variants,
            seconds=k["seconds_fixed"] + k["seconds_per_genotype"] * store.n_samples * n_variants
            + k["seconds_per_row"] * rows,
            memory_mb=k["memory_mb_fixed"] + k["memory_mb_per_sample"] * store.n_samples
            + k["memory_mb_per_row"] * rows,
            notes=notes,
        )  # fmt: skip

    # Blocks ------------------------------------------------------------------------------

    def blocks(self, ctx) -> list[dict[str, Any]]:
        ctx.stage(JobStage.READING_GENOTYPES, "Finding the variants")
        gene, region = selection(ctx.parameters)
        annotation = genotypes.variants(ctx.store, gene=gene, region=region)
        positions = annotation.column("position").to_numpy()
        contigs = annotation.column("contig").to_pylist()
        return [
            {"gene": gene, "contig": contigs[a], "start": int(positions[a]), "end": int(positions[b - 1])}
            for a, b in block_bounds(positions, settings.ANALYSIS_BLOCK_VARIANTS)
        ]

    def run_block(self, ctx, block: dict[str, Any], out: Path) -> None:
        cohorts = {str(i.position): i.sample_indices for i in ctx.inputs}
        annotation, counts = raw_counts(
            ctx.store, cohorts, mask=genotypes.release_mask(ctx.release), gene=block["gene"],
            region=(block["contig"], block["start"], block["end"]), consequences=ctx.parameters["consequences"],
        )  # fmt: skip
        columns = {name: annotation.column(name) for name in annotation.column_names}
        for key, c in counts.items():
            for field in COUNTS:
                columns[f"{key}:{field}"] = pa.array(getattr(c, field)[:, 0])
        pq.write_table(pa.table(columns), out)

    def combine(self, ctx, partials: list[Path]) -> None:
        ctx.stage(JobStage.COMBINING, "Combining the blocks")
        table = pa.concat_tables([pq.read_table(p) for p in partials])
        keys = [str(i.position) for i in ctx.inputs]
        if ctx.parameters["only_observed"] and table.num_rows:
            seen = np.zeros(table.num_rows, dtype=bool)
            for key in keys:
                seen |= table.column(f"{key}:ac").to_numpy() > 0
            table = table.filter(pa.array(seen))
        ctx.log(f"{table.num_rows:,} variant(s) after the filters.")
        ctx.check_cancelled()
        ctx.stage(JobStage.WRITING_RESULTS, "Writing the table")
        ctx.write_table("allele_frequencies", _rows(table, ctx.inputs))


def _rows(table: pa.Table, inputs) -> list[dict[str, Any]]:
    data = table.to_pydict()
    rows = []
    for v in range(table.num_rows):
        common = {
            "variant": f"{data['contig'][v]}:{data['position'][v]}:{data['ref'][v]}:{data['alt'][v]}",
            "contig": data["contig"][v],
            "position": data["position"][v],
            "ref": data["ref"][v],
            "alt": data["alt"][v],
            "gene": data["gene"][v],
            "consequence": data["csq"][v],
            "population_af": data["popaf"][v],
        }
        for item in inputs:
            key = str(item.position)
            rows.append({"cohort": item.label, **common, **{f: data[f"{key}:{f}"][v] for f in COUNTS}})
    return rows


def selection(parameters: Mapping[str, Any]) -> tuple[str | None, tuple[str, int, int] | None]:
    gene = parameters.get("gene") or None
    region = genotypes.parse_region(parameters["region"]) if parameters.get("region") else None
    return gene, region


def _span(parameters: Mapping[str, Any], release, table: pa.Table) -> tuple[str, int | None, int | None]:
    """Contig and x range of the plot: the region, else the gene, else the variants."""
    gene, region = selection(parameters)
    if region is not None:
        return region
    row = Gene.objects.filter(release=release, symbol=gene).values_list("chrom", "start", "end").first()
    if row is not None:
        return str(row[0]), int(row[1]), int(row[2])
    contig = table.column("contig")[0].as_py() if table.num_rows else ""
    return contig, None, None


def _store(release):
    try:
        return genotypes.store_for(release)
    except genotypes.StoreError as error:
        raise JobError(f"The genotype store of release {release.name} cannot be read ({error}).") from None


def block_bounds(positions: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Cut sorted positions into blocks of about ``size``, never between two equal positions."""
    n = len(positions)
    bounds, a = [], 0
    while a < n:
        b = min(n, a + max(1, size))
        while b < n and positions[b] == positions[b - 1]:
            b += 1
        bounds.append((a, b))
        a = b
    return bounds


def raw_counts(
    store,
    cohorts: Mapping[str, Sequence[int]],
    *,
    mask: genotypes.SampleMask,
    gene: str | None,
    region: tuple[str, int, int] | None,
    consequences: Sequence[str] = (),
) -> tuple[pa.Table, dict[str, AlleleCounts]]:
    """The runner's computation before disclosure control: the variants'
    annotation and each cohort's raw counts (``cohorts``: name -> store columns;
    ``mask``: the columns the release lets be read).
    Tests check it against bcftools +fill-tags on the same samples."""
    annotation = genotypes.variants(store, gene=gene, region=region)
    counted = genotypes.counts_by_cohort(store, cohorts, mask=mask, gene=gene, region=region)
    assert np.array_equal(annotation.column("variant_index").to_numpy(), counted.variant_index)
    by_cohort = dict(counted.by_cohort)
    if consequences:
        wanted = [c for k in consequences for c in CONSEQUENCE_CLASSES[k]]
        keep = pc.is_in(annotation.column("csq"), value_set=pa.array(wanted)).to_numpy(zero_copy_only=False)
        annotation = annotation.filter(pa.array(keep))
        rows = np.flatnonzero(keep)
        by_cohort = {k: c.take(rows) for k, c in by_cohort.items()}
    return annotation, by_cohort


JOB_TYPE = AlleleFrequencies()
