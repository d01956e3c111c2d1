"""The jobs API (``/api/v1/jobs/``): submit, list, get, cancel, retry, the
artifacts of a job with their metadata, and a table's rows as paginated JSON.
Never a file's bytes. Same selectors and services as the pages; objects a
caller may not see are 404."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_errors import error_body, error_responses
from analysis import selectors, services
from analysis.artifacts import Filter
from analysis.jobtype import JobError, ParameterError
from analysis.models import ArtifactKind
from analysis.policies import TransitionNotAllowed
from analysis.registry import job_types
from analysis.serializers import (
    ArtifactOut,
    EstimateOut,
    JobIn,
    JobListQuery,
    JobOut,
    JobTypeOut,
    RowsOut,
    RowsQuery,
    estimate_json,
)
from audit.models import AuditAction
from audit.services import record
from cohorts.selectors import cohort_get_for_user
from domains.decorators import data_access_status
from domains.permissions import DataAccessDenied, NotAllowed
from domains.selectors import project_get_for_data_access

_ERRORS = error_responses(400, 403, 404, 409)


def _refused(error: Exception) -> Response:
    if isinstance(error, ParameterError):
        return Response(
            error_body("Invalid parameters.", {k or "request": v for k, v in error.errors.items()}),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(error, JobError):
        return Response(error_body(str(error)), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(error, DataAccessDenied):
        return Response(error_body(str(error)), status=data_access_status(error))
    if isinstance(error, TransitionNotAllowed):
        return Response(error_body(str(error)), status=status.HTTP_409_CONFLICT)
    if isinstance(error, NotAllowed):
        return Response(error_body(str(error)), status=status.HTTP_403_FORBIDDEN)
    raise error


def _job(request: Request, pk: int):
    return selectors.job_get_for_user(user=request.user, pk=pk)


def _inputs(request: Request, data: dict[str, Any]) -> list[tuple[str, Any]]:
    inputs = []
    for item in data["cohorts"]:
        try:
            cohort = cohort_get_for_user(user=request.user, pk=item["cohort"])
        except (Http404, DataAccessDenied):
            raise JobError(f"There is no cohort {item['cohort']} you can use.") from None
        inputs.append((item["role"], cohort))
    return inputs


class JobTypeList(APIView):
    @extend_schema(responses={200: JobTypeOut(many=True)}, summary="The analyses you can run, with their parameters")
    def get(self, request: Request) -> Response:
        return Response(JobTypeOut(list(job_types().values()), many=True).data)


class JobListCreate(APIView):
    @extend_schema(
        parameters=[JobListQuery], responses={200: JobOut(many=True), **error_responses(400)},
        summary="Jobs of your projects (by project, status)",
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        query = JobListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        jobs = selectors.jobs_for_user(user=request.user, status=query.validated_data.get("status", ""))
        if "project" in query.validated_data:
            jobs = jobs.filter(project_id=query.validated_data["project"])
        return Response(JobOut(jobs[:500], many=True).data)

    @extend_schema(request=JobIn, responses={201: JobOut, **_ERRORS}, summary="Submit a job")
    def post(self, request: Request) -> Response:
        data = JobIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            project = project_get_for_data_access(user=request.user, pk=data.validated_data["project"])
            job = services.job_submit(
                by=request.user, project=project, job_type=data.validated_data["job_type"],
                inputs=_inputs(request, data.validated_data), parameters=data.validated_data["parameters"],
            )  # fmt: skip
        except (JobError, DataAccessDenied) as error:
            return _refused(error)
        return Response(JobOut(selectors.job_get_for_user(user=request.user, pk=job.pk)).data, status=201)


class JobEstimate(APIView):
    @extend_schema(request=JobIn, responses={200: EstimateOut, **_ERRORS}, summary="What a job would read and cost")
    def post(self, request: Request) -> Response:
        data = JobIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            project = project_get_for_data_access(user=request.user, pk=data.validated_data["project"])
            _, _, _, estimate = services.job_estimate(
                by=request.user, project=project, job_type=data.validated_data["job_type"],
                inputs=_inputs(request, data.validated_data), parameters=data.validated_data["parameters"],
            )  # fmt: skip
        except (JobError, DataAccessDenied) as error:
            return _refused(error)
        return Response(estimate_json(estimate.as_json()))


class JobDetail(APIView):
    @extend_schema(responses={200: JobOut, **_ERRORS}, summary="One job: status, progress, inputs, provenance")
    def get(self, request: Request, pk: int) -> Response:
        try:
            job = _job(request, pk)
        except DataAccessDenied as error:
            return _refused(error)
        return Response(JobOut(job).data)


class JobCancel(APIView):
    @extend_schema(request=None, responses={200: JobOut, **_ERRORS}, summary="Cancel a job")
    def post(self, request: Request, pk: int) -> Response:
        try:
            job = services.job_cancel(by=request.user, job=_job(request, pk))
        except (DataAccessDenied, NotAllowed, TransitionNotAllowed) as error:
            return _refused(error)
        return Response(JobOut(_job(request, job.pk)).data)


class JobRetry(APIView):
    @extend_schema(request=None, responses={200: JobOut, **_ERRORS}, summary="Retry a failed job")
    def post(self, request: Request, pk: int) -> Response:
        try:
            job = services.job_retry(by=request.user, job=_job(request, pk))
        except (DataAccessDenied, NotAllowed, TransitionNotAllowed) as error:
            return _refused(error)
        return Response(JobOut(_job(request, job.pk)).data)


class ArtifactList(APIView):
    @extend_schema(responses={200: ArtifactOut(many=True), **_ERRORS}, summary="A job's results and their metadata")
    def get(self, request: Request, pk: int) -> Response:
        try:
            job = _job(request, pk)
        except DataAccessDenied as error:
            return _refused(error)
        artifacts = (
            job.artifacts.select_related("source").prefetch_related("files") if job.status == "succeeded" else []
        )
        return Response(ArtifactOut(artifacts, many=True).data)


class ArtifactRows(APIView):
    @extend_schema(
        parameters=[RowsQuery, OpenApiParameter("f_<column>", str, description="Filter: text contains, or number at "
                                                "least (one per column).")],
        responses={200: RowsOut, **_ERRORS}, summary="Rows of a table result, paginated, sorted and filtered",
    )  # fmt: skip
    def get(self, request: Request, pk: int, key: str) -> Response:
        try:
            job = _job(request, pk)
        except DataAccessDenied as error:
            return _refused(error)
        artifact = selectors.artifact_get(job=job, key=key, kind=ArtifactKind.TABLE)
        query = RowsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        names = {c["name"]: c for c in artifact.columns}
        q = query.validated_data
        if q["sort"] and q["sort"] not in names:
            return Response(error_body(f"There is no column {q['sort']!r} to sort on."), status=400)
        filters = []
        for name, column in names.items():
            value = request.query_params.get(f"f_{name}", "").strip()
            if not value:
                continue
            if column["type"] == "string":
                filters.append(Filter(name, "contains", value))
                continue
            try:
                filters.append(Filter(name, "min", float(value)))
            except ValueError:
                return Response(error_body(f"The filter on {name} needs a number."), status=400)
        page = selectors.table_page(
            artifact, page=q["page"], page_size=q["page_size"], sort=q["sort"], descending=q["order"] == "desc",
            filters=filters,
        )  # fmt: skip
        record(
            action=AuditAction.JOB_RESULT_VIEWED, by=request.user, target=job,
            details={"table": key, "page": page.page, "sort": q["sort"], "filters": [f.column for f in filters],
                     "via": "api"},
        )  # fmt: skip
        return Response(
            {"count": page.total, "page": page.page, "pages": page.pages, "page_size": page.page_size,
             "columns": artifact.columns, "results": page.rows}
        )  # fmt: skip
