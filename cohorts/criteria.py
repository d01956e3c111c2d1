"""Cohort definitions: versioned JSON criteria, parsed into typed objects and
described in words. Plain Python; compiling to queries is ``cohorts.compiler``.

Version 1::

    {
      "version": 1,
      "include_all": [criterion, ...],   # every one must hold
      "include_any": [criterion, ...],   # at least one must hold (ignored when empty)
      "exclude":     [criterion, ...]    # none may hold
    }

A criterion is an object with a ``type``; see ``CRITERION_TYPES`` and
``json_schema()`` (published in the OpenAPI schema).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

VERSION = 1
MAX_CRITERIA = 50

AGE_BANDS = ("0-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80-89", "90+")
PROGRAMMES = ("rare_disease", "cancer")
SEXES = ("female", "male", "unknown")
ANCESTRIES = ("AFR", "AMR", "EAS", "EUR", "SAS", "OTH")
FAMILY_ROLES = ("proband", "mother", "father", "sibling", "other", "none")
AFFECTION = ("affected", "unaffected", "unknown")
VITAL = ("alive", "deceased")
STAGES = ("I", "II", "III", "IV", "unknown")
SAMPLE_TYPES = ("primary", "metastatic")
GENOTYPES = ("het", "hom", "any")
CONSEQUENCE_CLASSES: dict[str, tuple[str, ...]] = {
    "loss_of_function": (
        "stop_gained", "frameshift_variant", "splice_donor_variant", "splice_acceptor_variant", "start_lost",
    ),
    "missense": ("missense_variant",),
    "synonymous": ("synonymous_variant",),
    "intronic": ("intron_variant",),
    "intergenic": ("intergenic_variant",),
}  # fmt: skip
DISEASE_FIELDS = ("specific_disease", "disease_group")

_HPO = re.compile(r"^HP:\d{7}$")
_GENE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
_REGION = re.compile(r"^(chr)?([1-9]|1\d|2[0-2]|X|Y|M|MT):(\d{1,9})-(\d{1,9})$")


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


@dataclass
class _Reader:
    raw: dict[str, Any]
    path: str
    errors: dict[str, str] = field(default_factory=dict)
    used: set[str] = field(default_factory=lambda: {"type"})

    def _fail(self, key: str, message: str) -> None:
        self.errors[f"{self.path}.{key}"] = message

    def choices(self, key: str, allowed: tuple[str, ...], *, required: bool = True) -> list[str]:
        self.used.add(key)
        value = self.raw.get(key)
        if value is None:
            if required:
                self._fail(key, f"is required: a list drawn from {', '.join(allowed)}")
            return []
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self._fail(key, "must be a non-empty list of strings")
            return []
        unknown = [v for v in value if v not in allowed]
        if unknown:
            self._fail(key, f"{', '.join(unknown)} not allowed; choose from {', '.join(allowed)}")
        return sorted(set(value))

    def strings(self, key: str, pattern: re.Pattern[str] | None = None, *, max_items: int = 200) -> list[str]:
        self.used.add(key)
        value = self.raw.get(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            self._fail(key, "must be a non-empty list of text values")
            return []
        if len(value) > max_items:
            self._fail(key, f"has more than {max_items} values")
        if pattern is not None:
            bad = [v for v in value if not pattern.match(v)]
            if bad:
                self._fail(key, f"{', '.join(bad[:5])} not in the expected form")
        return sorted({v.strip() for v in value})

    def string(self, key: str, pattern: re.Pattern[str], *, required: bool, hint: str) -> str | None:
        self.used.add(key)
        value = self.raw.get(key)
        if value is None:
            if required:
                self._fail(key, f"is required ({hint})")
            return None
        if not isinstance(value, str) or not pattern.match(value.strip()):
            self._fail(key, f"{value!r} is not {hint}")
            return None
        return value.strip()

    def boolean(self, key: str, default: bool) -> bool:
        self.used.add(key)
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            self._fail(key, "must be true or false")
            return default
        return value

    def fraction(self, key: str) -> float | None:
        self.used.add(key)
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            self._fail(key, "must be a number from 0 to 1")
            return None
        return float(value)

    def finish(self) -> None:
        extra = sorted(set(self.raw) - self.used)
        for key in extra:
            self._fail(key, "is not a field of this criterion")


def _parse_criterion(raw: Any, path: str, errors: dict[str, str]) -> Criterion | None:
    if not isinstance(raw, dict):
        errors[path] = "must be an object with a type"
        return None
    kind = raw.get("type")
    if kind not in CRITERION_TYPES:
        errors[f"{path}.type"] = f"{kind!r} is not a criterion type; choose from {', '.join(CRITERION_TYPES)}"
        return None
    reader = _Reader(raw, path)
    params: dict[str, Any] = {}
    if kind in ("programme", "sex", "age_band", "ancestry", "family_role", "affection", "vital_status"):
        allowed = {
            "programme": PROGRAMMES, "sex": SEXES, "age_band": AGE_BANDS, "ancestry": ANCESTRIES,
            "family_role": FAMILY_ROLES, "affection": AFFECTION, "vital_status": VITAL,
        }[kind]  # fmt: skip
        params["values"] = reader.choices("values", allowed)
    elif kind == "recruiting_centre":
        params["values"] = reader.strings("values")
    elif kind == "disease":
        field_name = raw.get("field", "specific_disease")
        reader.used.add("field")
        if field_name not in DISEASE_FIELDS:
            errors[f"{path}.field"] = f"must be one of {', '.join(DISEASE_FIELDS)}"
        params["field"] = field_name
        params["values"] = reader.strings("values")
    elif kind == "hpo":
        params["term"] = reader.string("term", _HPO, required=True, hint="an HPO id such as HP:0001250")
        params["observed"] = reader.boolean("observed", True)
        params["include_descendants"] = reader.boolean("include_descendants", True)
    elif kind == "tumour":
        params["disease_types"] = reader.strings("disease_types") if "disease_types" in raw else []
        params["stages"] = reader.choices("stages", STAGES, required=False)
        params["sample_types"] = reader.choices("sample_types", SAMPLE_TYPES, required=False)
        if not any(params.values()):
            errors[path] = "a tumour criterion needs disease_types, stages or sample_types"
    elif kind == "genotype":
        params["gene"] = reader.string("gene", _GENE, required=False, hint="a gene symbol")
        region = reader.string("region", _REGION, required=False, hint="a region such as chr17:7661779-7687550")
        if region:
            match = _REGION.match(region)
            assert match is not None
            if int(match.group(3)) > int(match.group(4)):
                errors[f"{path}.region"] = "the region ends before it starts"
        params["region"] = region
        if bool(params["gene"]) == bool(region):
            errors[path] = "a genotype criterion needs a gene or a region (one of them)"
        params["consequence_classes"] = reader.choices(
            "consequence_classes", tuple(CONSEQUENCE_CLASSES), required=False
        )
        params["max_population_af"] = reader.fraction("max_population_af")
        params["max_cohort_af"] = reader.fraction("max_cohort_af")
        genotype = raw.get("genotype", "any")
        reader.used.add("genotype")
        if genotype not in GENOTYPES:
            errors[f"{path}.genotype"] = f"must be one of {', '.join(GENOTYPES)}"
        params["genotype"] = genotype
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
    unknown = sorted(set(raw) - {"version", "include_all", "include_any", "exclude"})
    for key in unknown:
        errors[f"$.{key}"] = "is not a part of cohort criteria (use include_all, include_any, exclude)"
    groups: dict[str, tuple[Criterion, ...]] = {}
    total = 0
    for group in ("include_all", "include_any", "exclude"):
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
    return Criteria(**groups)


# --- in words ---------------------------------------------------------------------------------

_LABELS = {
    "programme": "programme", "sex": "sex", "age_band": "age at consent", "ancestry": "genetic ancestry",
    "family_role": "family role", "affection": "affection status", "vital_status": "vital status",
    "recruiting_centre": "recruiting centre",
}  # fmt: skip


def describe_criterion(c: Criterion, term_names: dict[str, str] | None = None) -> str:
    p = c.params
    if c.type in _LABELS:
        return f"{_LABELS[c.type]} is {' or '.join(v.replace('_', ' ') for v in p['values'])}"
    if c.type == "disease":
        label = "specific disease" if p["field"] == "specific_disease" else "disease group"
        return f"{label} is {' or '.join(p['values'])}"
    if c.type == "hpo":
        name = (term_names or {}).get(p["term"], "")
        term = f"{p['term']} {name}".strip()
        scope = " (or a more specific term)" if p["include_descendants"] else ""
        return f"{'has' if p['observed'] else 'is recorded as not having'} {term}{scope}"
    if c.type == "tumour":
        parts = []
        if p["disease_types"]:
            parts.append(" or ".join(p["disease_types"]))
        if p["stages"]:
            parts.append("stage " + " or ".join(p["stages"]))
        if p["sample_types"]:
            parts.append(" or ".join(p["sample_types"]))
        return "has a tumour: " + ", ".join(parts)
    if c.type == "genotype":
        where = f"gene {p['gene']}" if p["gene"] else f"region {p['region']}"
        kinds = " or ".join(k.replace("_", "-") for k in p["consequence_classes"]) or "any"
        genotype = {"het": "heterozygous", "hom": "homozygous", "any": "any"}[p["genotype"]]
        filters = []
        if p["max_population_af"] is not None:
            filters.append(f"population AF ≤ {p['max_population_af']:g}")
        if p["max_cohort_af"] is not None:
            filters.append(f"cohort AF ≤ {p['max_cohort_af']:g}")
        extra = f" ({', '.join(filters)})" if filters else ""
        return f"carries a {kinds} variant in {where}, genotype {genotype}{extra}"
    return c.type


def describe(criteria: Criteria, term_names: dict[str, str] | None = None) -> list[str]:
    """Sentences a researcher can read back, one per group."""
    lines = []
    if criteria.include_all:
        lines.append("All of: " + "; ".join(describe_criterion(c, term_names) for c in criteria.include_all) + ".")
    if criteria.include_any:
        lines.append("Any of: " + "; ".join(describe_criterion(c, term_names) for c in criteria.include_any) + ".")
    if criteria.exclude:
        lines.append("Excluding: " + "; ".join(describe_criterion(c, term_names) for c in criteria.exclude) + ".")
    return lines or ["Every consenting participant of the release."]


CRITERION_TYPES = (
    "programme", "sex", "age_band", "ancestry", "recruiting_centre", "family_role", "affection", "vital_status",
    "disease", "hpo", "tumour", "genotype",
)  # fmt: skip


def json_schema() -> dict[str, Any]:
    """JSON Schema of version 1 criteria (for the API's OpenAPI document)."""

    def values(allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {"type": "string"}
        if allowed:
            item["enum"] = list(allowed)
        return {"type": "array", "items": item, "minItems": 1}

    def kind(name: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
        return {"type": "object", "properties": {"type": {"type": "string", "enum": [name]}, **props},
                "required": ["type", *required], "additionalProperties": False}  # fmt: skip

    simple = {"programme": PROGRAMMES, "sex": SEXES, "age_band": AGE_BANDS, "ancestry": ANCESTRIES,
              "family_role": FAMILY_ROLES, "affection": AFFECTION, "vital_status": VITAL}  # fmt: skip
    variants = [kind(n, {"values": values(a)}, ["values"]) for n, a in simple.items()]
    variants += [
        kind("recruiting_centre", {"values": values()}, ["values"]),
        kind("disease", {"field": {"enum": list(DISEASE_FIELDS)}, "values": values()}, ["values"]),
        kind("hpo", {"term": {"type": "string", "pattern": _HPO.pattern}, "observed": {"type": "boolean"},
                     "include_descendants": {"type": "boolean"}}, ["term"]),
        kind("tumour", {"disease_types": values(), "stages": values(STAGES), "sample_types": values(SAMPLE_TYPES)},
             []),
        kind("genotype", {"gene": {"type": "string"}, "region": {"type": "string", "pattern": _REGION.pattern},
                          "consequence_classes": values(tuple(CONSEQUENCE_CLASSES)),
                          "max_population_af": {"type": "number", "minimum": 0, "maximum": 1},
                          "max_cohort_af": {"type": "number", "minimum": 0, "maximum": 1},
                          "genotype": {"enum": list(GENOTYPES)}}, []),
    ]  # fmt: skip
    criterion = {"oneOf": variants}
    group = {"type": "array", "items": criterion, "maxItems": MAX_CRITERIA}
    return {
        "type": "object",
        "properties": {
            "version": {"type": "integer", "enum": [VERSION]},
            "include_all": group,
            "include_any": group,
            "exclude": group,
        },
        "additionalProperties": False,
    }
