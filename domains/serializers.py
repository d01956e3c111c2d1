"""API shapes. Input and output serializers are kept apart: inputs validate
what a caller may send, outputs say what they get back."""

from __future__ import annotations

from rest_framework import serializers

from domains.models import Programme
from domains.permissions import NotAllowed
from domains.services import (
    JUSTIFICATION_MAX_LENGTH,
    JUSTIFICATION_MIN_LENGTH,
    check_project_end_date,
    clean_justification,
)

# --- output ----------------------------------------------------------------------------------


class PersonOut(serializers.Serializer):
    name = serializers.CharField(source="display_name")
    email = serializers.EmailField()


class DomainOut(serializers.Serializer):
    """Reads a ``domains.selectors.DomainEntry``."""

    slug = serializers.SlugField(source="domain.slug")
    name = serializers.CharField(source="domain.name")
    programme = serializers.ChoiceField(source="domain.programme", choices=Programme.choices)
    description = serializers.CharField(source="domain.description")
    leads = PersonOut(many=True)
    member_count = serializers.IntegerField()
    my_status = serializers.CharField(help_text="Your open application's status: pending, approved or empty.")


class ApplicationOut(serializers.Serializer):
    id = serializers.IntegerField()
    domain = serializers.SlugField(source="domain.slug")
    applicant = PersonOut()
    justification = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()


class ProjectOut(serializers.Serializer):
    id = serializers.IntegerField()
    domain = serializers.SlugField(source="domain.slug")
    owner = PersonOut()
    title = serializers.CharField()
    lay_summary = serializers.CharField()
    aims = serializers.CharField()
    data_needed = serializers.CharField()
    planned_outputs = serializers.CharField()
    end_date = serializers.DateField()
    status = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()
    approved_on = serializers.DateField(allow_null=True)


# --- input -------------------------------------------------------------------------------------


def _checked(rule, value):
    """Run a service's rule on a field's value; its refusal becomes the field's error."""
    try:
        return rule(value)
    except NotAllowed as error:
        raise serializers.ValidationError(str(error)) from None


class ApplicationIn(serializers.Serializer):
    domain = serializers.SlugField(help_text="The domain's slug, as listed by /api/v1/domains/.")
    justification = serializers.CharField(
        min_length=JUSTIFICATION_MIN_LENGTH,  # for the schema; the rule is clean_justification
        max_length=JUSTIFICATION_MAX_LENGTH,
    )

    def validate_justification(self, value):
        return _checked(clean_justification, value)


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class ReasonRequiredIn(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Read by the researcher.")


class ProjectIn(serializers.Serializer):
    domain = serializers.SlugField()
    title = serializers.CharField(max_length=200)
    lay_summary = serializers.CharField()
    aims = serializers.CharField()
    data_needed = serializers.CharField()
    planned_outputs = serializers.CharField()
    end_date = serializers.DateField()

    def validate_end_date(self, value):
        _checked(check_project_end_date, value)
        return value
