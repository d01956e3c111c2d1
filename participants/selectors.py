from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When

from participants import vocabularies as vocab
from participants.models import DataRelease, Gene, HpoTerm, Participant


def release_current() -> DataRelease | None:
    """The release researchers work on now (None before the first ingest)."""
    return DataRelease.objects.filter(status=DataRelease.Status.CURRENT).first()


def release_consenting(release: DataRelease) -> QuerySet[Participant]:
    """The participants of ``release`` who consent: all a cohort, a count or its per-value counts may include."""
    return Participant.objects.filter(release=release, consent_status=vocab.CONSENTING)


def hpo_terms_matching(query: str, *, limit: int) -> list[HpoTerm]:
    """Current HPO terms for a search box: by id when ``query`` looks like one,
    else those whose name holds every word of it; the exact name first, then
    names that start with it, then broader terms before narrower ones."""
    terms = HpoTerm.objects.filter(is_obsolete=False)
    text = query.strip()
    if text.upper().startswith("HP:"):
        return list(terms.filter(id__startswith=text.upper()).order_by("id")[:limit])
    for word in text.split():
        terms = terms.filter(name__icontains=word)
    ranked = terms.annotate(
        rank=Case(
            When(name__iexact=text, then=Value(0)),
            When(name__istartswith=text, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    )
    return list(ranked.order_by("rank", "depth", "name")[:limit])


def genes_matching(release: DataRelease, query: str, *, limit: int) -> list[str]:
    """Gene symbols of ``release`` that start with ``query`` (any case)."""
    text = query.strip().upper()
    if not text:
        return []
    genes = Gene.objects.filter(release=release, symbol__istartswith=text).order_by("symbol")
    return list(genes.values_list("symbol", flat=True)[:limit])
