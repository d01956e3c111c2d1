"""Compile cohort criteria into a query over a release's consenting participants.

Phenotype criteria use the HPO closure table (a term or any descendant is one
indexed join); genotype criteria ask the release's genotype store for carriers
(DuckDB over the Parquet carrier index) and filter on the participants' sample
index. Withdrawn participants are never part of any result.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet
from django.db.models.functions import Cast, Substr

from cohorts.criteria import CONSEQUENCE_CLASSES, Criteria, Criterion
from genomics.store import GenotypeStore
from participants.models import ConsentStatus, DataRelease, Disease, Participant, Phenotype, Tumour


@lru_cache(maxsize=8)
def _store(path: str) -> GenotypeStore:
    return GenotypeStore(path)


def genotype_store(release: DataRelease) -> GenotypeStore:
    return _store(str(Path(settings.DATA_ROOT) / release.store_path))


def consenting(release: DataRelease) -> QuerySet[Participant]:
    return Participant.objects.filter(release=release, consent_status=ConsentStatus.CONSENTING).annotate(
        age_at_consent=Cast(Substr("consent_month", 1, 4), IntegerField()) - F("year_of_birth")
    )


def _age_band_q(band: str) -> Q:
    if band.endswith("+"):
        return Q(age_at_consent__gte=int(band[:-1]))
    low, high = (int(x) for x in band.split("-"))
    return Q(age_at_consent__gte=low, age_at_consent__lte=high)


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
        return Q(Exists(Disease.objects.filter(participant=OuterRef("pk"), **{f"{p['field']}__in": p["values"]})))
    if kind == "hpo":
        terms = {"term__ancestor_links__ancestor_id": p["term"]} if p["include_descendants"] else {"term_id": p["term"]}
        return Q(Exists(Phenotype.objects.filter(participant=OuterRef("pk"), observed=p["observed"], **terms)))
    if kind == "tumour":
        tumours = Tumour.objects.filter(participant=OuterRef("pk"))
        if p["disease_types"]:
            tumours = tumours.filter(disease_type__in=p["disease_types"])
        if p["stages"]:
            tumours = tumours.filter(stage__in=["" if s == "unknown" else s for s in p["stages"]])
        if p["sample_types"]:
            tumours = tumours.filter(sample_type__in=p["sample_types"])
        return Q(Exists(tumours))
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
        return Q(sample_index__in=sorted(carriers))
    raise ValueError(f"No compiler for criterion type {kind!r}")


def compile_criteria(criteria: Criteria, release: DataRelease) -> QuerySet[Participant]:
    """The consenting participants of ``release`` that meet ``criteria``."""
    participants = consenting(release)
    for criterion in criteria.include_all:
        participants = participants.filter(criterion_q(criterion, release))
    if criteria.include_any:
        any_of = Q()
        for criterion in criteria.include_any:
            any_of |= criterion_q(criterion, release)
        participants = participants.filter(any_of)
    for criterion in criteria.exclude:
        participants = participants.exclude(criterion_q(criterion, release))
    return participants
