"""API shapes of the withdrawal register: input and output kept apart."""

from __future__ import annotations

from rest_framework import serializers


class WithdrawalIn(serializers.Serializer):
    participant_id = serializers.CharField(max_length=40, help_text="As the data releases spell it.")
    withdrawal_month = serializers.CharField(max_length=7, help_text="The month of the withdrawal, YYYY-MM.")


class WithdrawalOut(serializers.Serializer):
    id = serializers.IntegerField()
    participant_id = serializers.CharField()
    withdrawal_month = serializers.CharField()
    recorded_at = serializers.DateTimeField()
    recorded_by = serializers.EmailField(source="recorded_by.email", allow_null=True, default=None)
    source = serializers.CharField()


class WithdrawalRecordedOut(WithdrawalOut):
    no_longer_usable_in = serializers.ListField(
        child=serializers.CharField(), help_text="Releases in which the participant is no longer used, newest first."
    )
    flagged = serializers.DictField(
        child=serializers.IntegerField(), help_text="What was flagged for having used them, e.g. saved cohorts."
    )
