"""The airlock API (``/api/v1/outputs/``): the whole journey, as the pages offer
it: requests, files, checks, votes, reviews, decisions, the queue, the ledger,
and the download of a released file (to its author) and of its disclosure
record. Same selectors and services as the pages; a request a caller may not
see is 404; errors in the one shape (``accounts.api_errors``)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_errors import error_body, error_responses
from airlock import selectors, services
from airlock.models import CommentVisibility, OutputRequest, VoteChoice
from airlock.permissions import NotAllowed, TransitionNotAllowed, is_checker, user_can_check_request
from airlock.views import CONTENT_TYPES
from domains.decorators import data_access_status
from domains.permissions import DataAccessDenied
from domains.selectors import project_get_for_data_access

_ERRORS = error_responses(400, 403, 404, 409)


def _refused(error: Exception) -> Response:
    if isinstance(error, services.SubmissionIncomplete):
        return Response(error_body(str(error), error.problems), status=400)
    if isinstance(error, services.AirlockError):
        return Response(error_body(str(error), {error.field: [str(error)]} if error.field else None), status=400)
    if isinstance(error, DataAccessDenied):
        return Response(error_body(str(error)), status=data_access_status(error))
    if isinstance(error, TransitionNotAllowed):
        return Response(error_body(str(error)), status=409)
    if isinstance(error, NotAllowed):
        return Response(error_body(str(error)), status=403)
    raise error


REFUSALS = (services.AirlockError, NotAllowed, TransitionNotAllowed)


# --- shapes -------------------------------------------------------------------------------------


class OutputCheckOut(serializers.Serializer):
    rule = serializers.CharField()
    version = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=["pass", "fail", "needs_review", "not_applicable"])
    reasons = serializers.ListField(child=serializers.CharField())
    settings = serializers.DictField()


class OutputVoteOut(serializers.Serializer):
    reviewer = serializers.EmailField(allow_null=True, help_text="Shown to checkers only.")
    choice = serializers.CharField()
    comment = serializers.CharField()
    public = serializers.BooleanField()
    at = serializers.DateTimeField()
    own = serializers.BooleanField()


class OutputFileOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    format = serializers.CharField()
    artifact = serializers.IntegerField()
    job = serializers.IntegerField()
    sha256 = serializers.CharField()
    size_bytes = serializers.IntegerField()
    rows = serializers.IntegerField(allow_null=True)
    context = serializers.CharField()
    controls = serializers.CharField()
    justification = serializers.CharField()
    check_status = serializers.CharField()
    checks = OutputCheckOut(many=True)
    decision = serializers.CharField(allow_null=True, help_text="Null while the reviews are blind to you.")
    frozen_sha256 = serializers.CharField(help_text="Set at approval: what may leave.")
    votes = OutputVoteOut(many=True, help_text="Your own; others' once two reviews are in (checkers).")


class OutputRequestOut(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.IntegerField()
    title = serializers.CharField()
    author = serializers.EmailField()
    status = serializers.CharField()
    round = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    status_changed_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    decision_comment = serializers.CharField()
    reviews_this_round = serializers.IntegerField()
    files = OutputFileOut(many=True)


def request_json(request: Request, output: OutputRequest) -> dict[str, Any]:
    views = selectors.file_views(user=request.user, request=output, render=False)
    checker = user_can_check_request(request.user, output)
    return {
        "id": output.pk, "project": output.project_id, "title": output.title, "author": output.author.email,
        "status": output.status, "round": output.round, "created_at": output.created_at,
        "status_changed_at": output.status_changed_at, "submitted_at": output.submitted_at,
        "decision_comment": output.decision_comment, "reviews_this_round": len(selectors.reviews_of(output)),
        "files": [
            {"id": v.file.pk, "name": v.file.name, "format": v.file.format, "artifact": v.file.artifact_id,
             "job": v.file.artifact.job_id, "sha256": v.file.sha256, "size_bytes": v.file.size_bytes,
             "rows": v.file.n_rows, "context": v.file.context, "controls": v.file.controls,
             "justification": v.file.justification, "check_status": v.file.check_status, "checks": v.checks,
             "decision": v.file.decision if v.decision_visible else None, "frozen_sha256": v.file.frozen_sha256,
             "votes": [{"reviewer": vote.reviewer.email if checker and vote.reviewer else None,
                        "choice": vote.choice, "comment": vote.comment, "public": vote.public, "at": vote.at,
                        "own": vote.own} for vote in v.votes]}
            for v in views
        ],
    }  # fmt: skip


class OutputRequestIn(serializers.Serializer):
    project = serializers.IntegerField(help_text="A project whose data you may reach.")
    title = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)


class OutputFileIn(serializers.Serializer):
    artifact = serializers.IntegerField(help_text="A result of one of the project's finished jobs (its id).")
    format = serializers.CharField(required=False, default="", allow_blank=True, max_length=4,
                                   help_text="Tables leave as csv; plots as png (default), svg or pdf.")  # fmt: skip
    context = serializers.CharField(required=False, default="", allow_blank=True)
    controls = serializers.CharField(required=False, default="", allow_blank=True)


class OutputFileEditIn(serializers.Serializer):
    context = serializers.CharField(required=False, allow_blank=True)
    controls = serializers.CharField(required=False, allow_blank=True)
    justification = serializers.CharField(required=False, allow_blank=True)


class OutputFileReplaceIn(serializers.Serializer):
    artifact = serializers.IntegerField()
    format = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=4,
        help_text="Tables leave as csv; plots as png (default), svg or pdf.",
    )


class OutputVoteIn(serializers.Serializer):
    choice = serializers.ChoiceField(choices=VoteChoice.choices)
    comment = serializers.CharField(required=False, default="", allow_blank=True)
    visibility = serializers.ChoiceField(choices=CommentVisibility.choices, default=CommentVisibility.PRIVATE)


class OutputDecisionIn(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "return", "reject"])
    comment = serializers.CharField(required=False, default="", allow_blank=True)


class OutputQueueOut(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.CharField()
    status = serializers.CharField()
    files = serializers.IntegerField()
    age_seconds = serializers.IntegerField()
    waiting_seconds = serializers.IntegerField()
    reviews_this_round = serializers.IntegerField()
    reviewed_by_me = serializers.BooleanField()


class OutputLedgerOut(serializers.Serializer):
    request = serializers.IntegerField()
    project = serializers.IntegerField()
    released_at = serializers.DateTimeField()
    files = serializers.ListField(child=serializers.DictField())
    record_sha256 = serializers.CharField()
    record = serializers.DictField(help_text="The machine-readable disclosure record.")


class OutputListQuery(serializers.Serializer):
    project = serializers.IntegerField(required=False, help_text="Only this project's requests.")


class OutputQueueQuery(serializers.Serializer):
    show = serializers.ChoiceField(
        choices=list(selectors.QUEUE_FILTERS),
        required=False,
        allow_blank=True,
        help_text="Which states: waiting (the default, also when empty), one state, decided, or all.",
    )
    mine = serializers.ChoiceField(
        choices=["todo", "done"],
        required=False,
        allow_blank=True,
        help_text="Only requests you have not reviewed this round (todo) or have (done); empty for either.",
    )


class OutputLedgerQuery(serializers.Serializer):
    project = serializers.IntegerField(help_text="The project whose released outputs to list.")


# --- operations ---------------------------------------------------------------------------------


def _output(request: Request, pk: int) -> OutputRequest:
    return selectors.request_get_for_user(user=request.user, pk=pk)


def _detail(request: Request, pk: int) -> Response:
    return Response(request_json(request, _output(request, pk)))


class RequestListCreate(APIView):
    @extend_schema(parameters=[OutputListQuery],
                   responses={200: OutputRequestOut(many=True), **error_responses(400)},
                   summary="Output requests you made or of your projects")  # fmt: skip
    def get(self, request: Request) -> Response:
        query = OutputListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        outputs = selectors.requests_of_user(user=request.user)
        if "project" in query.validated_data:
            outputs = outputs.filter(project_id=query.validated_data["project"])
        return Response([request_json(request, o) for o in outputs[:200]])

    @extend_schema(
        request=OutputRequestIn, responses={201: OutputRequestOut, **_ERRORS}, summary="Start an output request"
    )
    def post(self, request: Request) -> Response:
        data = OutputRequestIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            project = project_get_for_data_access(user=request.user, pk=data.validated_data["project"])
            output = services.request_create(by=request.user, project=project, title=data.validated_data["title"])
        except (*REFUSALS, DataAccessDenied) as error:
            return _refused(error)
        return Response(request_json(request, _output(request, output.pk)), status=201)


class RequestDetail(APIView):
    @extend_schema(responses={200: OutputRequestOut, **_ERRORS}, summary="One output request: files, checks, votes")
    def get(self, request: Request, pk: int) -> Response:
        return _detail(request, pk)


class FileAdd(APIView):
    @extend_schema(
        request=OutputFileIn, responses={201: OutputRequestOut, **_ERRORS}, summary="Add a result to the request"
    )
    def post(self, request: Request, pk: int) -> Response:
        output = _output(request, pk)
        data = OutputFileIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            artifact = selectors.artifact_for_request(request=output, pk=data.validated_data["artifact"])
        except Http404:
            return Response(error_body("There is no such result of this project.", {"artifact": ["Not found."]}), 400)
        try:
            services.request_file_add(by=request.user, request=output, artifact=artifact,
                                      **{k: data.validated_data[k] for k in ("format", "context", "controls")},
            )  # fmt: skip
        except REFUSALS as error:
            return _refused(error)
        return Response(request_json(request, _output(request, pk)), status=201)


class FileDetail(APIView):
    @extend_schema(request=OutputFileEditIn, responses={200: OutputRequestOut, **_ERRORS},
                   summary="Change the context, controls or justification of a file")  # fmt: skip
    def patch(self, request: Request, pk: int, file_pk: int) -> Response:
        output = _output(request, pk)
        file = selectors.file_get(request=output, pk=file_pk)
        data = OutputFileEditIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.request_file_update(by=request.user, file=file, **data.validated_data)
        except REFUSALS as error:
            return _refused(error)
        return _detail(request, pk)

    @extend_schema(request=None, responses={200: OutputRequestOut, **_ERRORS}, summary="Remove a file from the request")
    def delete(self, request: Request, pk: int, file_pk: int) -> Response:
        output = _output(request, pk)
        file = selectors.file_get(request=output, pk=file_pk)
        try:
            services.request_file_remove(by=request.user, file=file)
        except REFUSALS as error:
            return _refused(error)
        return _detail(request, pk)


class FileReplace(APIView):
    @extend_schema(request=OutputFileReplaceIn, responses={200: OutputRequestOut, **_ERRORS},
                   summary="Replace a file's content (its votes are reset)")  # fmt: skip
    def post(self, request: Request, pk: int, file_pk: int) -> Response:
        output = _output(request, pk)
        file = selectors.file_get(request=output, pk=file_pk)
        data = OutputFileReplaceIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            artifact = selectors.artifact_for_request(request=output, pk=data.validated_data["artifact"])
        except Http404:
            return Response(error_body("There is no such result of this project.", {"artifact": ["Not found."]}), 400)
        try:
            services.request_file_replace(by=request.user, file=file, artifact=artifact,
                                          format=data.validated_data["format"])  # fmt: skip
        except REFUSALS as error:
            return _refused(error)
        return _detail(request, pk)


class Checks(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, **_ERRORS},
                   summary="The automated checks of each file, and the rules with their versions")  # fmt: skip
    def get(self, request: Request, pk: int) -> Response:
        from disclosure.checks import RULES

        output = _output(request, pk)
        return Response({
            "rules": [{"id": r.id, "version": r.version, "title": r.title, "description": r.description}
                      for r in RULES],
            "files": {f.name: {"status": f.check_status, "checked_at": f.checked_at, "checks": f.checks}
                      for f in output.files.all()},
        })  # fmt: skip


def _action(fn):
    class Action(APIView):
        @extend_schema(request=None, responses={200: OutputRequestOut, **_ERRORS}, summary=fn.__doc__)
        def post(self, request: Request, pk: int) -> Response:
            try:
                fn(request, _output(request, pk))
            except (*REFUSALS, DataAccessDenied) as error:
                return _refused(error)
            return _detail(request, pk)

    Action.__name__ = fn.__name__
    return Action


@_action
def Submit(request: Request, output: OutputRequest) -> None:
    """Submit (or resubmit) the request"""
    services.request_submit(by=request.user, request=output)


@_action
def Withdraw(request: Request, output: OutputRequest) -> None:
    """Withdraw the request"""
    services.request_withdraw(by=request.user, request=output)


@_action
def ReviewSubmit(request: Request, output: OutputRequest) -> None:
    """Submit your review of this round (output checkers)"""
    services.review_submit(by=request.user, request=output)


class VoteCast(APIView):
    @extend_schema(
        request=OutputVoteIn, responses={200: OutputRequestOut, **_ERRORS}, summary="Vote on a file (output checkers)"
    )
    def post(self, request: Request, pk: int, file_pk: int) -> Response:
        output = _output(request, pk)
        file = selectors.file_get(request=output, pk=file_pk)
        data = OutputVoteIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.vote_cast(by=request.user, file=file, **data.validated_data)
        except REFUSALS as error:
            return _refused(error)
        return _detail(request, pk)


class Decide(APIView):
    @extend_schema(request=OutputDecisionIn, responses={200: OutputRequestOut, **_ERRORS},
                   summary="Approve, return or reject a reviewed request (output checkers)")  # fmt: skip
    def post(self, request: Request, pk: int) -> Response:
        output = _output(request, pk)
        data = OutputDecisionIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.request_decide(by=request.user, request=output, **data.validated_data)
        except REFUSALS as error:
            return _refused(error)
        return _detail(request, pk)


class Queue(APIView):
    @extend_schema(parameters=[OutputQueueQuery],
                   responses={200: OutputQueueOut(many=True), **_ERRORS},
                   summary="The output checkers' queue")  # fmt: skip
    def get(self, request: Request) -> Response:
        if not is_checker(request.user):
            return Response(error_body("Only output checkers have a review queue."), status=403)
        query = OutputQueueQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.review_queue(user=request.user, show=query.validated_data.get("show") or "waiting",
                                      mine=query.validated_data.get("mine", ""))  # fmt: skip
        return Response([
            {"id": r.request.pk, "project": r.request.project.title, "status": r.request.status,
             "files": getattr(r.request, "n_files", 0), "age_seconds": int(r.age.total_seconds()),
             "waiting_seconds": int(r.waiting.total_seconds()), "reviews_this_round": r.reviews,
             "reviewed_by_me": r.mine}
            for r in rows
        ])  # fmt: skip


class Ledger(APIView):
    @extend_schema(parameters=[OutputLedgerQuery],
                   responses={200: OutputLedgerOut(many=True), **_ERRORS},
                   summary="A project's released outputs")  # fmt: skip
    def get(self, request: Request) -> Response:
        query = OutputLedgerQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            project = project_get_for_data_access(user=request.user, pk=query.validated_data["project"])
        except DataAccessDenied as error:
            return _refused(error)
        return Response([
            {"request": r.request_id, "project": r.project_id, "released_at": r.released_at,
             "files": [{"id": f.pk, "name": f.name, "sha256": f.frozen_sha256, "size_bytes": f.size_bytes}
                       for f in r.request.files.all()],
             "record_sha256": r.record_sha256, "record": r.record}
            for r in selectors.releases_for_project(project=project)
        ])  # fmt: skip


_BYTES = {200: OpenApiResponse(OpenApiTypes.BINARY, description="The file, as frozen at approval."), **_ERRORS}


class Download(APIView):
    @extend_schema(responses=_BYTES, summary="Download a released file (its author only; SHA-256 checked; audited)")
    def get(self, request: Request, pk: int, file_pk: int) -> Response | HttpResponse:
        output = _output(request, pk)
        file = selectors.file_get(request=output, pk=file_pk)
        try:
            data = services.file_download(by=request.user, file=file)
        except (*REFUSALS, DataAccessDenied) as error:
            return _refused(error)
        response = HttpResponse(data, content_type=CONTENT_TYPES[file.format])
        response["Content-Disposition"] = f'attachment; filename="{file.name}"'
        return response


class RecordDownload(APIView):
    @extend_schema(responses=_BYTES, summary="Download a release's disclosure record (its author; audited)")
    def get(self, request: Request, pk: int) -> Response | HttpResponse:
        output = _output(request, pk)
        try:
            data = services.record_download(by=request.user, request=output)
        except (*REFUSALS, DataAccessDenied) as error:
            return _refused(error)
        response = HttpResponse(data, content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="disclosure-record-{output.pk}.json"'
        return response
