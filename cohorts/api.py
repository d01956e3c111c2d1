"""Cohort API: counts, create, list, get, new version. Same services as the pages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_errors import error_body, error_responses
from cohorts import selectors, services
from cohorts.criteria import CriteriaError
from cohorts.serializers import CohortIn, CohortOut, CountIn, CountOut
from domains.decorators import data_access_status
from domains.models import Project
from domains.permissions import DataAccessDenied
from domains.selectors import project_get_for_data_access

_ERRORS = error_responses(400, 403, 404, 409, 429)


def _project(request: Request, pk: int) -> Project:
    """Http404 for non-members; DataAccessDenied (403/404 below) for lapsed access."""
    return project_get_for_data_access(user=request.user, pk=pk)


def _refused(error: Exception) -> Response:
    if isinstance(error, CriteriaError):
        errors = {path: [message] for path, message in error.errors.items()}
        return Response(error_body("Invalid criteria.", errors), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(error, services.CountLimitReached):
        return Response(error_body(str(error)), status=status.HTTP_429_TOO_MANY_REQUESTS)
    if isinstance(error, DataAccessDenied):
        return Response(error_body(str(error)), status=data_access_status(error))
    return Response(error_body(str(error)), status=status.HTTP_409_CONFLICT)


class CohortCount(APIView):
    @extend_schema(request=CountIn, responses={200: CountOut, **_ERRORS}, summary="Count participants meeting criteria")
    def post(self, request: Request) -> Response:
        data = CountIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            project = _project(request, data.validated_data["project"])
            result = services.cohort_count(by=request.user, project=project,
                                           criteria_json=data.validated_data["criteria"])  # fmt: skip
        except (CriteriaError, services.CohortError, DataAccessDenied) as error:
            return _refused(error)
        return Response(result.as_json())


class CohortListCreate(APIView):
    @extend_schema(responses={200: CohortOut(many=True)}, summary="List cohorts of your projects")
    def get(self, request: Request) -> Response:
        cohorts = selectors.cohorts_for_user(user=request.user)
        return Response(CohortOut(cohorts, many=True).data)

    @extend_schema(request=CohortIn, responses={201: CohortOut, **_ERRORS}, summary="Save a cohort")
    def post(self, request: Request) -> Response:
        data = CohortIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            project = _project(request, data.validated_data["project"])
            cohort = services.cohort_create(
                by=request.user, project=project, name=data.validated_data["name"],
                description=data.validated_data["description"], criteria_json=data.validated_data["criteria"],
            )  # fmt: skip
        except (CriteriaError, services.CohortError, DataAccessDenied) as error:
            return _refused(error)
        return Response(CohortOut(cohort).data, status=status.HTTP_201_CREATED)


class CohortDetail(APIView):
    @extend_schema(responses={200: CohortOut, **error_responses(403, 404)}, summary="Get a cohort")
    def get(self, request: Request, pk: int) -> Response:
        try:
            cohort = selectors.cohort_get_for_user(user=request.user, pk=pk)
        except DataAccessDenied as error:
            return _refused(error)
        return Response(CohortOut(cohort).data)


class CohortVersion(APIView):
    @extend_schema(
        request=None, responses={201: CohortOut, **_ERRORS}, summary="Re-run a cohort on the current release"
    )
    def post(self, request: Request, pk: int) -> Response:
        try:
            cohort = selectors.cohort_get_for_user(user=request.user, pk=pk)
            newer = services.cohort_new_version(by=request.user, cohort=cohort)
        except (services.CohortError, DataAccessDenied) as error:
            return _refused(error)
        return Response(CohortOut(newer).data, status=status.HTTP_201_CREATED)
