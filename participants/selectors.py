from __future__ import annotations

from typing import NamedTuple

import numpy as np
from django.db.models import Case, CharField, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.http import Http404

from participants import vocabularies as vocab
from participants.models import (
    DataRelease,
    Gene,
    HpoSynonym,
    HpoTerm,
    Participant,
    RegisteredWithdrawal,
    Withdrawal,
)
from participants.permissions import user_can_record_withdrawals


def release_current() -> DataRelease | None:
    """The release researchers work on now (None before the first ingest)."""
    return DataRelease.objects.filter(status=DataRelease.Status.CURRENT).first()


def release_consenting(release: DataRelease) -> QuerySet[Participant]:
    """The participants whom ``release`` records as consenting, as delivered.
    Who may be used *now* is :func:`release_usable`."""
    return Participant.objects.filter(release=release, consent_status=vocab.CONSENTING)


def release_usable(release: DataRelease) -> QuerySet[Participant]:
    """The participants of ``release`` who may be used now: all a count, a
    cohort, a summary, an analysis or a genotype read may include.

    Consenting in ``release``, and not withdrawn since:

    - not in the withdrawal register with a withdrawal month in or after the
      month of their consent in ``release`` (a re-consent arrives with a
      newer release that records a later consent month, so the entry does not
      apply there);
    - not recorded as withdrawn by a release loaded after ``release``.

    This is the one place the rule is written (docs/adr/0011). Both tests are
    NOT EXISTS on small tables, which PostgreSQL runs as hashed anti-joins."""
    registered = RegisteredWithdrawal.objects.filter(
        participant_id=OuterRef("participant_id"), withdrawal_month__gte=OuterRef("consent_month")
    )
    later = Withdrawal.objects.filter(
        participant_id=OuterRef("participant_id"), release__ingested_at__gt=release.ingested_at
    )
    return release_consenting(release).exclude(Exists(registered)).exclude(Exists(later))


def release_usable_samples(release: DataRelease) -> np.ndarray:
    """The sample mask of ``release``'s genotype store: the columns (sample
    indices, sorted, int64) of the participants :func:`release_usable`
    answers. Every read of the store takes it."""
    usable = release_usable(release).filter(sample_index__isnull=False).order_by("sample_index")
    return np.fromiter(usable.values_list("sample_index", flat=True), dtype=np.int64)


class TermFound(NamedTuple):
    term: HpoTerm
    synonym: str  # the synonym that matched, when the name did not; else ""


def hpo_terms_matching(query: str, *, limit: int) -> list[TermFound]:
    """Current HPO terms for a search box: by id when ``query`` looks like one,
    else those whose name, or one of whose synonyms, holds every word of it
    ("epilepsy" finds HP:0001250 Seizure); the exact name first, then an exact
    synonym, names that start with it, synonyms that start with it, then
    broader terms before narrower ones."""
    terms = HpoTerm.objects.filter(is_obsolete=False)
    text = query.strip()
    if text.upper().startswith("HP:"):
        return [TermFound(t, "") for t in terms.filter(id__startswith=text.upper()).order_by("id")[:limit]]
    words = text.split()
    if not words:
        return []
    in_name = Q()
    synonyms = HpoSynonym.objects.filter(term=OuterRef("pk"))
    for word in words:
        in_name &= Q(name__icontains=word)
        synonyms = synonyms.filter(name__icontains=word)
    ranked = terms.filter(in_name | Exists(synonyms)).annotate(
        rank=Case(
            When(name__iexact=text, then=Value(0)),
            When(Exists(synonyms.filter(name__iexact=text)), then=Value(1)),
            When(name__istartswith=text, then=Value(2)),
            When(Exists(synonyms.filter(name__istartswith=text)), then=Value(3)),
            When(in_name, then=Value(4)),
            default=Value(5),
            output_field=IntegerField(),
        ),
        # the synonym to show beside the name, when it was a synonym that matched (the same filter as above)
        synonym=Case(
            When(in_name, then=Value("")),
            default=Subquery(synonyms.order_by("name").values("name")[:1]),
            output_field=CharField(),
        ),
    )
    return [TermFound(t, t.synonym or "") for t in ranked.order_by("rank", "depth", "name")[:limit]]


def genes_matching(release: DataRelease, query: str, *, limit: int) -> list[str]:
    """Gene symbols of ``release`` that start with ``query`` (any case)."""
    text = query.strip().upper()
    if not text:
        return []
    genes = Gene.objects.filter(release=release, symbol__istartswith=text).order_by("symbol")
    return list(genes.values_list("symbol", flat=True)[:limit])


def withdrawal_register_for_user(*, user: object) -> QuerySet[RegisteredWithdrawal]:
    """The withdrawal register, newest first, for a governance reviewer; Http404 for anyone else."""
    if not user_can_record_withdrawals(user):
        raise Http404
    return RegisteredWithdrawal.objects.select_related("recorded_by").order_by("-recorded_at", "-pk")
