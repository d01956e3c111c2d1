"""The controlled vocabularies of a data release, written once.

Plain Python, no Django: the release bundle (``participants.bundle``), the
models' choices (``participants.models``), cohort criteria
(``cohorts.criteria``), the synthetic generator (``participants.synthetic``)
and the genotype simulator (``genomics.simulate``) all import these.

Each value is stored as written here, in the bundle's files and in the
database. A few vocabularies have a value that is *not recorded* (no family,
no stage): it is stored as ``""``. Cohort criteria are JSON that a person
writes, where an empty string would read as a mistake, so there the blank
value has a word of its own (``"none"`` for the family role, ``"unknown"``
for the tumour stage). :meth:`Vocabulary.to_stored` and
:meth:`Vocabulary.to_criterion` are the one translation between them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Vocabulary:
    """Values and their labels, in display order. ``blank_word`` is how
    criteria write the stored value ``""`` (None: the vocabulary has no blank)."""

    name: str
    terms: tuple[tuple[str, str], ...]
    blank_word: str | None = None

    def __post_init__(self) -> None:
        values = [value for value, _ in self.terms]
        if len(set(values)) != len(values):
            raise ValueError(f"{self.name}: a value is listed twice")
        if ("" in values) != (self.blank_word is not None):
            raise ValueError(f"{self.name}: a blank value needs a word for criteria, and only then")
        if self.blank_word in values:
            raise ValueError(f"{self.name}: the word for the blank value is a value already")

    @property
    def values(self) -> tuple[str, ...]:
        """As stored in bundles and the database."""
        return tuple(value for value, _ in self.terms)

    @property
    def criterion_values(self) -> tuple[str, ...]:
        """As written in cohort criteria."""
        return tuple(self.to_criterion(value) for value in self.values)

    @property
    def choices(self) -> list[tuple[str, str]]:
        """(stored value, label): what a model field's ``choices`` takes."""
        return list(self.terms)

    @property
    def criterion_choices(self) -> list[tuple[str, str]]:
        """(criterion value, label): what a form of criteria offers."""
        return [(self.to_criterion(value), label) for value, label in self.terms]

    def label(self, value: str) -> str:
        """The label of a stored or a criterion value."""
        stored = self.to_stored(value)
        return dict(self.terms).get(stored, value)

    def to_stored(self, value: str) -> str:
        return "" if self.blank_word is not None and value == self.blank_word else value

    def to_criterion(self, value: str) -> str:
        return self.blank_word if value == "" and self.blank_word is not None else value

    def stored(self, values: Iterable[str]) -> list[str]:
        return [self.to_stored(v) for v in values]


# The programme a participant was recruited into. A research domain's
# programme (domains.models.Programme) is another thing: it also has
# cross-cutting domains, which recruit no one.
RECRUITMENT_PROGRAMMES = Vocabulary("programme", (("rare_disease", "Rare disease"), ("cancer", "Cancer")))
RARE_DISEASE, CANCER = RECRUITMENT_PROGRAMMES.values
SEXES = Vocabulary("sex", (("female", "Female"), ("male", "Male"), ("unknown", "Unknown")))
ANCESTRIES = Vocabulary(
    "genetic ancestry",
    (
        ("AFR", "African"),
        ("AMR", "Admixed American"),
        ("EAS", "East Asian"),
        ("EUR", "European"),
        ("SAS", "South Asian"),
        ("OTH", "Other"),
    ),
)
CONSENT = Vocabulary("consent status", (("consenting", "Consenting"), ("withdrawn", "Withdrawn")))
CONSENTING, WITHDRAWN = CONSENT.values
VITAL_STATUSES = Vocabulary("vital status", (("alive", "Alive"), ("deceased", "Deceased")))
ALIVE, DECEASED = VITAL_STATUSES.values
FAMILY_ROLES = Vocabulary(
    "family role",
    (
        ("proband", "Proband"),
        ("mother", "Mother"),
        ("father", "Father"),
        ("sibling", "Sibling"),
        ("other", "Other relative"),
        ("", "Not in a family"),
    ),
    blank_word="none",
)
AFFECTION = Vocabulary(
    "affection status", (("affected", "Affected"), ("unaffected", "Unaffected"), ("unknown", "Unknown"))
)
STAGES = Vocabulary(
    "tumour stage",
    (("I", "I"), ("II", "II"), ("III", "III"), ("IV", "IV"), ("", "Not recorded")),
    blank_word="unknown",
)
SAMPLE_TYPES = Vocabulary("tumour sample type", (("primary", "Primary"), ("metastatic", "Metastatic")))

# Tumour disease types are an open list (capitals, see the bundle format);
# these are the ones the synthetic generator writes, with their labels.
TUMOUR_TYPES = Vocabulary(
    "tumour type",
    (
        ("BREAST", "Breast"),
        ("COLORECTAL", "Colorectal"),
        ("LUNG", "Lung"),
        ("RENAL", "Renal"),
        ("PROSTATE", "Prostate"),
        ("OVARIAN", "Ovarian"),
        ("ENDOMETRIAL", "Endometrial"),
        ("SARCOMA", "Sarcoma"),
        ("HAEMONC", "Haematological malignancy"),
        ("BLADDER", "Bladder"),
        ("MELANOMA", "Melanoma"),
    ),
)


def tumour_type_label(value: str) -> str:
    """A tumour type's label; one not in TUMOUR_TYPES reads as its words."""
    return TUMOUR_TYPES.label(value) if value in TUMOUR_TYPES.values else value.replace("_", " ").capitalize()


# Most severe consequence (Sequence Ontology term) of a germline variant, as
# the VCF's INFO/CSQ gives it, grouped into the classes criteria choose from.
CONSEQUENCE_CLASSES: dict[str, tuple[str, ...]] = {
    "loss_of_function": (
        "stop_gained",
        "frameshift_variant",
        "splice_donor_variant",
        "splice_acceptor_variant",
        "start_lost",
    ),
    "missense": ("missense_variant",),
    "synonymous": ("synonymous_variant",),
    "intronic": ("intron_variant",),
    "intergenic": ("intergenic_variant",),
}
CONSEQUENCE_CLASS_LABELS = {
    "loss_of_function": "Loss of function",
    "missense": "Missense",
    "synonymous": "Synonymous",
    "intronic": "Intronic",
    "intergenic": "Intergenic",
}
LOSS_OF_FUNCTION: tuple[str, ...] = CONSEQUENCE_CLASSES["loss_of_function"]
CONSEQUENCES: tuple[str, ...] = tuple(term for terms in CONSEQUENCE_CLASSES.values() for term in terms)
