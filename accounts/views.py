from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth import authenticate, update_session_auth_hash
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services
from accounts.authorization import role_labels
from accounts.forms import AgreementForm, ApiTokenForm, PasswordChangeForm, ProfileForm, SignInForm, TokenForm
from accounts.models import CURRENT_AGREEMENT_VERSION, ApiToken, ResearcherProfile
from accounts.requests import PortalRequest, is_verified
from accounts.selectors import profile_for
from analysis.selectors import work_for_user
from disclosure.policy import current_policy
from disclosure.rules import safe_count
from participants.selectors import release_current


def _next_url(request: HttpRequest, default: str = "dashboard") -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(default)


def _with_next(name: str, request: HttpRequest) -> str:
    return f"{reverse(name)}?{urlencode({'next': _next_url(request)})}"


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """django-axes hook: the account a sign-in attempt names, for per-account lockout."""
    username = (credentials or {}).get("username") or request.POST.get("email")
    return username.strip().lower() if username else None


def locked_out(request: HttpRequest, original_response: HttpResponse, credentials: Any) -> HttpResponse:
    """django-axes hook: the sign-in view has already explained the lockout."""
    return original_response


@never_cache
@csrf_protect
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if is_verified(request.user):
        return HttpResponseRedirect(_next_url(request))
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].lower()
        user = authenticate(request, username=email, password=form.cleaned_data["password"])
        if user is not None:
            services.session_sign_in(request=request, user=user)
            target = "accounts:mfa-verify" if services.user_has_mfa_device(user) else "accounts:mfa-enrol"
            return HttpResponseRedirect(_with_next(target, request))
        locked = bool(getattr(request, "axes_locked_out", False))
        services.session_sign_in_failed(email=email, locked_out=locked)
        if locked:
            status = 429
            form.add_error(
                None,
                "This account is locked after too many failed sign-ins. Try again in "
                f"{int(_cooloff_minutes())} minutes, or ask the service desk to unlock it.",
            )
        else:
            status = 400
            form.add_error(None, "E-mail address or password not recognised.")
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/sign_in.html", {"form": form, "next": _next_url(request)}, status=status)


def _cooloff_minutes() -> float:
    from django.conf import settings

    return settings.AXES_COOLOFF_TIME.total_seconds() / 60


@never_cache
@require_http_methods(["GET", "POST"])
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:sign-in")
    if services.user_has_mfa_device(user):
        # Adding a device needs the one already held: never from a password alone.
        return HttpResponseRedirect(_with_next("accounts:mfa-verify", request))
    device = services.mfa_device_for_enrolment(user=user)
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.mfa_enrol_confirm(request=request, user=user, token=form.cleaned_data["token"])
            except services.AccountError as error:
                form.add_error("token", str(error))
            else:
                messages.success(request, "Two-factor authentication is set up. Keep your phone safe.")
                return HttpResponseRedirect(_next_url(request))
        status = 400
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=5, dark="#1b2a3a")
    context = {"form": form, "qr_svg": qr_svg, "secret": _b32_secret(device), "next": _next_url(request)}
    return render(request, "accounts/mfa_enrol.html", context, status=status)


def _b32_secret(device: Any) -> str:
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:sign-in")
    if is_verified(user):
        return HttpResponseRedirect(_next_url(request))
    if not services.user_has_mfa_device(user):
        return HttpResponseRedirect(_with_next("accounts:mfa-enrol", request))
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.mfa_verify(request=request, user=user, token=form.cleaned_data["token"])
            except services.AccountError as error:
                form.add_error("token", str(error))
            else:
                return HttpResponseRedirect(_next_url(request))
        status = 400
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": _next_url(request)}, status=status)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    services.session_sign_out(request=request)
    messages.info(request, "You have signed out.")
    return redirect("accounts:sign-in")


def _account_page(request: PortalRequest, *, status: int = 200, **bound: Any) -> HttpResponse:
    """The account page, with the forms of one action bound (and their errors) if given."""
    user = request.user
    profile = profile_for(user)
    context = {
        "profile": profile,
        "profile_form": bound.get("profile_form") or ProfileForm(initial=_profile_initial(user, profile)),
        "agreement_form": bound.get("agreement_form") or AgreementForm(),
        "password_form": bound.get("password_form") or PasswordChangeForm(user),
        "token_form": bound.get("token_form") or ApiTokenForm(),
        "new_token_key": bound.get("new_token_key"),
        "roles": role_labels(user),
        "agreement_version": CURRENT_AGREEMENT_VERSION,
        "api_tokens": ApiToken.objects.filter(user=user, revoked_at__isnull=True),
    }
    return render(request, "accounts/account.html", context, status=status)


def _profile_initial(user: Any, profile: ResearcherProfile) -> dict[str, Any]:
    return {
        "full_name": user.full_name,
        "institution": profile.institution,
        "training_completed_on": profile.training_completed_on,
    }


@never_cache
@require_GET
def account(request: PortalRequest) -> HttpResponse:
    return _account_page(request)


@never_cache
@require_POST
def account_details(request: PortalRequest) -> HttpResponse:
    form = ProfileForm(request.POST)
    if form.is_valid():
        try:
            services.profile_update(by=request.user, **form.cleaned_data)
        except services.AccountError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Your details are saved.")
            return redirect("accounts:account")
    return _account_page(request, status=400, profile_form=form)


@never_cache
@require_POST
def account_agreement(request: PortalRequest) -> HttpResponse:
    form = AgreementForm(request.POST)
    if form.is_valid():
        try:
            services.agreement_accept(by=request.user, version=form.cleaned_data["version"])
        except services.AccountError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Thank you: the data access agreement is accepted.")
            return redirect("accounts:account")
    return _account_page(request, status=400, agreement_form=form)


@never_cache
@sensitive_post_parameters("current_password", "new_password", "confirm_password")
@require_POST
def account_password(request: PortalRequest) -> HttpResponse:
    user = request.user
    form = PasswordChangeForm(user, request.POST)
    if not form.is_valid():
        return _account_page(request, status=400, password_form=form)
    services.password_change(by=user, new_password=form.cleaned_data["new_password"])
    update_session_auth_hash(request, user)  # this session stays signed in; others end
    messages.success(request, "Your password is changed.")
    return redirect("accounts:account")


@never_cache
@require_POST
def account_token_create(request: PortalRequest) -> HttpResponse:
    user = request.user
    # Only a session that passed the second factor reaches this page (the
    # wall in accounts.middleware); checked again because a token outlives it.
    if not is_verified(user):
        return redirect("accounts:mfa-verify")
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            _, key = services.api_token_create(by=user, **form.cleaned_data)
        except services.AccountError as error:
            form.add_error(None, str(error))
        else:
            # Shown once, on this answer only: never stored, never in a redirect.
            return _account_page(request, new_token_key=key)
    return _account_page(request, status=400, token_form=form)


@never_cache
@require_POST
def account_token_revoke(request: PortalRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, user=request.user, pk=pk)
    services.api_token_revoke(token=token, by=request.user)
    messages.success(request, f"The token “{token.name}” is revoked.")
    return redirect("accounts:account")


@never_cache
def dashboard(request: PortalRequest) -> HttpResponse:
    user = request.user
    profile = profile_for(user)
    release = release_current()
    policy = current_policy()
    context = {
        "profile": profile,
        "accredited": profile.is_accredited(),
        "roles": role_labels(user),
        "release": release,
        # The release's totals, shown as every count is: through disclosure control.
        "release_totals": {
            name: safe_count(int(release.counts.get(name, 0)), policy).label for name in ("participants", "genomes")
        }
        if release
        else {},
        "work": work_for_user(user=user),
    }
    return render(request, "dashboard.html", context)


def admin_login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """Stands in for the admin's login form. Staff (who reach it only when a
    session lapsed mid-way) go on to the admin; everyone else gets 404, as for
    any page they may not see. The two-factor wall has already sent
    signed-out visitors to the portal's sign-in."""
    from django.contrib import admin

    if admin.site.has_permission(request):
        return HttpResponseRedirect(_next_url(request, default="admin:index"))
    raise Http404


def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: answers 200 when the database answers."""
    from django.db import connection
    from django.http import JsonResponse

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
