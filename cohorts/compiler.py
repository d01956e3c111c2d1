"""Compile cohort criteria into a query over a release's usable participants
(``participants.selectors.release_usable``: consenting in the release and not
withdrawn since).

Each criterion type says how it is asked of the database
(``cohorts.criteria.TYPES``); this module combines them. Related-table
criteria (phenotypes, diseases, tumours) are uncorrelated ``IN`` subqueries,
which the database runs once and hashes, so they work as well inside an
aggregate's FILTER as in a WHERE clause. Phenotype criteria use the HPO
closure: a broad term (one with hundreds of descendants) reads the release's
precomputed PhenotypeAncestor rows, a narrower one matches phenotype rows
whose term is in the closure below it. Genotype criteria ask the release's
genotype store for carriers, through the release's sample mask
(``cohorts.genotypes``), and filter on the participants' sample index.
Withdrawn participants are never part of any result.

A count request runs :func:`count_cells` (the total by programme and sex) and
:func:`count_each` (each criterion alone); see docs/adr/0005.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Count, Q, QuerySet

from cohorts.criteria import Criteria, Criterion, criterion_q
from participants.models import DataRelease, Participant
from participants.selectors import release_usable


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
    """The usable participants of ``release`` that meet ``criteria``."""
    return release_usable(release).filter(_criteria_q(criteria, release))


def count_cells(criteria: Criteria, release: DataRelease) -> dict[tuple[str, str], int]:
    """(programme, sex) -> participants meeting ``criteria``: the total and both
    breakdowns of a count request in one query."""
    rows = compile_criteria(criteria, release).order_by().values_list("programme", "sex").annotate(n=Count("pk"))
    return {(programme, sex): n for programme, sex, n in rows}


def count_each(criteria: Sequence[Criterion], release: DataRelease) -> list[int]:
    """Participants meeting each criterion on its own. What the release keeps
    answers first (a one-column criterion is a sum of its per-value counts, a
    broad HPO term a count of its range in the rollup); any other is counted
    by the database, one on its own with its indexes, several together in one
    pass over the release (every criterion a column test or an uncorrelated
    subquery run once and hashed)."""
    found: dict[int, int] = {}
    rest: list[int] = []
    for i, criterion in enumerate(criteria):
        n = criterion.kind.count_from_summaries(criterion.params, release)
        if n is None:
            rest.append(i)
        else:
            found[i] = n
    if len(rest) == 1:
        found[rest[0]] = release_usable(release).filter(criterion_q(criteria[rest[0]], release)).count()
    elif rest:
        counts = {f"c{i}": Count("pk", filter=criterion_q(criteria[i], release)) for i in rest}
        found.update({int(key[1:]): n for key, n in release_usable(release).aggregate(**counts).items()})
    return [found[i] for i in range(len(criteria))]
