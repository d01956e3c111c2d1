from __future__ import annotations

from django import forms


class WithdrawalForm(forms.Form):
    """One withdrawal, as a governance reviewer records it. What the releases
    know about the participant is checked by ``participants.services.withdrawals_check``."""

    participant_id = forms.CharField(
        label="Participant id", max_length=40, help_text="As the data releases spell it, for example GEL0001234."
    )
    withdrawal_month = forms.CharField(
        label="Month of withdrawal",
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
        help_text="The month the participant withdrew consent, written YYYY-MM.",
    )

    def clean_participant_id(self) -> str:
        return self.cleaned_data["participant_id"].strip()

    def clean_withdrawal_month(self) -> str:
        return self.cleaned_data["withdrawal_month"].strip()
