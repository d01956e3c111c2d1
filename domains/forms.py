from __future__ import annotations

from django import forms

from accounts.models import User
from domains.models import Programme
from domains.permissions import NotAllowed
from domains.policies import Action
from domains.services import (
    JUSTIFICATION_MAX_LENGTH,
    check_project_end_date,
    clean_justification,
    clean_reason,
)


def _checked(rule, value):
    """Run a service's rule on a field's value; its refusal becomes the field's error."""
    try:
        return rule(value)
    except NotAllowed as error:
        raise forms.ValidationError(str(error)) from None


class ProgrammeFilterForm(forms.Form):
    programme = forms.ChoiceField(
        label="Programme",
        choices=[("", "All programmes"), *Programme.choices],
        required=False,
        error_messages={"invalid_choice": "Choose one of the listed programmes."},
    )


class ApplyForm(forms.Form):
    justification = forms.CharField(
        label="Why do you want to join?",
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": JUSTIFICATION_MAX_LENGTH}),
        help_text="A sentence or two on your research interest and what you would bring. The domain's leads read it.",
        error_messages={"required": "Say why you want to join: the domain's leads need it to decide."},
    )

    def clean_justification(self):
        return _checked(clean_justification, self.cleaned_data["justification"])


class DecisionForm(forms.Form):
    """A lead's decision on an application (approve/reject) or a project (approve/reject/return)."""

    decision = forms.ChoiceField(
        label="Decision", widget=forms.RadioSelect, error_messages={"required": "Choose a decision."}
    )
    reason = forms.CharField(
        label="Reason or note to the researcher",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed when you reject or ask for changes: the researcher reads it.",
    )

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = choices  # type: ignore[attr-defined]

    def clean(self):
        cleaned = super().clean() or {}
        decision = cleaned.get("decision")
        if decision:
            try:
                cleaned["reason"] = clean_reason(Action(decision), cleaned.get("reason", ""))
            except NotAllowed as error:
                self.add_error("reason", str(error))
        return cleaned


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="Why is this membership being revoked?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Give a reason: the researcher will read it."},
    )


class ProjectForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200, error_messages={"required": "Give the project a title."})
    lay_summary = forms.CharField(
        label="Lay summary",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Published in the register of approved projects. Write for a member of the public.",
        error_messages={"required": "Write a lay summary: it is published if the project is approved."},
    )
    aims = forms.CharField(
        label="Aims", widget=forms.Textarea(attrs={"rows": 4}), error_messages={"required": "Say what you aim to do."}
    )
    data_needed = forms.CharField(
        label="Data needed",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only what the aims need: which participants, phenotypes, genomic data.",
        error_messages={"required": "Say which data you need (and only what the aims need)."},
    )
    planned_outputs = forms.CharField(
        label="Planned outputs",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you expect to take out through the airlock: aggregate results only.",
        error_messages={"required": "Say which outputs you plan."},
    )
    end_date = forms.DateField(
        label="End date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Access to data stops after this date. At most five years ahead.",
        error_messages={"required": "Give an end date.", "invalid": "Enter a date, e.g. 2027-03-31."},
    )

    def clean_end_date(self):
        value = self.cleaned_data["end_date"]
        _checked(check_project_end_date, value)
        return value


class MemberAddForm(forms.Form):
    user: forms.ModelChoiceField = forms.ModelChoiceField(
        label="Add a member of the domain",
        queryset=User.objects.none(),
        empty_label="Choose a person",
        error_messages={"required": "Choose who to add.", "invalid_choice": "Choose someone from the list."},
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = candidates  # type: ignore[attr-defined]
