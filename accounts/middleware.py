"""Session rules that apply to every request: idle and absolute timeouts, and
the two-factor wall in front of every page but sign-in and enrolment."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from accounts.decorators import is_public_page
from accounts.requests import is_verified
from accounts.services import LAST_SEEN_KEY, SIGNED_IN_AT_KEY, session_sign_out, user_has_mfa_device
from audit.models import AuditAction

# Paths reachable without a verified second factor.
_OPEN_PREFIXES = ("/static/", "/healthz", "/favicon.ico")


def is_api_request(request: HttpRequest) -> bool:
    """Under /api/, but not the documentation page, which is a page for people."""
    return request.path.startswith("/api/") and not request.path.startswith(reverse("api-docs"))


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and SIGNED_IN_AT_KEY in request.session:
            now = timezone.now().timestamp()
            signed_in_at = float(request.session.get(SIGNED_IN_AT_KEY, 0))
            last_seen = float(request.session.get(LAST_SEEN_KEY, signed_in_at))
            idle = settings.SESSION_IDLE_TIMEOUT.total_seconds()
            absolute = settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds()
            reason = None
            if now - last_seen > idle:
                reason = f"You were signed out after {int(idle // 60)} minutes without activity."
            elif now - signed_in_at > absolute:
                reason = f"Sessions last at most {int(absolute // 3600)} hours. Please sign in again."
            if reason:
                session_sign_out(request=request, reason=AuditAction.SESSION_EXPIRED)
                if is_api_request(request):
                    return JsonResponse({"detail": reason}, status=401)
                messages.info(request, reason)
                return HttpResponseRedirect(_sign_in_url(request))
            request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


def _sign_in_url(request: HttpRequest) -> str:
    return f"{reverse('accounts:sign-in')}?{urlencode({'next': request.get_full_path()})}"


def _is_public(request: HttpRequest) -> bool:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return is_public_page(match.func)


class MFARequiredMiddleware:
    """Every page needs a signed-in user who has passed the second factor.

    Not signed in: to the sign-in page. Signed in with a password only: to
    enrolment (no device yet) or verification. API requests get JSON errors;
    token-authenticated API calls are checked by the API's own authentication.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if path.startswith(_OPEN_PREFIXES) or path.startswith(self._open_account_paths()):
            return self.get_response(request)
        if _is_public(request):
            return self.get_response(request)
        user = request.user
        if not user.is_authenticated:
            if is_api_request(request):
                return self.get_response(request)
            return HttpResponseRedirect(_sign_in_url(request))
        if is_verified(user):
            return self.get_response(request)
        if is_api_request(request):
            return JsonResponse({"detail": "Two-factor verification is required."}, status=403)
        target = "accounts:mfa-verify" if user_has_mfa_device(user) else "accounts:mfa-enrol"
        return HttpResponseRedirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")

    @staticmethod
    def _open_account_paths() -> tuple[str, ...]:
        return (
            reverse("accounts:sign-in"),
            reverse("accounts:sign-out"),
            reverse("accounts:mfa-enrol"),
            reverse("accounts:mfa-verify"),
        )
