from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.utils import timezone

from accounts.models import CURRENT_AGREEMENT_VERSION


class SignInForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class TokenForm(forms.Form):
    token = forms.RegexField(
        label="Six-digit code from your authenticator app",
        regex=r"^\s*\d{3}\s?\d{3}\s*$",
        error_messages={"invalid": "Enter the six digits your authenticator app shows, e.g. 123456."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class ProfileForm(forms.Form):
    full_name = forms.CharField(label="Full name", max_length=200, required=False)
    institution = forms.CharField(label="Institution", max_length=200, required=False)
    training_completed_on = forms.DateField(
        label="Information-governance training completed on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Training must be renewed every 12 months to keep access to data.",
    )

    def clean_training_completed_on(self):
        value = self.cleaned_data["training_completed_on"]
        if value and value > timezone.localdate():
            raise forms.ValidationError("This date is in the future. Enter the date you completed the training.")
        return value


class AgreementForm(forms.Form):
    version = forms.CharField(widget=forms.HiddenInput, initial=CURRENT_AGREEMENT_VERSION)
    accept = forms.BooleanField(
        label="I have read the data access agreement and agree to its terms.",
        error_messages={"required": "Tick the box to accept the agreement."},
    )


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        label="Current password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    confirm_password = forms.CharField(
        label="New password again", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_current_password(self):
        value = self.cleaned_data["current_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError("Your current password is not right.")
        return value

    def clean(self):
        cleaned = super().clean() or {}
        new, confirm = cleaned.get("new_password"), cleaned.get("confirm_password")
        if new and confirm and new != confirm:
            self.add_error("confirm_password", "The two new passwords differ.")
        elif new:
            try:
                password_validation.validate_password(new, self.user)
            except forms.ValidationError as error:
                self.add_error("new_password", error)
        return cleaned


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="What the token is for, e.g. 'laptop scripts'.",
        error_messages={"required": "Give the token a name, so you can tell it apart later."},
    )
    lifetime_days = forms.TypedChoiceField(
        label="Expires after",
        choices=[("30", "30 days"), ("90", "90 days"), ("365", "1 year")],
        initial="90",
        coerce=int,
        error_messages={"invalid_choice": "Choose one of the offered lifetimes."},
    )
