"""API authentication with personal tokens: ``Authorization: Token <key>``.

The key is looked up by its SHA-256 hash; expired, revoked and unknown keys
are refused and the refusal is audited (with the key's first characters only).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiToken, User
from accounts.services import api_token_hash, api_token_refused

# last_used_at is written at most this often per token, to spare the database.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class HashedTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Any) -> tuple[User, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the header as 'Authorization: Token <key>'.")
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("The token contains characters that are not allowed.") from None
        return self._authenticate_key(key)

    def _authenticate_key(self, key: str) -> tuple[User, ApiToken]:
        token = ApiToken.objects.select_related("user").filter(key_hash=api_token_hash(key)).first()
        now = timezone.now()
        reason = None
        if token is None:
            reason = "unknown"
        elif token.revoked_at is not None:
            reason = "revoked"
        elif token.expires_at is not None and now >= token.expires_at:
            reason = "expired"
        elif not token.user.is_active:
            reason = "account_inactive"
        if reason is not None:
            api_token_refused(prefix=key, reason=reason, user=token.user if token else None)
            raise exceptions.AuthenticationFailed(_REFUSALS[reason])
        assert token is not None
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            with transaction.atomic():
                ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return self.keyword


_REFUSALS = {
    "unknown": "This token is not recognised.",
    "revoked": "This token has been revoked. Make a new one on your account page.",
    "expired": "This token has expired. Make a new one on your account page.",
    "account_inactive": "This account is disabled.",
}


class HashedTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Describes the token scheme in the OpenAPI schema."""

    target_class = "accounts.api_auth.HashedTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A personal API token from your account page, sent as `Token <key>`.",
        }
