"""The cohort builder form: the common criteria as fields, or criteria JSON
for everything else. ``to_criteria_json`` turns the fields into version 1 criteria."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms

from cohorts import criteria as crit
from participants.models import Ancestry, Disease, Tumour

_TERM_SPLIT = re.compile(r"[\s,;]+")


def _choices(values: tuple[str, ...], labels: dict[str, str] | None = None) -> list[tuple[str, str]]:
    return [(v, (labels or {}).get(v, v.replace("_", " ").capitalize())) for v in values]


class BuilderForm(forms.Form):
    programme = forms.MultipleChoiceField(
        choices=_choices(crit.PROGRAMMES), required=False, widget=forms.CheckboxSelectMultiple
    )
    sex = forms.MultipleChoiceField(choices=_choices(crit.SEXES), required=False, widget=forms.CheckboxSelectMultiple)
    age_band = forms.MultipleChoiceField(
        label="Age at consent", choices=_choices(crit.AGE_BANDS), required=False, widget=forms.CheckboxSelectMultiple
    )
    ancestry = forms.MultipleChoiceField(
        label="Genetic ancestry", choices=list(Ancestry.choices), required=False, widget=forms.CheckboxSelectMultiple
    )
    family_role = forms.MultipleChoiceField(
        choices=_choices(crit.FAMILY_ROLES, {"none": "Not in a family"}), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    affection = forms.MultipleChoiceField(
        label="Affection status", choices=_choices(crit.AFFECTION), required=False, widget=forms.CheckboxSelectMultiple
    )
    vital_status = forms.MultipleChoiceField(
        choices=_choices(crit.VITAL), required=False, widget=forms.CheckboxSelectMultiple
    )
    disease = forms.MultipleChoiceField(label="Specific disease", choices=[], required=False)
    hpo_terms = forms.CharField(
        label="Has HPO terms", required=False, max_length=400,
        help_text="HPO ids such as HP:0001250, separated by commas. A term includes its more specific terms.",
    )  # fmt: skip
    hpo_match = forms.ChoiceField(
        label="Terms needed", choices=[("all", "all of them"), ("any", "any of them")], initial="all", required=False
    )
    exclude_hpo_terms = forms.CharField(label="Exclude participants with HPO terms", required=False, max_length=400)
    tumour_type = forms.MultipleChoiceField(label="Tumour type", choices=[], required=False)
    stage = forms.MultipleChoiceField(
        label="Tumour stage", choices=_choices(crit.STAGES), required=False, widget=forms.CheckboxSelectMultiple
    )
    sample_type = forms.MultipleChoiceField(
        label="Tumour sample", choices=_choices(crit.SAMPLE_TYPES), required=False, widget=forms.CheckboxSelectMultiple
    )
    gene = forms.RegexField(
        label="Carries a variant in gene", regex=r"^[A-Za-z0-9_.-]{1,40}$", required=False,
        error_messages={"invalid": "Enter a gene symbol such as BRCA2."},
    )  # fmt: skip
    consequence = forms.MultipleChoiceField(
        label="Variant consequence",
        choices=_choices(tuple(crit.CONSEQUENCE_CLASSES), {"loss_of_function": "Loss of function"}),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    max_population_af = forms.FloatField(
        label="Population allele frequency at most", min_value=0, max_value=1, required=False
    )
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
        if release is not None:
            diseases = (
                Disease.objects.filter(participant__release=release)
                .order_by("specific_disease")
                .values_list("specific_disease", flat=True)
                .distinct()
            )
            self.fields["disease"].choices = [(d, d) for d in diseases]
            types = (
                Tumour.objects.filter(participant__release=release)
                .order_by("disease_type")
                .values_list("disease_type", flat=True)
                .distinct()
            )
            self.fields["tumour_type"].choices = [(t, t.capitalize()) for t in types]

    def _terms(self, field: str) -> list[str]:
        raw = self.cleaned_data.get(field) or ""
        terms = [t.upper() for t in _TERM_SPLIT.split(raw.strip()) if t]
        bad = [t for t in terms if not re.match(r"^HP:\d{7}$", t)]
        if bad:
            self.add_error(field, f"{', '.join(bad)}: write HPO ids as HP: and seven digits, e.g. HP:0001250.")
        return terms

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
        for name in ("programme", "sex", "age_band", "ancestry", "family_role", "affection", "vital_status"):
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
        if c.get("gene"):
            genotype: dict[str, Any] = {
                "type": "genotype",
                "gene": c["gene"].upper(),
                "genotype": c.get("genotype") or "any",
            }
            if c.get("consequence"):
                genotype["consequence_classes"] = c["consequence"]
            if c.get("max_population_af") is not None:
                genotype["max_population_af"] = c["max_population_af"]
            include_all.append(genotype)
        elif c.get("consequence") or c.get("max_population_af") is not None:
            self.add_error("gene", "Name the gene whose variants you are filtering.")
        return {"version": crit.VERSION, "include_all": include_all, "include_any": include_any, "exclude": exclude}


class SaveForm(forms.Form):
    name = forms.CharField(label="Cohort name", max_length=120)
    description = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ShareForm(forms.Form):
    project = forms.ChoiceField(label="Share with project", choices=[])

    def __init__(self, *args: Any, projects: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = [(p.pk, p.title) for p in projects]
