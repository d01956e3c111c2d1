"""Per-value counts kept with each release: for each column below, how many
usable participants (``participants.selectors.release_usable``) have each
value. One criterion on such a column is then a sum of these (or a lookup),
not a pass over the release's rows.

This is the one list of those columns: ingest computes them
(:func:`consenting_by`) and the cohort criteria that read them name their
:class:`Marginal` from :data:`MARGINALS`, so the two cannot drift apart. When
participants withdraw after the release was loaded, their share is taken out
(:func:`kept_counts_forget`), so the kept counts always equal a fresh count of
the usable participants.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Model, QuerySet

from participants.models import DataRelease, Disease, Participant, Tumour
from participants.selectors import release_usable


@dataclass(frozen=True)
class Marginal:
    """Usable participants per value of ``model.column``, kept under
    ``key`` in ``release.counts["consenting_by"]``."""

    key: str
    model: type[Model]
    column: str

    @property
    def disjoint(self) -> bool:
        """True when each participant has one value (a participant column), so
        counts of several values add up; a related table's (a participant may
        have several diseases) only answer for one value."""
        return self.model is Participant


MARGINALS: dict[str, Marginal] = {
    m.key: m
    for m in (
        *(
            Marginal(column, Participant, column)
            for column in (
                "programme",
                "sex",
                "genetic_ancestry",
                "recruiting_centre",
                "affection_status",
                "vital_status",
                "relationship_to_proband",
                "age_at_consent",  # the generated column
            )
        ),
        Marginal("disease.disease_group", Disease, "disease_group"),
        Marginal("disease.specific_disease", Disease, "specific_disease"),
        Marginal("tumour.disease_type", Tumour, "disease_type"),
    )
}


def per_value_counts(participants: QuerySet[Participant]) -> dict[str, dict[str, int]]:
    """{key: {value: participants}} of ``participants`` for every marginal, as
    the database sees them."""
    participants = participants.order_by()
    counts: dict[str, dict[str, int]] = {}
    for key, marginal in MARGINALS.items():
        if marginal.disjoint:
            rows = participants.values_list(marginal.column).annotate(n=Count("pk"))
        else:
            related = marginal.model.objects.filter(participant__in=participants).order_by()  # type: ignore[attr-defined]
            rows = related.values_list(marginal.column).annotate(n=Count("participant_id", distinct=True))
        counts[key] = {str(value): n for value, n in rows}
    return counts


def consenting_by(release: DataRelease) -> dict[str, dict[str, int]]:
    """The per-value counts of ``release``'s usable participants."""
    return per_value_counts(release_usable(release))


def kept_counts_forget(release: DataRelease, participants: QuerySet[Participant]) -> None:
    """Take ``participants`` (usable in ``release`` until now) out of the
    release's kept counts; the caller saves ``release.counts``.

    Exact: a per-value count is a sum over participants of "has the value"
    (distinct participants, for related tables), so removing some people
    subtracts their own per-value counts."""
    kept = (release.counts or {}).get("consenting_by")
    if kept is None:
        return
    for key, by_value in per_value_counts(participants).items():
        values = kept.setdefault(key, {})
        for value, n in by_value.items():
            values[value] = values.get(value, 0) - n
            if values[value] <= 0:
                del values[value]


def kept_counts(release: DataRelease, marginal: Marginal) -> dict[str, int] | None:
    """The release's counts for ``marginal`` (None if the release has none)."""
    return (release.counts or {}).get("consenting_by", {}).get(marginal.key)
