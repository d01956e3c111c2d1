"""The cohort builder form: the common criteria as fields, or criteria JSON
for everything else. ``clean`` turns the fields into version 1 criteria;
:func:`builder_data` goes the other way, so a saved cohort opens in the
builder with every field filled (or, for a definition the fields cannot
express, in the JSON box)."""

from __future__ import annotations

import json
import re
from typing import Any, cast

from django import forms

from cohorts import criteria as crit
from participants import vocabularies as vocab
from participants.models import Disease, Tumour

_TERM_SPLIT = re.compile(r"[\s,;]+")

# Criteria on one participant column, each a field of the same name, in this order.
COLUMN_FIELDS = ("programme", "sex", "age_band", "ancestry", "family_role", "affection", "vital_status")


def _column_field(name: str) -> forms.MultipleChoiceField:
    kind = crit.TYPES[name]
    if isinstance(kind, crit.ValuesOf):
        choices = kind.vocabulary.criterion_choices
    else:
        choices = [(band, band) for band in crit.AGE_BANDS]
    return forms.MultipleChoiceField(
        label=kind.label[:1].upper() + kind.label[1:], choices=choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip


class BuilderForm(forms.Form):
    disease = forms.MultipleChoiceField(label="Specific disease", choices=[], required=False)
    hpo_terms = forms.CharField(
        label="Has HPO terms", required=False, max_length=400,
        help_text="HPO ids such as HP:0001250, separated by commas, or find them by name below. "
                  "A term includes its more specific terms.",
    )  # fmt: skip
    hpo_match = forms.ChoiceField(
        label="Terms needed", choices=[("all", "all of them"), ("any", "any of them")], initial="all", required=False
    )
    exclude_hpo_terms = forms.CharField(label="Exclude participants with HPO terms", required=False, max_length=400)
    tumour_type = forms.MultipleChoiceField(label="Tumour type", choices=[], required=False)
    stage = forms.MultipleChoiceField(
        label="Tumour stage", choices=vocab.STAGES.criterion_choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    sample_type = forms.MultipleChoiceField(
        label="Tumour sample", choices=vocab.SAMPLE_TYPES.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    gene = forms.RegexField(
        label="Carries a variant in gene", regex=crit.GENE_SYMBOL.pattern, required=False,
        error_messages={"invalid": "Enter a gene symbol such as BRCA2."},
    )  # fmt: skip
    region = forms.RegexField(
        label="or in region", regex=crit.REGION.pattern, required=False,
        help_text="A region of GRCh38 such as chr17:7661779-7687550.",
        error_messages={"invalid": "Enter a region as chromosome:start-end, such as chr17:7661779-7687550."},
    )  # fmt: skip
    consequence = forms.MultipleChoiceField(
        label="Variant consequence",
        choices=[(k, vocab.CONSEQUENCE_CLASS_LABELS[k]) for k in vocab.CONSEQUENCE_CLASSES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    max_population_af = forms.FloatField(
        label="Population allele frequency at most", min_value=0, max_value=1, required=False,
        error_messages={"max_value": "An allele frequency is a fraction from 0 to 1, such as 0.01 for 1 in 100."},
    )  # fmt: skip
    genotype = forms.ChoiceField(
        choices=[("any", "Any carrier"), ("het", "Heterozygous"), ("hom", "Homozygous alternate")],
        required=False, initial="any",
    )  # fmt: skip
    criteria_json = forms.CharField(
        label="Criteria as JSON (advanced)", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="If given, these criteria are used instead of the fields above.",
    )  # fmt: skip

    def __init__(self, *args: Any, release: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in COLUMN_FIELDS:
            self.fields[name] = _column_field(name)
        if release is not None:
            diseases = (
                Disease.objects.filter(participant__release=release)
                .order_by("specific_disease")
                .values_list("specific_disease", flat=True)
                .distinct()
            )
            cast(forms.ChoiceField, self.fields["disease"]).choices = [(d, d) for d in diseases]
            types = (
                Tumour.objects.filter(participant__release=release)
                .order_by("disease_type")
                .values_list("disease_type", flat=True)
                .distinct()
            )
            labelled = [(t, vocab.tumour_type_label(t)) for t in types]
            cast(forms.ChoiceField, self.fields["tumour_type"]).choices = labelled

    def _terms(self, field: str) -> list[str]:
        raw = self.cleaned_data.get(field) or ""
        terms = [t.upper() for t in _TERM_SPLIT.split(raw.strip()) if t]
        bad = [t for t in terms if not crit.HPO_ID.match(t)]
        if bad:
            self.add_error(
                field,
                f"{', '.join(bad)}: write HPO ids as HP: and seven digits, e.g. HP:0001250, "
                "or find a term by its name with the search box.",
            )
        return list(dict.fromkeys(terms))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        raw_json = (cleaned.get("criteria_json") or "").strip()
        if raw_json:
            try:
                cleaned["criteria"] = json.loads(raw_json)
            except json.JSONDecodeError as error:
                self.add_error("criteria_json", f"This is not valid JSON: {error.msg} (line {error.lineno}).")
            return cleaned
        cleaned["criteria"] = self._from_fields(cleaned)
        return cleaned

    def _from_fields(self, c: dict[str, Any]) -> dict[str, Any]:
        include_all: list[dict[str, Any]] = []
        include_any: list[dict[str, Any]] = []
        exclude: list[dict[str, Any]] = []
        for name in COLUMN_FIELDS:
            if c.get(name):
                include_all.append({"type": name, "values": c[name]})
        if c.get("disease"):
            include_all.append({"type": "disease", "field": "specific_disease", "values": c["disease"]})
        terms = [{"type": "hpo", "term": t, "observed": True} for t in self._terms("hpo_terms")]
        (include_any if c.get("hpo_match") == "any" and len(terms) > 1 else include_all).extend(terms)
        exclude.extend({"type": "hpo", "term": t, "observed": True} for t in self._terms("exclude_hpo_terms"))
        if c.get("tumour_type") or c.get("stage") or c.get("sample_type"):
            tumour: dict[str, Any] = {"type": "tumour"}
            for key, field in (("disease_types", "tumour_type"), ("stages", "stage"), ("sample_types", "sample_type")):
                if c.get(field):
                    tumour[key] = c[field]
            include_all.append(tumour)
        gene, region = (c.get("gene") or "").strip(), (c.get("region") or "").strip()
        if gene and region:
            self.add_error("region", "Give a gene or a region, not both.")
        elif gene or region:
            genotype: dict[str, Any] = {"type": "genotype", "genotype": c.get("genotype") or "any"}
            if gene:
                genotype["gene"] = gene.upper()
            else:
                genotype["region"] = region
            if c.get("consequence"):
                genotype["consequence_classes"] = c["consequence"]
            if c.get("max_population_af") is not None:
                genotype["max_population_af"] = c["max_population_af"]
            include_all.append(genotype)
        elif c.get("consequence") or c.get("max_population_af") is not None:
            self.add_error("gene", "Name the gene (or the region) whose variants you are filtering.")
        return {"version": crit.VERSION, "include_all": include_all, "include_any": include_any, "exclude": exclude}


def _is_plain_term(c: crit.Criterion) -> bool:
    return c.type == "hpo" and c.params["observed"] and c.params["include_descendants"]


def _field_data(criteria: crit.Criteria) -> dict[str, Any] | None:
    """The builder's fields for ``criteria``, or None when the fields cannot say it."""
    data: dict[str, Any] = {}
    terms: list[str] = []
    for c in criteria.include_all:
        p = c.params
        if c.type in COLUMN_FIELDS and c.type not in data:
            data[c.type] = list(p["values"])
        elif c.type == "disease" and p["field"] == "specific_disease" and "disease" not in data:
            data["disease"] = list(p["values"])
        elif _is_plain_term(c):
            terms.append(p["term"])
        elif c.type == "tumour" and "stage" not in data and "tumour_type" not in data and "sample_type" not in data:
            data.update(tumour_type=p["disease_types"], stage=p["stages"], sample_type=p["sample_types"])
        elif c.type == "genotype" and p["max_cohort_af"] is None and "genotype" not in data:
            data.update(gene=p["gene"] or "", region=p["region"] or "", genotype=p["genotype"])
            data["consequence"] = list(p["consequence_classes"])
            data["max_population_af"] = "" if p["max_population_af"] is None else repr(p["max_population_af"])
        else:
            return None
    if criteria.include_any:
        if terms or not all(_is_plain_term(c) for c in criteria.include_any):
            return None
        terms = [c.params["term"] for c in criteria.include_any]
        data["hpo_match"] = "any"
    data["hpo_terms"] = ", ".join(terms)
    if not all(_is_plain_term(c) for c in criteria.exclude):
        return None
    data["exclude_hpo_terms"] = ", ".join(c.params["term"] for c in criteria.exclude)
    return data


def builder_data(criteria: crit.Criteria, *, release: Any) -> dict[str, Any]:
    """Form data that opens ``criteria`` in the builder: the fields when they
    give back exactly these criteria, else the JSON box."""
    data = _field_data(criteria)
    if data is not None:
        form = BuilderForm(data, release=release)
        try:
            if form.is_valid() and crit.parse(form.cleaned_data["criteria"]) == criteria:
                return data
        except crit.CriteriaError:
            pass
    return {"criteria_json": json.dumps(criteria.as_json(), indent=1)}


class SaveForm(forms.Form):
    name = forms.CharField(label="Cohort name", max_length=120)
    description = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    save_empty = forms.BooleanField(
        label="Save it even if no participant matches", required=False,
        help_text="A cohort of no one is refused unless this is ticked.",
    )  # fmt: skip


class ShareForm(forms.Form):
    project = forms.ChoiceField(label="Share with project", choices=[])

    def __init__(self, *args: Any, projects: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["project"]).choices = [(p.pk, p.title) for p in projects]
