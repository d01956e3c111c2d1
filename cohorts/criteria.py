"""Cohort definitions: versioned JSON criteria, parsed into typed objects,
described in words, and turned into queries.

Version 1::

    {
      "version": 1,
      "include_all": [criterion, ...],   # every one must hold
      "include_any": [criterion, ...],   # at least one must hold (ignored when empty)
      "exclude":     [criterion, ...]    # none may hold
    }

A criterion is an object with a ``type``. Each type is one object in
:data:`TYPES`, which says everything about it: how it is read from JSON
(``parse``), said in words (``describe``), published (``schema``), asked of
the database (``q``), counted from the release's per-value counts when it
can be (``count_from_summaries``), and which of its values the loaded data
does not know (``unknown``). Adding a type is adding one object there.

:func:`parse` is the one reader of criteria, for pages, the API and saved
cohorts alike, and whatever :meth:`Criteria.as_json` writes it reads back to
the same criteria.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from participants import vocabularies as vocab
from participants.marginals import MARGINALS, Marginal, kept_counts
from participants.models import DataRelease, Disease, Gene, HpoAncestor, HpoTerm, Phenotype, PhenotypeAncestor, Tumour

VERSION = 1
MAX_CRITERIA = 50
GROUPS = ("include_all", "include_any", "exclude")

AGE_BANDS = ("0-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80-89", "90+")
GENOTYPES = {"any": "any", "het": "heterozygous", "hom": "homozygous"}
DISEASE_FIELDS = {"specific_disease": "specific disease", "disease_group": "disease group"}

HPO_ID = re.compile(r"^HP:\d{7}$")
GENE_SYMBOL = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
REGION = re.compile(r"^(chr)?([1-9]|1\d|2[0-2]|X|Y|M|MT):(\d{1,9})-(\d{1,9})$")


class CriteriaError(ValueError):
    """Criteria that cannot be used; ``errors`` maps a JSON path to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors.items()))


@dataclass(frozen=True)
class Criterion:
    type: str
    params: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, **self.params}

    @property
    def kind(self) -> CriterionType:
        return TYPES[self.type]


@dataclass(frozen=True)
class Criteria:
    include_all: tuple[Criterion, ...] = ()
    include_any: tuple[Criterion, ...] = ()
    exclude: tuple[Criterion, ...] = ()
    version: int = VERSION

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "include_all": [c.as_json() for c in self.include_all],
            "include_any": [c.as_json() for c in self.include_any],
            "exclude": [c.as_json() for c in self.exclude],
        }

    def all_criteria(self) -> list[Criterion]:
        return [*self.include_all, *self.include_any, *self.exclude]


# --- reading one criterion --------------------------------------------------------------------


@dataclass
class Reader:
    """Reads the fields of one criterion object, noting every problem under its JSON path."""

    raw: dict[str, Any]
    path: str
    errors: dict[str, str] = field(default_factory=dict)
    used: set[str] = field(default_factory=lambda: {"type"})

    def fail(self, key: str | None, message: str) -> None:
        self.errors[f"{self.path}.{key}" if key else self.path] = message

    def choices(self, key: str, allowed: tuple[str, ...], *, required: bool = True) -> list[str]:
        """A list drawn from ``allowed``, sorted; an optional one may be absent or empty."""
        self.used.add(key)
        value = self.raw.get(key)
        if value is None or (value == [] and not required):
            if required:
                self.fail(key, f"is required: a list drawn from {', '.join(allowed)}")
            return []
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self.fail(key, "must be a non-empty list of strings")
            return []
        unknown = [v for v in value if v not in allowed]
        if unknown:
            self.fail(key, f"{', '.join(unknown)} not allowed; choose from {', '.join(allowed)}")
        return sorted(set(value))

    def strings(self, key: str, *, required: bool = True, max_items: int = 200) -> list[str]:
        """A list of text values, trimmed and sorted; an optional one may be absent or empty."""
        self.used.add(key)
        value = self.raw.get(key)
        if not required and (value is None or value == []):
            return []
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(key, "must be a non-empty list of text values")
            return []
        if len(value) > max_items:
            self.fail(key, f"has more than {max_items} values")
        return sorted({v.strip() for v in value})

    def string(self, key: str, pattern: re.Pattern[str], *, required: bool, hint: str) -> str | None:
        self.used.add(key)
        value = self.raw.get(key)
        if value is None:
            if required:
                self.fail(key, f"is required ({hint})")
            return None
        if not isinstance(value, str) or not pattern.match(value.strip()):
            self.fail(key, f"{value!r} is not {hint}")
            return None
        return value.strip()

    def one_of(self, key: str, allowed: tuple[str, ...], default: str) -> str:
        self.used.add(key)
        value = self.raw.get(key, default)
        if value not in allowed:
            self.fail(key, f"must be one of {', '.join(allowed)}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        self.used.add(key)
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, "must be true or false")
            return default
        return value

    def fraction(self, key: str) -> float | None:
        self.used.add(key)
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            self.fail(key, "must be a number from 0 to 1")
            return None
        return float(value)

    def finish(self) -> None:
        for key in sorted(set(self.raw) - self.used):
            self.fail(key, "is not a field of this criterion")


# --- schema pieces ------------------------------------------------------------------------------


def _values_schema(allowed: tuple[str, ...] | None = None, *, min_items: int = 1) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "string"}
    if allowed:
        item["enum"] = list(allowed)
    return {"type": "array", "items": item, "minItems": min_items}


def _or(values: list[str]) -> str:
    return " or ".join(values)


def _suggest(value: str, candidates: list[str], n: int = 5) -> list[str]:
    return difflib.get_close_matches(value, candidates, n=n, cutoff=0.6)


def _typos(a: str, b: str) -> int:
    """Edits from ``a`` to ``b``, a swap of two neighbours counting as one
    (optimal string alignment distance)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


# --- criterion types ----------------------------------------------------------------------------


class CriterionType:
    """What one ``type`` of criterion means. Subclasses fill in each part."""

    name: str
    label: str  # the criterion's subject in words, e.g. "programme"

    def parse(self, reader: Reader) -> dict[str, Any]:
        raise NotImplementedError

    def describe(self, params: dict[str, Any], term_names: dict[str, str]) -> str:
        raise NotImplementedError

    def schema(self) -> tuple[dict[str, Any], list[str]]:
        """(JSON Schema properties other than ``type``, required ones)."""
        raise NotImplementedError

    def q(self, params: dict[str, Any], release: DataRelease) -> Q:
        """The participants meeting it, as a filter on Participant."""
        raise NotImplementedError

    def count_from_summaries(self, params: dict[str, Any], release: DataRelease) -> int | None:
        """How many usable participants of ``release`` meet it alone, from
        what the release keeps (per-value counts, the phenotype rollup); None
        when it has to be counted over the rows."""
        return None

    def unknown(self, params: dict[str, Any], release: DataRelease) -> tuple[str, str] | None:
        """(field, message) when the criterion names something the loaded data
        does not know (an HPO term, a gene), with close matches."""
        return None


@dataclass(frozen=True)
class ValuesOf(CriterionType):
    """One participant column, values from a vocabulary (criteria spell its blank value as a word)."""

    name: str
    label: str
    vocabulary: vocab.Vocabulary
    marginal: Marginal
    lowercase: bool = True

    @property
    def allowed(self) -> tuple[str, ...]:
        return self.vocabulary.criterion_values

    def parse(self, reader: Reader) -> dict[str, Any]:
        return {"values": reader.choices("values", self.allowed)}

    def words(self, value: str) -> str:
        label = self.vocabulary.label(value)
        return label.lower() if self.lowercase else label

    def describe(self, params: dict[str, Any], term_names: dict[str, str]) -> str:
        return f"{self.label} is {_or([self.words(v) for v in params['values']])}"

    def schema(self) -> tuple[dict[str, Any], list[str]]:
        return {"values": _values_schema(self.allowed)}, ["values"]

    def q(self, params: dict[str, Any], release: DataRelease) -> Q:
        return Q(**{f"{self.marginal.column}__in": self.vocabulary.stored(params["values"])})

    def count_from_summaries(self, params: dict[str, Any], release: DataRelease) -> int | None:
        kept = kept_counts(release, self.marginal)
        if kept is None:
            return None
        return sum(kept.get(v, 0) for v in self.vocabulary.stored(params["values"]))


def _band_bounds(band: str) -> tuple[int, int | None]:
    """ "40-49" -> (40, 49); "90+" -> (90, None)."""
    if band.endswith("+"):
        return int(band[:-1]), None
    low, high = (int(x) for x in band.split("-"))
    return low, high


def _in(age: int, low: int, high: int | None) -> bool:
    return low <= age and (high is None or age <= high)


@dataclass(frozen=True)
class AgeBand(CriterionType):
    name: str = "age_band"
    label: str = "age at consent"
    marginal: Marginal = MARGINALS["age_at_consent"]

    @property
    def allowed(self) -> tuple[str, ...]:
        return AGE_BANDS

    def parse(self, reader: Reader) -> dict[str, Any]:
        return {"values": reader.choices("values", AGE_BANDS)}

    def describe(self, params: dict[str, Any], term_names: dict[str, str]) -> str:
        return f"{self.label} is {_or(params['values'])}"

    def schema(self) -> tuple[dict[str, Any], list[str]]:
        return {"values": _values_schema(AGE_BANDS)}, ["values"]

    def q(self, params: dict[str, Any], release: DataRelease) -> Q:
        q = Q()
        column = self.marginal.column
        for band in params["values"]:
            low, high = _band_bounds(band)
            bounds = {f"{column}__gte": low, **({f"{column}__lte": high} if high is not None else {})}
            q |= Q(**bounds)
        return q

    def count_from_summaries(self, params: dict[str, Any], release: DataRelease) -> int | None:
        kept = kept_counts(release, self.marginal)
        if kept is None:
            return None
        bounds = [_band_bounds(band) for band in params["values"]]
        return sum(n for age, n in kept.items() if any(_in(int(age), low, high) for low, high in bounds))


@dataclass(frozen=True)
class RecruitingCentre(CriterionType):
    name: str = "recruiting_centre"
    label: str = "recruiting centre"
    marginal: Marginal = MARGINALS["recruiting_centre"]

    def parse(self, reader: Reader) -> dict[str, Any]:
        return {"values": reader.strings("values")}

    def describe(self, params: dict[str, Any], term_names: dict[str, str]) -> str:
        return f"{self.label} is {_or(params['values'])}"

    def schema(self) -> tuple[dict[str, Any], list[str]]:
        return {"values": _values_schema()}, ["values"]

    def q(self, params: dict[str, Any], release: DataRelease) -> Q:
        return Q(**{f"{self.marginal.column}__in": params["values"]})

    def count_from_summaries(self, params: dict[str, Any], release: DataRelease) -> int | None:
        kept = kept_counts(release, self.marginal)
        return None if kept is None else sum(kept.get(v, 0) for v in params["values"])


@dataclass(frozen=True)
class DiseaseCriterion(CriterionType):
    name: str = "disease"
    label: str = "disease"

    def parse(self, reader: Reader) -> dict[str, Any]:
        return {
            "field": reader.one_of("field", tuple(DISEASE_FIELDS), "specific_disease"),
            "values": reader.strings("values"),
        }

    def describe(self, params: dict[str, Any], term_names: dict[str, str]) -> str:
        return f"{DISEASE_FIELDS.get(params['field'], params['field'])} is {_or(params['values'])}"

    def schema(self) -> tuple[dict[str, Any], list[str]]:
        return {"field": {"enum": list(DISEASE_FIELDS)}, "values": _values_schema()}, ["values"]

    def q(self, params: dict[str, Any], release: DataRelease) -> Q:
        diseases = Disease.objects.filter(**{f"{params['field']}__in": params["values"]})
        return Q(pk__in=diseases.values("participant_id"))

    def count_from_summaries(self, params: dict[str, Any], release: DataRelease) -> int | None:
        if len(params["values"]) != 1:
            return None
        kept = kept_counts(release, MARGINALS[f"disease.{params['field']}"])
        return None if kept is None else kept.get(params["values"][0], 0)


@dataclass(frozen=True)
class HpoCriterion(CriterionType):
    """A phenotype; by default the term or any more specific one (the HPO closure)."""

    name: str = "hpo"
    label: str = "HPO term"

    def parse(self, reader: Reader) -> dict[str, Any]:
        return {
            "term": reader.string("term", HPO_ID, required=True, hint="an HPO id such as HP:0001250"),
            "observed": reader.boolean("observed", True),
            "include_descendants": reader.boolean("include_descendants", True),
        }

    def describe(self, params: dict[str, Any], term_names: dict[str, str]) -> str:
        term = f"{params['term']} {term_names.get(params['term'], '')}".strip()
        scope = " (or a more specific term)" if params["include_descendants"] else ""
        return f"{'has' if params['observed'] else 'is recorded as not having'} {term}{scope}"

    def schema(self) -> tuple[dict[str, Any], list[str]]:
        return {
            "term": {"type": "string", "pattern": HPO_ID.pattern},
            "observed": {"type": "boolean"},
            "include_descendants": {"type": "boolean"},
        }, ["term"]

    def rollup(self, params: dict[str, Any], release: DataRelease) -> QuerySet[PhenotypeAncestor] | None:
        """For "a broad term or any descendant": its rows in the release's rollup."""
        if not params["include_descendants"] or not HpoTerm.objects.filter(pk=params["term"], rolled_up=True).exists():
            return None
        return PhenotypeAncestor.objects.filter(
            release=release, ancestor_id=params["term"], observed=params["observed"]
        )

    def q(self, params: dict[str, Any], release: DataRelease) -> Q:
        rollup = self.rollup(params, release)
        if rollup is not None:
            return Q(pk__in=rollup.values("participant_id"))
        if params["include_descendants"]:
            below = HpoAncestor.objects.filter(ancestor_id=params["term"]).values("term_id")
            phenotypes = Phenotype.objects.filter(observed=params["observed"], term_id__in=below)
        else:
            phenotypes = Phenotype.objects.filter(observed=params["observed"], term_id=params["term"])
        return Q(pk__in=phenotypes.values("participant_id"))

    def count_from_summaries(self, params: dict[str, Any], release: DataRelease) -> int | None:
        rollup = self.rollup(params, release)
        return None if rollup is None else rollup.count()

    def unknown(self, params: dict[str, Any], release: DataRelease) -> tuple[str, str] | None:
        term = params["term"]
        if HpoTerm.objects.filter(pk=term).exists():
            return None
        current = HpoTerm.objects.filter(is_obsolete=False)
        near = difflib.get_close_matches(term, list(current.values_list("id", flat=True)), n=2000, cutoff=0.75)
        # An id typed wrongly is a digit off or two digits swapped: the nearest
        # first, and among those the broader (more used) terms.
        ranked = current.filter(id__in=near).values_list("id", "name", "n_descendants")
        found = sorted(ranked, key=lambda t: (_typos(term, t[0]), -t[2], t[0]))[:5]
        close, names = [t[0] for t in found], {t[0]: t[1] for t in found}
        hint = f" Close matches: {'; '.join(f'{t} {names[t]}' for t in close)}." if close else ""
        return "term", f"{term} is not a term of the loaded HPO ontology.{hint}"


@dataclass(frozen=True)
class TumourCriterion(CriterionType):
    name: str = "tumour"
    label: str = "tumour"

    def parse(self, reader: Reader) -> dict[str, Any]:
        params = {
            "disease_types": reader.strings("disease_types", required=False),
            "stages": reader.choices("stages", vocab.STAGES.criterion_values, required=False),
            "sample_types": reader.choices("sample_types", vocab.SAMPLE_TYPES.values, required=False),
        }
        if not any(params.values()):
            reader.fail(None, "a tumour criterion needs disease_types, stages or sample_types")
        return params

    def describe(self, params: dict[str, Any], term_names: dict[str, str]) -> str:
        parts = []
        if params["disease_types"]:
            parts.append(_or(params["disease_types"]))
        if params["stages"]:
            stages = [s if vocab.STAGES.to_stored(s) else vocab.STAGES.label(s).lower() for s in params["stages"]]
            parts.append("stage " + _or(stages))
        if params["sample_types"]:
            parts.append(_or(params["sample_types"]))
        return "has a tumour: " + ", ".join(parts)

    def schema(self) -> tuple[dict[str, Any], list[str]]:
        return {
            "disease_types": _values_schema(min_items=0),
            "stages": _values_schema(vocab.STAGES.criterion_values, min_items=0),
            "sample_types": _values_schema(vocab.SAMPLE_TYPES.values, min_items=0),
        }, []

    def q(self, params: dict[str, Any], release: DataRelease) -> Q:
        tumours = Tumour.objects.all()
        if params["disease_types"]:
            tumours = tumours.filter(disease_type__in=params["disease_types"])
        if params["stages"]:
            tumours = tumours.filter(stage__in=vocab.STAGES.stored(params["stages"]))
        if params["sample_types"]:
            tumours = tumours.filter(sample_type__in=params["sample_types"])
        return Q(pk__in=tumours.values("participant_id"))

    def count_from_summaries(self, params: dict[str, Any], release: DataRelease) -> int | None:
        if len(params["disease_types"]) != 1 or params["stages"] or params["sample_types"]:
            return None
        kept = kept_counts(release, MARGINALS["tumour.disease_type"])
        return None if kept is None else kept.get(params["disease_types"][0], 0)


@dataclass(frozen=True)
class GenotypeCriterion(CriterionType):
    """Carriers of variants in a gene or a region, from the release's genotype store."""

    name: str = "genotype"
    label: str = "genotype"

    def parse(self, reader: Reader) -> dict[str, Any]:
        gene = reader.string("gene", GENE_SYMBOL, required=False, hint="a gene symbol")
        region = reader.string("region", REGION, required=False, hint="a region such as chr17:7661779-7687550")
        if region:
            match = REGION.match(region)
            assert match is not None
            if int(match.group(3)) > int(match.group(4)):
                reader.fail("region", "the region ends before it starts")
        if bool(gene) == bool(region):
            reader.fail(None, "a genotype criterion needs a gene or a region (one of them)")
        return {
            "gene": gene,
            "region": region,
            "consequence_classes": reader.choices(
                "consequence_classes", tuple(vocab.CONSEQUENCE_CLASSES), required=False
            ),
            "max_population_af": reader.fraction("max_population_af"),
            "max_cohort_af": reader.fraction("max_cohort_af"),
            "genotype": reader.one_of("genotype", tuple(GENOTYPES), "any"),
        }

    def describe(self, params: dict[str, Any], term_names: dict[str, str]) -> str:
        where = f"gene {params['gene']}" if params["gene"] else f"region {params['region']}"
        kinds = _or([k.replace("_", "-") for k in params["consequence_classes"]])
        variant = f"a {kinds} variant" if kinds else "a variant"
        filters = []
        if params["max_population_af"] is not None:
            filters.append(f"population AF ≤ {params['max_population_af']:g}")
        if params["max_cohort_af"] is not None:
            filters.append(f"cohort AF ≤ {params['max_cohort_af']:g}")
        extra = f" ({', '.join(filters)})" if filters else ""
        return f"carries {variant} in {where}, genotype {GENOTYPES.get(params['genotype'], params['genotype'])}{extra}"

    def schema(self) -> tuple[dict[str, Any], list[str]]:
        return {
            "gene": {"type": "string", "pattern": GENE_SYMBOL.pattern},
            "region": {"type": "string", "pattern": REGION.pattern},
            "consequence_classes": _values_schema(tuple(vocab.CONSEQUENCE_CLASSES), min_items=0),
            "max_population_af": {"type": "number", "minimum": 0, "maximum": 1},
            "max_cohort_af": {"type": "number", "minimum": 0, "maximum": 1},
            "genotype": {"enum": list(GENOTYPES)},
        }, []

    def q(self, params: dict[str, Any], release: DataRelease) -> Q:
        from cohorts.genotypes import release_genotypes

        consequences = [c for k in params["consequence_classes"] for c in vocab.CONSEQUENCE_CLASSES[k]] or None
        carriers = release_genotypes(release).carriers(
            gene=params["gene"],
            region=params["region"],
            consequences=consequences,
            max_popaf=params["max_population_af"],
            max_cohort_af=params["max_cohort_af"],
            genotype=params["genotype"],
        )
        # NOT NULL keeps "exclude carriers" true for participants without a genome;
        # -1 (no sample has it) stands for "no carriers" without an empty IN.
        return Q(sample_index__isnull=False, sample_index__in=sorted(carriers) or [-1])

    def unknown(self, params: dict[str, Any], release: DataRelease) -> tuple[str, str] | None:
        gene = params["gene"]
        if not gene or Gene.objects.filter(release=release, symbol=gene).exists():
            return None
        close = _suggest(gene.upper(), list(Gene.objects.filter(release=release).values_list("symbol", flat=True)))
        hint = f" Close matches: {', '.join(close)}." if close else ""
        return "gene", f"{gene} is not in the gene table of release {release.name}.{hint}"


def _types(*kinds: CriterionType) -> dict[str, CriterionType]:
    return {kind.name: kind for kind in kinds}


TYPES: dict[str, CriterionType] = _types(
    ValuesOf("programme", "programme", vocab.RECRUITMENT_PROGRAMMES, MARGINALS["programme"]),
    ValuesOf("sex", "sex", vocab.SEXES, MARGINALS["sex"]),
    AgeBand(),
    ValuesOf("ancestry", "genetic ancestry", vocab.ANCESTRIES, MARGINALS["genetic_ancestry"], lowercase=False),
    RecruitingCentre(),
    ValuesOf("family_role", "family role", vocab.FAMILY_ROLES, MARGINALS["relationship_to_proband"]),
    ValuesOf("affection", "affection status", vocab.AFFECTION, MARGINALS["affection_status"]),
    ValuesOf("vital_status", "vital status", vocab.VITAL_STATUSES, MARGINALS["vital_status"]),
    DiseaseCriterion(),
    HpoCriterion(),
    TumourCriterion(),
    GenotypeCriterion(),
)
CRITERION_TYPES = tuple(TYPES)


# --- criteria as a whole --------------------------------------------------------------------------


def _parse_criterion(raw: Any, path: str, errors: dict[str, str]) -> Criterion | None:
    if not isinstance(raw, dict):
        errors[path] = "must be an object with a type"
        return None
    kind = raw.get("type")
    if kind not in TYPES:
        errors[f"{path}.type"] = f"{kind!r} is not a criterion type; choose from {', '.join(TYPES)}"
        return None
    reader = Reader(raw, path)
    params = TYPES[kind].parse(reader)
    reader.finish()
    errors.update(reader.errors)
    return Criterion(kind, params)


def parse(raw: Any) -> Criteria:
    """Check and normalise criteria JSON; raise ``CriteriaError`` listing every problem."""
    errors: dict[str, str] = {}
    if not isinstance(raw, dict):
        raise CriteriaError({"$": "criteria must be a JSON object"})
    if raw.get("version", VERSION) != VERSION:
        errors["$.version"] = f"version {raw.get('version')!r} is not supported (this portal reads {VERSION})"
    for key in sorted(set(raw) - {"version", *GROUPS}):
        errors[f"$.{key}"] = "is not a part of cohort criteria (use include_all, include_any, exclude)"
    groups: dict[str, tuple[Criterion, ...]] = {}
    total = 0
    for group in GROUPS:
        items = raw.get(group, [])
        if not isinstance(items, list):
            errors[f"$.{group}"] = "must be a list of criteria"
            items = []
        total += len(items)
        parsed = [_parse_criterion(item, f"$.{group}[{i}]", errors) for i, item in enumerate(items)]
        groups[group] = tuple(c for c in parsed if c is not None)
    if total > MAX_CRITERIA:
        errors["$"] = f"at most {MAX_CRITERIA} criteria in one definition"
    if errors:
        raise CriteriaError(errors)
    return Criteria(include_all=groups["include_all"], include_any=groups["include_any"], exclude=groups["exclude"])


def check_known(criteria: Criteria, release: DataRelease) -> None:
    """Raise ``CriteriaError`` for every HPO term or gene the loaded data does not know."""
    errors: dict[str, str] = {}
    for group in GROUPS:
        for i, criterion in enumerate(getattr(criteria, group)):
            found = criterion.kind.unknown(criterion.params, release)
            if found is not None:
                errors[f"$.{group}[{i}].{found[0]}"] = found[1]
    if errors:
        raise CriteriaError(errors)


# --- in words -------------------------------------------------------------------------------------


def describe_criterion(c: Criterion, term_names: dict[str, str] | None = None) -> str:
    return c.kind.describe(c.params, term_names or {})


def describe(criteria: Criteria, term_names: dict[str, str] | None = None) -> list[str]:
    """Sentences a researcher can read back, one per group."""

    def line(start: str, items: tuple[Criterion, ...]) -> str:
        return start + "; ".join(describe_criterion(c, term_names) for c in items) + "."

    lines = []
    if criteria.include_all:
        lines.append(line("All of: ", criteria.include_all))
    if criteria.include_any:
        lines.append(line("Any of: ", criteria.include_any))
    if criteria.exclude:
        lines.append(line("Excluding: ", criteria.exclude))
    return lines or ["Every consenting participant of the release."]


# --- published ------------------------------------------------------------------------------------


def json_schema() -> dict[str, Any]:
    """JSON Schema of version 1 criteria (for the API's OpenAPI document)."""

    def variant(kind: CriterionType) -> dict[str, Any]:
        props, required = kind.schema()
        return {
            "type": "object",
            "properties": {"type": {"type": "string", "enum": [kind.name]}, **props},
            "required": ["type", *required],
            "additionalProperties": False,
        }

    group = {"type": "array", "items": {"oneOf": [variant(k) for k in TYPES.values()]}, "maxItems": MAX_CRITERIA}
    return {
        "type": "object",
        "properties": {"version": {"type": "integer", "enum": [VERSION]}, **dict.fromkeys(GROUPS, group)},
        "additionalProperties": False,
    }


def criterion_q(criterion: Criterion, release: DataRelease) -> Q:
    return criterion.kind.q(criterion.params, release)
