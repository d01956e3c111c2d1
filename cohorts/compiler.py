"""Compile cohort criteria into a query over a release's consenting participants.

Related-table criteria (phenotypes, diseases, tumours) are uncorrelated
``IN`` subqueries, which the database runs once and hashes, so they work as
well inside an aggregate's FILTER as in a WHERE clause. Phenotype criteria use
the HPO closure: a broad term (one with hundreds of descendants) reads the
release's precomputed PhenotypeAncestor rows, a narrower one matches
phenotype rows whose term is in the closure below it. Genotype criteria ask
the release's genotype store for carriers (DuckDB over the Parquet carrier
index) and filter on the participants' sample index. Withdrawn participants
are never part of any result.

A count request runs :func:`count_cells` (the total by programme and sex) and
:func:`count_each` (each criterion alone); see docs/adr/0005.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from cohorts.criteria import CONSEQUENCE_CLASSES, Criteria, Criterion
from genomics.store import GenotypeStore
from participants.models import (
    DataRelease,
    Disease,
    HpoAncestor,
    HpoTerm,
    Participant,
    Phenotype,
    PhenotypeAncestor,
    Tumour,
)
from participants.selectors import release_consenting


@lru_cache(maxsize=8)
def _store(path: str) -> GenotypeStore:
    return GenotypeStore(path)


def genotype_store(release: DataRelease) -> GenotypeStore:
    return _store(str(Path(settings.DATA_ROOT) / release.store_path))


def _band_bounds(band: str) -> tuple[int, int | None]:
    """ "40-49" -> (40, 49); "90+" -> (90, None)."""
    if band.endswith("+"):
        return int(band[:-1]), None
    low, high = (int(x) for x in band.split("-"))
    return low, high


def _age_band_q(band: str) -> Q:
    low, high = _band_bounds(band)
    return Q(age_at_consent__gte=low) if high is None else Q(age_at_consent__gte=low, age_at_consent__lte=high)


def criterion_q(criterion: Criterion, release: DataRelease) -> Q:
    p = criterion.params
    kind = criterion.type
    if kind == "programme":
        return Q(programme__in=p["values"])
    if kind == "sex":
        return Q(sex__in=p["values"])
    if kind == "ancestry":
        return Q(genetic_ancestry__in=p["values"])
    if kind == "recruiting_centre":
        return Q(recruiting_centre__in=p["values"])
    if kind == "affection":
        return Q(affection_status__in=p["values"])
    if kind == "vital_status":
        return Q(vital_status__in=p["values"])
    if kind == "family_role":
        roles = ["" if v == "none" else v for v in p["values"]]
        return Q(relationship_to_proband__in=roles)
    if kind == "age_band":
        q = Q()
        for band in p["values"]:
            q |= _age_band_q(band)
        return q
    if kind == "disease":
        return Q(pk__in=Disease.objects.filter(**{f"{p['field']}__in": p["values"]}).values("participant_id"))
    if kind == "hpo":
        rollup = _rollup(criterion, release)
        if rollup is not None:
            return Q(pk__in=rollup.values("participant_id"))
        return _hpo_q(p["term"], observed=p["observed"], include_descendants=p["include_descendants"])
    if kind == "tumour":
        tumours = Tumour.objects.all()
        if p["disease_types"]:
            tumours = tumours.filter(disease_type__in=p["disease_types"])
        if p["stages"]:
            tumours = tumours.filter(stage__in=["" if s == "unknown" else s for s in p["stages"]])
        if p["sample_types"]:
            tumours = tumours.filter(sample_type__in=p["sample_types"])
        return Q(pk__in=tumours.values("participant_id"))
    if kind == "genotype":
        consequences = [c for k in p["consequence_classes"] for c in CONSEQUENCE_CLASSES[k]] or None
        carriers = genotype_store(release).carriers(
            gene=p["gene"],
            region=p["region"],
            consequences=consequences,
            max_popaf=p["max_population_af"],
            max_cohort_af=p["max_cohort_af"],
            genotype=p["genotype"],
        )
        # NOT NULL keeps "exclude carriers" true for participants without a genome;
        # -1 (no sample has it) stands for "no carriers" without an empty IN.
        return Q(sample_index__isnull=False, sample_index__in=sorted(carriers) or [-1])
    raise ValueError(f"No compiler for criterion type {kind!r}")


def _rollup(criterion: Criterion, release: DataRelease) -> QuerySet[PhenotypeAncestor] | None:
    """For "a broad term or any descendant": its rows in the release's rollup."""
    p = criterion.params
    if criterion.type != "hpo" or not p["include_descendants"]:
        return None
    if not HpoTerm.objects.filter(pk=p["term"], rolled_up=True).exists():
        return None
    return PhenotypeAncestor.objects.filter(release=release, ancestor_id=p["term"], observed=p["observed"])


def _hpo_q(term: str, *, observed: bool, include_descendants: bool) -> Q:
    if not include_descendants:
        phenotypes = Phenotype.objects.filter(observed=observed, term_id=term)
    else:
        below = HpoAncestor.objects.filter(ancestor_id=term).values("term_id")
        phenotypes = Phenotype.objects.filter(observed=observed, term_id__in=below)
    return Q(pk__in=phenotypes.values("participant_id"))


def _criteria_q(criteria: Criteria, release: DataRelease) -> Q:
    q = Q()
    for criterion in criteria.include_all:
        q &= criterion_q(criterion, release)
    if criteria.include_any:
        any_of = Q()
        for criterion in criteria.include_any:
            any_of |= criterion_q(criterion, release)
        q &= any_of
    for criterion in criteria.exclude:
        q &= ~criterion_q(criterion, release)
    return q


def compile_criteria(criteria: Criteria, release: DataRelease) -> QuerySet[Participant]:
    """The consenting participants of ``release`` that meet ``criteria``."""
    return release_consenting(release).filter(_criteria_q(criteria, release))


def count_cells(criteria: Criteria, release: DataRelease) -> dict[tuple[str, str], int]:
    """(programme, sex) -> participants meeting ``criteria``: the total and both
    breakdowns of a count request in one query."""
    rows = compile_criteria(criteria, release).order_by().values_list("programme", "sex").annotate(n=Count("pk"))
    return {(programme, sex): n for programme, sex, n in rows}


# Criteria on one participant column: the column of the release's
# "consenting_by" counts (participants.services.consenting_by) they sum over.
_MARGINAL_COLUMN = {
    "programme": "programme",
    "sex": "sex",
    "ancestry": "genetic_ancestry",
    "recruiting_centre": "recruiting_centre",
    "affection": "affection_status",
    "vital_status": "vital_status",
    "family_role": "relationship_to_proband",
    "age_band": "age_at_consent",
}


def _in_band(age: int, band: str) -> bool:
    low, high = _band_bounds(band)
    return low <= age and (high is None or age <= high)


def _related_marginal(criterion: Criterion) -> tuple[str, str] | None:
    """(key in "consenting_by", value) for a one-value disease or tumour-type criterion."""
    p = criterion.params
    if criterion.type == "disease" and len(p["values"]) == 1:
        return f"disease.{p['field']}", p["values"][0]
    if criterion.type == "tumour" and len(p["disease_types"]) == 1 and not p["stages"] and not p["sample_types"]:
        return "tumour.disease_type", p["disease_types"][0]
    return None


def _from_marginals(criterion: Criterion, release: DataRelease) -> int | None:
    """A criterion's count read from the release's per-value counts: a
    one-column criterion is a sum (a column's values are disjoint), a
    one-value disease or tumour type a lookup; None if not kept."""
    kept = (release.counts or {}).get("consenting_by", {})
    related = _related_marginal(criterion)
    if related is not None:
        key, value = related
        return kept[key].get(value, 0) if key in kept else None
    column = _MARGINAL_COLUMN.get(criterion.type)
    marginals = kept.get(column) if column else None
    if marginals is None:
        return None
    values = criterion.params["values"]
    if criterion.type == "age_band":
        return sum(n for age, n in marginals.items() if any(_in_band(int(age), band) for band in values))
    if criterion.type == "family_role":
        values = ["" if v == "none" else v for v in values]
    return sum(marginals.get(v, 0) for v in values)


def count_each(criteria: Sequence[Criterion], release: DataRelease) -> list[int]:
    """Participants meeting each criterion on its own. A one-column criterion
    is a sum of the release's per-value counts; a broad HPO term a count of
    its range in the rollup; any other is counted by the database, one on its
    own with its indexes, several together in one pass over the release (every
    criterion a column test or an uncorrelated subquery run once and hashed)."""
    found: dict[int, int] = {}
    rest: list[int] = []
    for i, criterion in enumerate(criteria):
        n = _from_marginals(criterion, release)
        if n is None and (rollup := _rollup(criterion, release)) is not None:
            n = rollup.count()
        if n is None:
            rest.append(i)
        else:
            found[i] = n
    if len(rest) == 1:
        found[rest[0]] = release_consenting(release).filter(criterion_q(criteria[rest[0]], release)).count()
    elif rest:
        counts = {f"c{i}": Count("pk", filter=criterion_q(criteria[i], release)) for i in rest}
        found.update({int(key[1:]): n for key, n in release_consenting(release).aggregate(**counts).items()})
    return [found[i] for i in range(len(criteria))]
