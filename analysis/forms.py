"""Forms of the "Run an analysis" page: which cohorts play which role (the
parameters' form comes from the job type itself, ``JobType.form_class``)."""

from __future__ import annotations

from typing import Any

from django import forms

from analysis.jobtype import JobType
from analysis.models import JobStatus


class CohortChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} (v{obj.version}, release {obj.release.name})"


class InputsForm(forms.Form):
    """One field per role of the job type, listing the cohorts the project may use."""

    def __init__(self, *args: Any, jobtype: JobType, cohorts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.jobtype = jobtype
        for spec in jobtype.roles:
            many = f"at least {spec.minimum}, at most {spec.maximum}" if spec.maximum > 1 else "one"
            self.fields[f"role_{spec.role}"] = CohortChoice(
                queryset=cohorts,
                label=spec.label,
                help_text=f"{spec.help} Choose {many}.",
                widget=forms.CheckboxSelectMultiple,
                required=True,
                error_messages={"required": f"Choose {many} of the {spec.label.lower()}."},
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for spec in self.jobtype.roles:
            chosen = data.get(f"role_{spec.role}")
            if chosen is not None and not spec.minimum <= len(chosen) <= spec.maximum:
                self.add_error(
                    f"role_{spec.role}",
                    f"Choose between {spec.minimum} and {spec.maximum} of the {spec.label.lower()}."
                    if spec.maximum > 1
                    else f"Choose one of the {spec.label.lower()}.",
                )
        return data

    def inputs(self) -> list[tuple[str, Any]]:
        return [(spec.role, c) for spec in self.jobtype.roles for c in self.cleaned_data.get(f"role_{spec.role}", [])]


class StatusFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Every status"), *JobStatus.choices], required=False, label="Status",
        help_text="Show only jobs in this status.",
    )  # fmt: skip
