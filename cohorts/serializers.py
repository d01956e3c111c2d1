from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cohorts import criteria as crit
from cohorts.models import Cohort


@extend_schema_field(crit.json_schema())
class CriteriaField(serializers.JSONField):
    """Cohort criteria, version 1 (checked by cohorts.criteria.parse)."""


class CountIn(serializers.Serializer):
    project = serializers.IntegerField(help_text="The project the count is made for.")
    criteria = CriteriaField()


class SafeCountOut(serializers.Serializer):
    value = serializers.IntegerField(allow_null=True, help_text="Rounded count; null when suppressed.")
    display = serializers.CharField(help_text='What to show, e.g. "<5" or "1,230".')
    suppressed = serializers.BooleanField()


class BreakdownOut(serializers.Serializer):
    total = SafeCountOut()
    cells = serializers.DictField(child=SafeCountOut())


class PerCriterionOut(serializers.Serializer):
    criterion = serializers.CharField()
    count = SafeCountOut()


class CountOut(serializers.Serializer):
    release = serializers.CharField()
    disclosure = serializers.DictField()
    total = SafeCountOut()
    per_criterion = PerCriterionOut(many=True)
    by_programme = BreakdownOut()
    by_sex = BreakdownOut()


class CohortIn(serializers.Serializer):
    project = serializers.IntegerField()
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    criteria = CriteriaField()


class CohortOut(serializers.ModelSerializer):
    release = serializers.CharField(source="release.name")
    size = serializers.SerializerMethodField(help_text="Disclosure-controlled member count.")
    criteria = serializers.JSONField(source="definition")
    previous = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The version this one re-ran; null for a first version."
    )
    withdrawals_flagged = serializers.SerializerMethodField()

    class Meta:
        model = Cohort
        fields = ["id", "project", "name", "description", "release", "version", "previous", "criteria", "size",
                  "created_at", "withdrawals_flagged"]  # fmt: skip

    @extend_schema_field(SafeCountOut)
    def get_size(self, cohort: Cohort) -> dict[str, object]:
        from disclosure.policy import current_policy
        from disclosure.rules import safe_count

        return safe_count(cohort.member_count, current_policy()).as_json()

    def get_withdrawals_flagged(self, cohort: Cohort) -> bool:
        return cohort.withdrawals_flagged_at is not None
