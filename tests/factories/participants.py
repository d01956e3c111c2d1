"""Factories for data releases and what they hold. They write rows directly
to arrange a test; loading a whole release goes through
``participants.loader.release_load``."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from participants import vocabularies as vocab
from participants.models import DataRelease, Disease, Gene, Participant, Phenotype, Tumour


class DataReleaseFactory(factory.django.DjangoModelFactory):
    """A current release with no rows yet (and no per-value counts: counts come from the rows)."""

    class Meta:
        model = DataRelease

    name = factory.Sequence(lambda n: f"factory-r{n}")
    release_date = dt.date(2025, 7, 1)
    genome_build = "GRCh38"
    format_version = 1
    status = DataRelease.Status.CURRENT
    ingested_at = factory.LazyFunction(timezone.now)
    store_path = factory.LazyAttribute(lambda r: f"releases/{r.name}/store")
    bundle_sha256 = "0" * 64
    counts = factory.LazyFunction(dict)


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    release = factory.SubFactory(DataReleaseFactory)
    participant_id = factory.Sequence(lambda n: f"FAC{n:07d}")
    programme = vocab.RARE_DISEASE
    sex = "female"
    year_of_birth = 1980
    genetic_ancestry = "EUR"
    recruiting_centre = "Wessex GMC"
    consent_status = vocab.CONSENTING
    consent_month = "2018-05"
    vital_status = vocab.ALIVE
    death_month = ""
    family_id = ""
    relationship_to_proband = ""
    affection_status = "affected"
    sample_index = None


class PhenotypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phenotype

    participant = factory.SubFactory(ParticipantFactory)
    term_id = "HP:0001250"
    observed = True


class DiseaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Disease

    participant = factory.SubFactory(ParticipantFactory)
    disease_group = "Neurology and neurodevelopmental disorders"
    disease_subgroup = "Epilepsy"
    specific_disease = "Genetic epilepsy syndromes"


class TumourFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tumour

    participant = factory.SubFactory(ParticipantFactory, programme=vocab.CANCER)
    tumour_sample_id = factory.Sequence(lambda n: f"FAC{n:07d}-T1")
    disease_type = "BREAST"
    stage = "II"
    sample_type = "primary"
    diagnosis_month = "2018-03"
    somatic_vcf = factory.LazyAttribute(lambda t: f"somatic/{t.tumour_sample_id}.vcf.gz")


class GeneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Gene

    release = factory.SubFactory(DataReleaseFactory)
    symbol = factory.Sequence(lambda n: f"GENE{n}")
    chrom = "chr1"
    start = 1_000_000
    end = 1_010_000
    strand = "+"
