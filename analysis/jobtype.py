"""What a job type declares, and the parameter forms and serializers built from it.

A job type is one module in ``analysis/jobtypes/`` that defines ``JOB_TYPE``,
an instance of a :class:`JobType` subclass (``analysis.registry`` finds it).
It declares:

- ``slug``, ``title``, ``description`` and the Celery ``queue`` it runs on
  (``interactive`` or ``heavy``);
- ``roles``: the cohort roles it takes, each with how many cohorts;
- ``params``: its parameters as :class:`Param` (label and help text on every
  one). The Django form of the "Run an analysis" page and the DRF serializer
  of the API are both built from them, and both call :meth:`JobType.clean`
  for the rules between fields: one source for each field's rules;
- ``estimate``: what the job would read and how long and how much memory it
  would take, from the cost model measured on this machine
  (``analysis/cost_model.json``, re-measured by ``python -m bench.analysis``);
- ``artifacts``: its tables (typed columns, which are counts, how they are
  disclosure-controlled) and plots (each drawn from one of its tables);
- ``disclosure``: the rules its outputs pass, in words;
- its runner: :meth:`JobType.run` (one task), or for a block-split type
  :meth:`JobType.blocks`, :meth:`JobType.run_block` and
  :meth:`JobType.combine`, fanned out over any number of workers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from django import forms
from rest_framework import serializers

if TYPE_CHECKING:
    import pyarrow as pa
    from matplotlib.figure import Figure

    from analysis.runner import RunContext
    from participants.models import DataRelease

QUEUES = ("interactive", "heavy")


class JobError(Exception):
    """A job that cannot be submitted or run; the message is for the researcher."""


class ParameterError(JobError):
    """Parameters that fail their rules: ``errors`` maps each field ('' for the whole form) to messages."""

    def __init__(self, errors: Mapping[str, str | list[str]]) -> None:
        self.errors = {k: [v] if isinstance(v, str) else list(v) for k, v in errors.items()}
        super().__init__("; ".join(f"{k + ': ' if k else ''}{' '.join(v)}" for k, v in self.errors.items()))


class JobCancelled(Exception):
    """Raised inside a runner when a cancel was asked for: the job stops at this point."""


# --- parameters ---------------------------------------------------------------------------

ParamKind = Literal["text", "integer", "number", "boolean", "choice", "multichoice"]


@dataclass(frozen=True)
class Param:
    """One parameter. Its rules are written once, here and in the type's ``clean``."""

    name: str
    label: str
    help: str
    kind: ParamKind = "text"
    required: bool = False
    default: Any = None
    choices: tuple[tuple[str, str], ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    max_length: int = 200
    placeholder: str = ""

    def form_field(self) -> forms.Field:
        common: dict[str, Any] = {"label": self.label, "help_text": self.help, "required": self.required}
        if self.kind != "multichoice" and self.default is not None:
            common["initial"] = self.default
        if self.kind == "text":
            attrs = {"placeholder": self.placeholder} if self.placeholder else {}
            return forms.CharField(max_length=self.max_length, widget=forms.TextInput(attrs=attrs), **common)
        if self.kind == "integer":
            return forms.IntegerField(min_value=_int(self.min_value), max_value=_int(self.max_value), **common)
        if self.kind == "number":
            return forms.FloatField(min_value=self.min_value, max_value=self.max_value, **common)
        if self.kind == "boolean":
            return forms.BooleanField(**{**common, "required": False})
        if self.kind == "choice":
            return forms.ChoiceField(choices=self.choices, **common)
        return forms.MultipleChoiceField(
            choices=self.choices, widget=forms.CheckboxSelectMultiple, initial=self.default or [], **common
        )

    def serializer_field(self) -> serializers.Field:
        common: dict[str, Any] = {"label": self.label, "help_text": self.help, "required": self.required}
        if not self.required:
            common["default"] = self.default if self.default is not None else self._empty()
        if self.kind == "text":
            return serializers.CharField(max_length=self.max_length, allow_blank=not self.required, **common)
        if self.kind == "integer":
            return serializers.IntegerField(min_value=self.min_value, max_value=self.max_value, **common)
        if self.kind == "number":
            return serializers.FloatField(
                min_value=self.min_value, max_value=self.max_value, allow_null=not self.required, **common
            )
        if self.kind == "boolean":
            return serializers.BooleanField(**common)
        if self.kind == "choice":
            return serializers.ChoiceField(choices=self.choices, **common)
        return serializers.MultipleChoiceField(choices=self.choices, **common)

    def _empty(self) -> Any:
        return {"text": "", "boolean": False, "multichoice": []}.get(self.kind)

    def normalise(self, value: Any) -> Any:
        """The JSON form kept in the job: lists sorted in choice order, blanks as ''."""
        if self.kind == "multichoice":
            chosen = set(value or [])
            return [c for c, _ in self.choices if c in chosen]
        if self.kind == "text":
            return (value or "").strip()
        if self.kind == "boolean":
            return bool(value)
        return value


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class RoleSpec:
    """A cohort role a type takes: at least ``minimum`` and at most ``maximum`` cohorts."""

    role: str
    label: str
    help: str
    minimum: int = 1
    maximum: int = 1


# --- artifacts ----------------------------------------------------------------------------

ColumnType = Literal["string", "integer", "float", "count", "boolean"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    label: str
    description: str

    @property
    def is_count(self) -> bool:
        """A count of people or alleles: it passes disclosure control before it is written."""
        return self.type == "count"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "label": self.label,
            "description": self.description,
            "count": self.is_count,
        }


@dataclass(frozen=True)
class Breakdown:
    """Count columns of one row that add up to ``total`` (a column, or None: their sum).

    Written as a disclosure breakdown: if one cell is hidden a second one is,
    so no hidden cell is the total minus the others."""

    cells: tuple[str, ...]
    total: str | None = None


@dataclass(frozen=True)
class Derived:
    """A column computed from the row's *disclosed* values only, so it reveals nothing they do not."""

    name: str
    compute: Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class TableSpec:
    key: str
    title: str
    description: str
    columns: tuple[Column, ...]
    breakdowns: tuple[Breakdown, ...] = ()
    derived: tuple[Derived, ...] = ()
    rules: tuple[str, ...] = ()  # further disclosure rules, in words, recorded with the table
    default_sort: str = ""
    participant_level: bool = False
    kind: ClassVar[str] = "table"

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True)
class PlotSpec:
    """A plot drawn on the server from the (disclosed) rows of the table ``source``."""

    key: str
    title: str
    description: str
    source: str
    draw: Callable[[pa.Table, RunContext], Figure]
    kind: ClassVar[str] = "plot"


ArtifactSpec = TableSpec | PlotSpec


# --- estimates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedInput:
    """An input cohort as the form or API gives it, with its usable members counted."""

    role: str
    cohort: Any  # cohorts.models.Cohort
    members: int
    genomes: int

    @property
    def label(self) -> str:
        return f"{self.cohort.name} (v{self.cohort.version})"


@dataclass(frozen=True)
class Estimate:
    """What a job would read, and the cost model's time and memory for it.
    ``participants`` are raw counts: they pass disclosure control when shown."""

    participants: list[tuple[str, str, int]]  # (role, cohort label, usable members read)
    variants: int | None
    seconds: float
    memory_mb: float
    notes: list[str] = field(default_factory=list)

    @property
    def reads_nobody(self) -> bool:
        return sum(n for _, _, n in self.participants) == 0

    def as_json(self) -> dict[str, Any]:
        return {
            "participants": [{"role": r, "cohort": c, "count": n} for r, c, n in self.participants],
            "variants": self.variants,
            "seconds": round(self.seconds, 1),
            "memory_mb": round(self.memory_mb, 1),
            "notes": self.notes,
        }


# --- the type -----------------------------------------------------------------------------


class JobType:
    slug: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    queue: ClassVar[str] = "interactive"
    roles: ClassVar[tuple[RoleSpec, ...]]
    params: ClassVar[tuple[Param, ...]] = ()
    artifacts: ClassVar[tuple[ArtifactSpec, ...]]
    disclosure: ClassVar[tuple[str, ...]] = ()
    uses_genotypes: ClassVar[bool] = False  # reads the genotype store: only members with a genome count
    splittable: ClassVar[bool] = False

    def check_declaration(self) -> None:
        """Raise if the declaration is incomplete (the registry calls this at discovery)."""
        if self.queue not in QUEUES:
            raise ValueError(f"{self.slug}: queue must be one of {QUEUES}")
        for p in self.params:
            if not (p.label and p.help):
                raise ValueError(f"{self.slug}: parameter {p.name} needs a label and help text")
        tables = {a.key for a in self.artifacts if isinstance(a, TableSpec)}
        for a in self.artifacts:
            if isinstance(a, PlotSpec) and a.source not in tables:
                raise ValueError(f"{self.slug}: plot {a.key} is drawn from {a.source}, which is not one of its tables")
        if not self.roles:
            raise ValueError(f"{self.slug}: a job type takes at least one cohort role")

    # Parameters -------------------------------------------------------------------------

    def clean(self, values: dict[str, Any], *, release: DataRelease) -> dict[str, Any]:
        """Rules between fields (and against the release); raise ParameterError. Default: none."""
        return values

    def clean_parameters(self, raw: Mapping[str, Any] | None, *, release: DataRelease) -> dict[str, Any]:
        """Validate parameters as the API and the service see them: the serializer's
        field rules, then :meth:`clean`. Returns the JSON kept in the job."""
        serializer = self.serializer_class(data=dict(raw or {}), context={"release": release})
        if not serializer.is_valid():
            raise ParameterError({k: [str(m) for m in v] for k, v in serializer.errors.items()})
        return dict(serializer.validated_data)

    def _normalised(self, values: Mapping[str, Any], *, release: DataRelease) -> dict[str, Any]:
        by_name = {p.name: p for p in self.params}
        cleaned = {name: by_name[name].normalise(values.get(name)) for name in by_name}
        return self.clean(cleaned, release=release)

    @cached_property
    def form_class(self) -> Any:
        """A Django form class of the parameters; instantiate with ``release=``."""
        jobtype = self

        class ParametersForm(forms.Form):
            def __init__(self, *args: Any, release: DataRelease, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self.release = release

            def clean(self) -> dict[str, Any]:
                data = super().clean() or {}
                if self.errors:
                    return data
                try:
                    return jobtype._normalised(data, release=self.release)
                except ParameterError as error:
                    for name, messages in error.errors.items():
                        for message in messages:
                            self.add_error(name or None, message)
                    return data

        for p in self.params:
            ParametersForm.base_fields[p.name] = p.form_field()
        ParametersForm.__name__ = f"{self.slug.title().replace('-', '')}Form"
        return ParametersForm

    @cached_property
    def serializer_class(self) -> type[serializers.Serializer]:
        jobtype = self
        fields = {p.name: p.serializer_field() for p in self.params}

        def validate(self: serializers.Serializer, attrs: dict[str, Any]) -> dict[str, Any]:
            unknown = set(self.initial_data) - set(fields)
            if unknown:
                raise serializers.ValidationError({name: ["This job type has no such parameter."] for name in unknown})
            try:
                return jobtype._normalised(attrs, release=self.context["release"])
            except ParameterError as error:
                raise serializers.ValidationError(
                    {(name or serializers.api_settings.NON_FIELD_ERRORS_KEY): m for name, m in error.errors.items()}
                ) from None

        name = f"{self.slug.title().replace('-', '')}Parameters"
        return type(name, (serializers.Serializer,), {**fields, "validate": validate})

    def describe_parameters(self, parameters: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(label, value as words) of each parameter, for pages."""
        out = []
        for p in self.params:
            value = parameters.get(p.name)
            if p.kind == "multichoice":
                labels = dict(p.choices)
                text = ", ".join(labels.get(v, v) for v in value or []) or "any"
            elif p.kind == "choice":
                text = dict(p.choices).get(str(value), str(value))
            elif p.kind == "boolean":
                text = "yes" if value else "no"
            else:
                text = "—" if value in (None, "") else str(value)
            out.append((p.label, text))
        return out

    # Estimates and runners --------------------------------------------------------------

    def estimate(
        self, *, inputs: Sequence[PlannedInput], parameters: Mapping[str, Any], release: DataRelease
    ) -> Estimate:
        raise NotImplementedError

    def run(self, ctx: RunContext) -> None:
        """Compute and write every artifact (types that are not block-split)."""
        raise NotImplementedError

    def blocks(self, ctx: RunContext) -> list[dict[str, Any]]:
        """Block-split types: the blocks, as JSON specs, in order."""
        raise NotImplementedError

    def run_block(self, ctx: RunContext, block: dict[str, Any], out: Path) -> None:
        """Block-split types: compute one block and write its partial result to ``out``."""
        raise NotImplementedError

    def combine(self, ctx: RunContext, partials: list[Path]) -> None:
        """Block-split types: read every block's partial (in block order) and write the artifacts."""
        raise NotImplementedError

    def artifact(self, key: str) -> ArtifactSpec:
        for a in self.artifacts:
            if a.key == key:
                return a
        raise KeyError(key)
