"""For views in other apps that show or compute on a project's data."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render

from accounts.requests import PortalRequest
from domains import services
from domains.models import Project
from domains.permissions import DataAccessDenied, DataAccessReason
from domains.selectors import project_get_for_data_access

# The one map from a refusal's reason to the HTTP status, for pages and the API.
# Non-members get 404 and nothing else (the project's existence does not leak);
# members whose project is not approved or has ended get an explanation with
# 404; only a lapsed accreditation (the person is entitled otherwise) is 403.
DATA_ACCESS_STATUS: dict[DataAccessReason, int] = {
    DataAccessReason.NOT_MEMBER: 404,
    DataAccessReason.NOT_APPROVED: 404,
    DataAccessReason.ENDED: 404,
    DataAccessReason.NOT_ACCREDITED: 403,
}


def data_access_status(error: DataAccessDenied) -> int:
    return DATA_ACCESS_STATUS[error.reason]


def data_access_refused_response(request: PortalRequest, project: Project, error: DataAccessDenied) -> HttpResponse:
    if error.reason is DataAccessReason.NOT_MEMBER:
        raise Http404
    services.data_access_refused(project=project, by=request.user, error=error)
    context = {"project": project, "reason": error.reason, "message": str(error)}
    return render(request, "domains/data_access_denied.html", context, status=data_access_status(error))


def requires_project_data_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``view(request, project, ...)`` runs only for an accredited member of an
    approved, current project; the URL passes ``project_pk``."""

    @wraps(view)
    def wrapper(request: PortalRequest, project_pk: int, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            project = project_get_for_data_access(user=request.user, pk=project_pk)
        except DataAccessDenied as error:
            assert error.project is not None
            return data_access_refused_response(request, error.project, error)
        return view(request, project, *args, **kwargs)

    return wrapper
