"""Data releases and what they hold: pseudonymised participants, their
phenotypes (HPO), diseases, tumours, and the HPO ontology itself.

Each release carries its own copy of the participant rows, so a cohort pinned
to a release keeps meaning the same thing when a newer release arrives.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Cast, Substr

from participants import vocabularies as vocab


class DataRelease(models.Model):
    class Status(models.TextChoices):
        CURRENT = "current", "Current"
        SUPERSEDED = "superseded", "Superseded"

    name = models.CharField(max_length=40, unique=True, help_text="The version researchers cite, e.g. v19.")
    release_date = models.DateField()
    genome_build = models.CharField(max_length=20)
    format_version = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CURRENT)
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    ingested_at = models.DateTimeField()
    store_path = models.CharField(max_length=500, help_text="Genotype store, relative to DATA_ROOT.")
    bundle_sha256 = models.CharField(max_length=64, help_text="Checksum over the bundle's files.")
    counts = models.JSONField(default=dict, blank=True)
    withdrawals_version = models.PositiveIntegerField(
        default=0,
        help_text="Raised each time participants of this release withdraw after it was loaded (through the "
        "withdrawal register or a later release); part of the key of every cached count.",
    )

    class Meta:
        ordering = ["-ingested_at"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=models.Q(status="current"), name="one_current_release")
        ]

    def __str__(self) -> str:
        return self.name


class Participant(models.Model):
    release = models.ForeignKey(DataRelease, on_delete=models.CASCADE, related_name="participants")
    participant_id = models.CharField(max_length=40, help_text="Pseudonymous id; never shown to researchers.")
    programme = models.CharField(max_length=16, choices=vocab.RECRUITMENT_PROGRAMMES.choices)
    sex = models.CharField(max_length=8, choices=vocab.SEXES.choices)
    year_of_birth = models.PositiveSmallIntegerField()
    genetic_ancestry = models.CharField(max_length=3, choices=vocab.ANCESTRIES.choices)
    recruiting_centre = models.CharField(max_length=100)
    consent_status = models.CharField(max_length=12, choices=vocab.CONSENT.choices)
    consent_month = models.CharField(max_length=7, help_text="YYYY-MM")
    vital_status = models.CharField(max_length=10, choices=vocab.VITAL_STATUSES.choices)
    death_month = models.CharField(max_length=7, blank=True)
    family_id = models.CharField(max_length=40, blank=True)
    relationship_to_proband = models.CharField(max_length=10, choices=vocab.FAMILY_ROLES.choices, blank=True)
    affection_status = models.CharField(max_length=10, choices=vocab.AFFECTION.choices)
    sample_index = models.PositiveIntegerField(
        null=True, blank=True, help_text="Column of this participant in the release's genotype store."
    )
    age_at_consent = models.GeneratedField(
        expression=Cast(Substr("consent_month", 1, 4), models.IntegerField()) - models.F("year_of_birth"),
        output_field=models.IntegerField(),
        db_persist=True,
        help_text="Whole years, from the year of consent; cohorts only ever use it in 10-year bands.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["release", "participant_id"], name="unique_participant_in_release"),
            models.CheckConstraint(
                condition=models.Q(vital_status=vocab.DECEASED) | models.Q(death_month=""),
                name="death_month_only_if_deceased",
            ),
        ]
        indexes = [
            models.Index(fields=["release", "consent_status", "programme"]),
            models.Index(fields=["release", "family_id"]),
            models.Index(fields=["release", "sample_index"]),  # carriers found in the genotype store
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} ({self.release})"


class HpoTerm(models.Model):
    """A Human Phenotype Ontology term, loaded from an HPO release's hp.obo (participants/ontology.py)."""

    id = models.CharField(max_length=10, primary_key=True)  # "HP:0001250"
    name = models.CharField(max_length=300)
    is_obsolete = models.BooleanField(default=False)
    depth = models.PositiveSmallIntegerField(default=0, help_text="Shortest path length to the root.")
    n_descendants = models.PositiveIntegerField(default=0, help_text="More specific terms under this one.")
    rolled_up = models.BooleanField(
        default=False,
        help_text="Broad term: who has it or a descendant is kept in PhenotypeAncestor, not joined per query.",
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.id} {self.name}"


class HpoSynonym(models.Model):
    """Another name of an HPO term ("Epilepsy" for HP:0001250 Seizure), with its OBO scope."""

    class Scope(models.TextChoices):
        EXACT = "EXACT", "exact"
        RELATED = "RELATED", "related"
        BROAD = "BROAD", "broad"
        NARROW = "NARROW", "narrow"

    term = models.ForeignKey(HpoTerm, on_delete=models.CASCADE, related_name="synonyms")
    name = models.CharField(max_length=300)
    scope = models.CharField(max_length=7, choices=Scope.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["term", "name"], name="unique_hpo_synonym")]

    def __str__(self) -> str:
        return f"{self.term_id} {self.name} ({self.scope})"


class HpoAncestor(models.Model):
    """Closure of the is-a graph: one row per (term, ancestor), including the
    term itself at distance 0. "Has a descendant of T" is one indexed join."""

    term = models.ForeignKey(HpoTerm, on_delete=models.CASCADE, related_name="ancestor_links")
    ancestor = models.ForeignKey(HpoTerm, on_delete=models.CASCADE, related_name="descendant_links")
    distance = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ancestor", "term"], name="unique_hpo_ancestor")]
        indexes = [models.Index(fields=["term", "ancestor"])]

    def __str__(self) -> str:
        return f"{self.term_id} is-a {self.ancestor_id} ({self.distance})"


class HpoGene(models.Model):
    """A gene directly annotated to an HPO term."""

    term = models.ForeignKey(HpoTerm, on_delete=models.CASCADE, related_name="gene_links")
    gene_symbol = models.CharField(max_length=40, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["term", "gene_symbol"], name="unique_hpo_gene")]

    def __str__(self) -> str:
        return f"{self.gene_symbol} - {self.term_id}"


class OntologyVersion(models.Model):
    """Which ontology the HPO tables hold."""

    source = models.CharField(max_length=500)
    version = models.CharField(max_length=40)
    loaded_at = models.DateTimeField()
    n_terms = models.PositiveIntegerField()
    n_ancestor_links = models.PositiveIntegerField()
    n_gene_links = models.PositiveIntegerField()
    n_synonyms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-loaded_at"]

    def __str__(self) -> str:
        return f"{self.source} {self.version}"


class Phenotype(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="phenotypes")
    term = models.ForeignKey(HpoTerm, on_delete=models.PROTECT, related_name="+")
    observed = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["participant", "term"], name="unique_phenotype")]
        indexes = [models.Index(fields=["term", "observed", "participant"])]

    def __str__(self) -> str:
        return f"{self.term_id} {'observed' if self.observed else 'absent'}"


class PhenotypeAncestor(models.Model):
    """Usable participants of a release (``participants.selectors.release_usable``)
    with a phenotype at or under a broad HPO term, one row per (release, term,
    observed, participant), for the terms flagged ``rolled_up``.

    "Has HP:0000707 or any of its 2,800 descendants" would otherwise join a
    large share of all phenotype rows on every count; here it is one range of
    the primary key, and how many have it is a count of that range. Built at
    ingest and rebuilt whenever the ontology is reloaded
    (``participants.ontology.phenotype_rollup_build``), so it always agrees
    with the closure table; participants who withdraw later are removed from
    it at once (``participants.withdrawals``)."""

    pk = models.CompositePrimaryKey("release", "ancestor", "observed", "participant")
    release = models.ForeignKey(DataRelease, on_delete=models.CASCADE, db_index=False, related_name="+")
    ancestor = models.ForeignKey(HpoTerm, on_delete=models.CASCADE, db_index=False, related_name="+")
    observed = models.BooleanField()
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"{self.ancestor_id} {'observed' if self.observed else 'absent'} at or below"


class Disease(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="diseases")
    disease_group = models.CharField(max_length=200)
    disease_subgroup = models.CharField(max_length=200)
    specific_disease = models.CharField(max_length=200, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["disease_group"])]

    def __str__(self) -> str:
        return self.specific_disease


class Tumour(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="tumours")
    tumour_sample_id = models.CharField(max_length=40)
    disease_type = models.CharField(max_length=40, db_index=True)
    stage = models.CharField(max_length=3, choices=vocab.STAGES.choices, blank=True)
    sample_type = models.CharField(max_length=10, choices=vocab.SAMPLE_TYPES.choices)
    diagnosis_month = models.CharField(max_length=7)
    somatic_vcf = models.CharField(max_length=300, help_text="Relative to the release's directory in DATA_ROOT.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["participant", "tumour_sample_id"], name="unique_tumour_sample")]

    def __str__(self) -> str:
        return f"{self.disease_type} tumour"


class Gene(models.Model):
    release = models.ForeignKey(DataRelease, on_delete=models.CASCADE, related_name="genes")
    symbol = models.CharField(max_length=40)
    chrom = models.CharField(max_length=10)
    start = models.PositiveBigIntegerField()
    end = models.PositiveBigIntegerField()
    strand = models.CharField(max_length=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["release", "symbol"], name="unique_gene_in_release"),
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="gene_end_after_start"),
        ]

    def __str__(self) -> str:
        return self.symbol


class Withdrawal(models.Model):
    """A participant who consented in the previous release and no longer does.
    They may no longer be used in any earlier release either
    (``participants.selectors.release_usable``)."""

    release = models.ForeignKey(DataRelease, on_delete=models.CASCADE, related_name="withdrawals")
    participant_id = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["release", "participant_id"], name="unique_withdrawal_in_release")
        ]

    def __str__(self) -> str:
        return f"withdrawal of a participant in release {self.release_id}"


class RegisteredWithdrawal(models.Model):
    """A withdrawal of consent recorded between releases: the withdrawal register.

    It applies to every release in which the participant's consent month is
    not later than ``withdrawal_month`` (``participants.selectors.release_usable``
    is the one place that rule is written); a re-consent arrives with a newer
    release that records a later consent month. Append-only: database
    triggers refuse UPDATE and DELETE, and nothing in the portal edits or
    removes an entry (docs/adr/0011)."""

    class Source(models.TextChoices):
        PAGE = "page", "Governance page"
        API = "api", "API"
        FILE = "file", "Provider's list (record_withdrawals)"

    participant_id = models.CharField(max_length=40, help_text="Pseudonymous id, as in the releases.")
    withdrawal_month = models.CharField(max_length=7, help_text="YYYY-MM")
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    source_detail = models.CharField(max_length=300, blank=True, help_text="File name and line, for a list.")

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["participant_id", "withdrawal_month"], name="unique_registered_withdrawal")
        ]

    def __str__(self) -> str:
        return f"withdrawal {self.pk} in the register ({self.withdrawal_month})"
