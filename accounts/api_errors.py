"""The API's one error shape, for every error answer under ``/api/``:

    {"detail": "What went wrong, in words a researcher understands.",
     "errors": {"field or JSON path": ["what is wrong with it", ...]}}

``errors`` is there only when particular fields of the request are wrong.
DRF's own errors (validation, authentication, unknown method, throttling)
are reshaped by ``api_exception_handler``; Django's 404 and 500 answers under
``/api/`` are JSON too (``portal.urls`` names the handlers below), so a
client never has to read an HTML page.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler

from accounts.middleware import is_api_request

VALIDATION_DETAIL = "Some of what was sent cannot be used; see errors."


class ErrorOut(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in words a person can act on.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Only when particular fields are wrong: each field (or JSON path) with what is wrong with it.",
    )


def error_body(detail: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": detail}
    if errors:
        body["errors"] = errors
    return body


def _flatten(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error map as ``{"a.b": ["message"]}``."""
    if isinstance(data, dict):
        out: dict[str, list[str]] = {}
        for key, value in data.items():
            name = "" if key == "non_field_errors" and not prefix else (f"{prefix}.{key}" if prefix else str(key))
            for path, messages in _flatten(value, name).items():
                out.setdefault(path or "request", []).extend(messages)
        return out
    if isinstance(data, list):
        if all(not isinstance(item, (dict, list)) for item in data):
            return {prefix: [str(item) for item in data]}
        out = {}
        for index, item in enumerate(data):
            for path, messages in _flatten(item, f"{prefix}[{index}]").items():
                out.setdefault(path, []).extend(messages)
        return out
    return {prefix: [str(data)]}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        response.data = error_body(str(data["detail"]))
    else:
        response.data = error_body(VALIDATION_DETAIL, _flatten(data))
    return response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse(error_body("Not found."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse(error_body("Something went wrong on our side; it has been logged."), status=500)
    return defaults.server_error(request)


def forbidden(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse(error_body("Not allowed."), status=403)
    return defaults.permission_denied(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse(error_body("Bad request."), status=400)
    return defaults.bad_request(request, exception)


ERROR_DESCRIPTIONS = {
    400: "The request cannot be used: bad input (errors says which fields) or a rule it breaks.",
    401: "No valid credentials: send Authorization: Token <key>.",
    403: "Seen, but not yours to do (or accreditation has lapsed, or two-factor is missing).",
    404: "Nothing there, or not visible to you.",
    405: "This method is not offered here.",
    406: "Only application/json is offered.",
    409: "The object's state does not allow this now.",
    415: "Send application/json.",
    429: "Too many requests; try again later.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    return {status: OpenApiResponse(ErrorOut, description=ERROR_DESCRIPTIONS[status]) for status in statuses}


# Answers any operation can give, whatever it does: no credentials, a session
# without the second factor, an unknown page or object, a method not offered,
# an Accept header that is not JSON; with a body, one that is not JSON.
_EVERY_OPERATION = (401, 403, 404, 405, 406)
_WITH_A_BODY = (400, 415)


def schema_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular hook: every operation documents the error answers it can
    give with the one error shape (``ErrorOut``)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    if "ErrorOut" not in schemas:
        from drf_spectacular.openapi import AutoSchema

        schemas["ErrorOut"] = AutoSchema()._map_serializer(ErrorOut(), "response")
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            statuses = list(_EVERY_OPERATION) + (list(_WITH_A_BODY) if "requestBody" in operation else [])
            responses = operation.setdefault("responses", {})
            for status in statuses:
                responses.setdefault(str(status), {"content": reference, "description": ERROR_DESCRIPTIONS[status]})
    return result
