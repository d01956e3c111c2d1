"""The API (``/api/v1/``): one view per operation, calling the same selectors
and services as the pages. Objects a caller may not see are 404; visible
objects the caller may not act on are 403; a state that forbids the action is 409."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_errors import error_body, error_responses
from domains import selectors, services
from domains.models import MembershipStatus, ProjectStatus
from domains.permissions import NotAllowed
from domains.policies import TransitionNotAllowed
from domains.serializers import (
    ApplicationIn,
    ApplicationOut,
    DomainOut,
    ProjectIn,
    ProjectOut,
    ReasonIn,
    ReasonRequiredIn,
)

_ERRORS = error_responses(400, 403, 404, 409)


def _run(action: Callable[[], Any], out: type, created: bool = False) -> Response:
    try:
        result = action()
    except TransitionNotAllowed as error:
        return Response(error_body(str(error)), status=status.HTTP_409_CONFLICT)
    except NotAllowed as error:
        return Response(error_body(str(error)), status=status.HTTP_403_FORBIDDEN)
    return Response(out(result).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# --- domains ---------------------------------------------------------------------------------


class DomainList(APIView):
    @extend_schema(responses={200: DomainOut(many=True)}, summary="List research domains and their leads")
    def get(self, request: Request) -> Response:
        return Response(DomainOut(selectors.domain_directory(user=request.user), many=True).data)


# --- applications ---------------------------------------------------------------------------------


class ApplicationListCreate(generics.ListAPIView):
    serializer_class = ApplicationOut

    def get_queryset(self):
        return selectors.applications_of_user(user=self.request.user).select_related("applicant")

    @extend_schema(summary="Your own applications to join domains")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ApplicationIn, responses={201: ApplicationOut, **_ERRORS}, summary="Apply to join a domain")
    def post(self, request: Request) -> Response:
        data = ApplicationIn(data=request.data)
        data.is_valid(raise_exception=True)
        domain = selectors.domain_get(slug=data.validated_data["domain"])
        return _run(
            lambda: services.membership_apply(
                domain=domain, justification=data.validated_data["justification"], by=request.user
            ),
            ApplicationOut,
            created=True,
        )


class ApplicationDetail(APIView):
    @extend_schema(
        responses={200: ApplicationOut, **error_responses(404)},
        summary="One application (yours, or in a domain you lead)",
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ApplicationOut(selectors.application_get_for_user(user=request.user, pk=pk)).data)


class ApplicationWithdraw(APIView):
    @extend_schema(
        request=None, responses={200: ApplicationOut, **_ERRORS}, summary="Withdraw your pending application"
    )
    def post(self, request: Request, pk: int) -> Response:
        application = selectors.application_get_for_user(user=request.user, pk=pk)
        return _run(lambda: services.membership_withdraw(application=application, by=request.user), ApplicationOut)


class ApplicationApprove(APIView):
    @extend_schema(
        request=ReasonIn, responses={200: ApplicationOut, **_ERRORS}, summary="Approve an application (leads)"
    )
    def post(self, request: Request, pk: int) -> Response:
        application = selectors.application_get_for_user(user=request.user, pk=pk)
        data = ReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        return _run(
            lambda: services.membership_approve(
                application=application, by=request.user, reason=data.validated_data["reason"]
            ),
            ApplicationOut,
        )


class ApplicationReject(APIView):
    @extend_schema(
        request=ReasonRequiredIn, responses={200: ApplicationOut, **_ERRORS}, summary="Reject an application (leads)"
    )
    def post(self, request: Request, pk: int) -> Response:
        application = selectors.application_get_for_user(user=request.user, pk=pk)
        data = ReasonRequiredIn(data=request.data)
        data.is_valid(raise_exception=True)
        return _run(
            lambda: services.membership_reject(
                application=application, by=request.user, reason=data.validated_data["reason"]
            ),
            ApplicationOut,
        )


_STATUS_PARAMETER = OpenApiParameter(
    "status", str, description="Only this status; empty for every status. Default: waiting for a decision."
)


class ApplicationReviewList(generics.ListAPIView):
    serializer_class = ApplicationOut

    def get_queryset(self):
        wanted = self.request.query_params.get("status", MembershipStatus.PENDING)
        if wanted and wanted not in MembershipStatus.values:
            raise Http404
        return selectors.applications_for_review(user=self.request.user, status=wanted)

    @extend_schema(parameters=[_STATUS_PARAMETER], summary="Applications to the domains you lead")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


# --- projects -------------------------------------------------------------------------------------


class ProjectListCreate(generics.ListAPIView):
    serializer_class = ProjectOut

    def get_queryset(self):
        return selectors.projects_of_user(user=self.request.user)

    @extend_schema(summary="Your projects (owned or worked on)")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ProjectIn, responses={201: ProjectOut, **_ERRORS}, summary="Register a project in a domain")
    def post(self, request: Request) -> Response:
        data = ProjectIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        domain = selectors.domain_get(slug=fields.pop("domain"))
        return _run(lambda: services.project_register(domain=domain, by=request.user, **fields), ProjectOut, True)


class ProjectDetail(APIView):
    @extend_schema(
        responses={200: ProjectOut, **error_responses(404)}, summary="One project (yours, or in a domain you lead)"
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ProjectOut(selectors.project_get_for_user(user=request.user, pk=pk)).data)


def _project_decision(service: Callable[..., Any], serializer: type, summary: str) -> type[APIView]:
    class Decision(APIView):
        @extend_schema(request=serializer, responses={200: ProjectOut, **_ERRORS}, summary=summary)
        def post(self, request: Request, pk: int) -> Response:
            project = selectors.project_get_for_user(user=request.user, pk=pk)
            data = serializer(data=request.data)
            data.is_valid(raise_exception=True)
            return _run(lambda: service(project=project, by=request.user, **data.validated_data), ProjectOut)

    return Decision


ProjectApprove = _project_decision(services.project_approve, ReasonIn, "Approve a project (leads)")
ProjectReject = _project_decision(services.project_reject, ReasonRequiredIn, "Reject a project (leads)")
ProjectReturn = _project_decision(services.project_return, ReasonRequiredIn, "Return a project for changes (leads)")


class ProjectWithdraw(APIView):
    @extend_schema(request=None, responses={200: ProjectOut, **_ERRORS}, summary="Withdraw your project")
    def post(self, request: Request, pk: int) -> Response:
        project = selectors.project_get_for_user(user=request.user, pk=pk)
        return _run(lambda: services.project_withdraw(project=project, by=request.user), ProjectOut)


class ProjectReviewList(generics.ListAPIView):
    serializer_class = ProjectOut

    def get_queryset(self):
        wanted = self.request.query_params.get("status", ProjectStatus.SUBMITTED)
        if wanted and wanted not in ProjectStatus.values:
            raise Http404
        return selectors.projects_for_review(user=self.request.user, status=wanted)

    @extend_schema(parameters=[_STATUS_PARAMETER], summary="Projects in the domains you lead")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
