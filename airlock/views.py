"""Pages of the airlock. Each view fetches through a selector (404 for what the
user may not see), writes through a service, and turns domain exceptions into
responses here: a refused form is shown again in place (status 400), with
what was typed kept and the reason beside it. The only route that returns a
file's bytes is the download of a released file, to its author."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.requests import PortalRequest
from airlock import selectors, services
from airlock.models import CommentVisibility, OutputRequest, RequestFile, RequestStatus, VoteChoice
from airlock.permissions import (
    NotAllowed,
    TransitionNotAllowed,
    is_checker,
    user_can_act,
    user_can_check_request,
    user_can_create_request,
    user_can_download,
    user_can_edit,
)
from airlock.policies import Action
from analysis.selectors import job_get_for_user
from audit.models import AuditAction
from audit.services import record
from domains.decorators import data_access_refused_response, requires_project_data_access
from domains.models import Project
from domains.permissions import DataAccessDenied

REFUSALS = (services.AirlockError, NotAllowed, TransitionNotAllowed)


def _request(request: PortalRequest, pk: int) -> OutputRequest:
    return selectors.request_get_for_user(user=request.user, pk=pk)


def _status_for(error: Exception) -> int:
    if isinstance(error, DataAccessDenied):
        return 403
    if isinstance(error, NotAllowed):
        return 403
    if isinstance(error, TransitionNotAllowed):
        return 409
    return 400


# --- a project's outputs ------------------------------------------------------------------------


@never_cache
@require_GET
@requires_project_data_access
def project_outputs(request: PortalRequest, project: Project) -> HttpResponse:
    """The project's output requests and its release ledger."""
    context = {
        "project": project,
        "requests": list(selectors.requests_for_project(project=project)),
        "releases": list(selectors.releases_for_project(project=project)),
        "open_request": services.open_request_for(user=request.user, project=project),
        "can_request": user_can_create_request(request.user, project),
    }
    return render(request, "airlock/project_outputs.html", context)


@require_POST
@requires_project_data_access
def request_new(request: PortalRequest, project: Project) -> HttpResponse:
    existing = services.open_request_for(user=request.user, project=project)
    if existing is not None:
        return redirect("airlock:request", pk=existing.pk)
    try:
        created = services.request_create(by=request.user, project=project, title=request.POST.get("title", ""))
    except REFUSALS as error:
        messages.error(request, str(error))
        return redirect("airlock:project-outputs", project_pk=project.pk)
    return redirect("airlock:request", pk=created.pk)


@never_cache
@require_http_methods(["GET", "POST"])
def request_from_job(request: PortalRequest, pk: int) -> HttpResponse:
    """ "Request export" from a job page: choose its results and describe them; they go into
    your open request for the project (made now if there is none)."""
    try:
        job = job_get_for_user(user=request.user, pk=pk)
    except DataAccessDenied as error:
        assert error.project is not None
        return data_access_refused_response(request, error.project, error)
    artifacts = selectors.exportable_artifacts(job=job)
    open_request = services.open_request_for(user=request.user, project=job.project)
    context: dict[str, Any] = {"job": job, "artifacts": artifacts, "open_request": open_request, "posted": {},
                               "can_request": user_can_create_request(request.user, job.project)}  # fmt: skip
    if request.method == "GET":
        return render(request, "airlock/from_job.html", context)
    context["posted"] = request.POST
    chosen = request.POST.get("artifact", "")
    artifact = next((a for a in artifacts if str(a.pk) == chosen), None)
    try:
        if artifact is None:
            raise services.AirlockError("Choose one of the job's results.", field="artifact")
        if open_request is None:
            open_request = services.request_create(by=request.user, project=job.project)
        services.request_file_add(
            by=request.user, request=open_request, artifact=artifact, format=request.POST.get("format", ""),
            context=request.POST.get("context", ""), controls=request.POST.get("controls", ""),
        )  # fmt: skip
    except REFUSALS as error:
        context["error"] = str(error)
        return render(request, "airlock/from_job.html", context, status=_status_for(error))
    messages.success(request, f"“{artifact.title}” was added to output request {open_request.pk}; its checks ran.")
    return redirect("airlock:request", pk=open_request.pk)


# --- one request ------------------------------------------------------------------------------


def _detail_context(request: PortalRequest, output: OutputRequest, **extra: Any) -> dict[str, Any]:
    user = request.user
    return {
        "output": output,
        "files": selectors.file_views(user=user, request=output),
        "provenance": selectors.provenance_of(output),
        "releases": list(selectors.releases_for_project(project=output.project).exclude(request=output)),
        "is_author": output.author_id == user.pk,
        "can_edit": user_can_edit(user, output),
        "can_submit": user_can_act(user, output, Action.SUBMIT) or user_can_act(user, output, Action.RESUBMIT),
        "can_withdraw": user_can_act(user, output, Action.WITHDRAW),
        "can_download": user_can_download(user, output),
        "is_checker": user_can_check_request(user, output),
        "artifacts": selectors.exportable_artifacts_for_project(project=output.project) if user_can_edit(user, output)
        else [],
        "posted": {},
        "errors": {},
        **extra,
    }  # fmt: skip


@never_cache
@require_GET
def request_detail(request: PortalRequest, pk: int) -> HttpResponse:
    output = _request(request, pk)
    if user_can_check_request(request.user, output) and output.author_id != request.user.pk:
        return redirect("airlock:review", pk=output.pk)
    return render(request, "airlock/request.html", _detail_context(request, output))


def _refused(request: PortalRequest, output: OutputRequest, key: str, error: Exception) -> HttpResponse:
    """The page again, in place, with the reason beside the form ``key`` and what was typed kept."""
    output = _request(request, output.pk)
    errors = {key: str(error)}
    if isinstance(error, services.SubmissionIncomplete):
        errors = {key: str(error), **{f"file:{name}": " ".join(m) for name, m in error.problems.items()}}
    if user_can_check_request(request.user, output):
        context = _review_context(request, output, posted=request.POST, errors=errors)
        return render(request, "airlock/review.html", context, status=_status_for(error))
    context = _detail_context(request, output, posted=request.POST, errors=errors)
    return render(request, "airlock/request.html", context, status=_status_for(error))


def _act(request: PortalRequest, output, act, where: str, done: str, then: str = "airlock:request") -> HttpResponse:
    """Do ``act``; a refusal is shown in place at ``where``, success as ``done`` on the ``then`` page."""
    try:
        act()
    except REFUSALS as error:
        return _refused(request, output, where, error)
    messages.success(request, done)
    return redirect(then, pk=output.pk)


def _file(output: OutputRequest, file_pk: int) -> RequestFile:
    return selectors.file_get(request=output, pk=file_pk)


@require_POST
def file_add(request: PortalRequest, pk: int) -> HttpResponse:
    output = _request(request, pk)
    try:
        raw = request.POST.get("artifact", "")
        artifact = selectors.artifact_for_request(request=output, pk=int(raw) if raw.isdigit() else None)
        services.request_file_add(
            by=request.user, request=output, artifact=artifact, format=request.POST.get("format", ""),
            context=request.POST.get("context", ""), controls=request.POST.get("controls", ""),
        )  # fmt: skip
    except Http404:
        return _refused(request, output, "add", services.AirlockError("Choose one of the project's results."))
    except REFUSALS as error:
        return _refused(request, output, "add", error)
    messages.success(request, "File added; its checks ran.")
    return redirect("airlock:request", pk=output.pk)


@require_POST
def file_update(request: PortalRequest, pk: int, file_pk: int) -> HttpResponse:
    output = _request(request, pk)
    file = _file(output, file_pk)
    try:
        services.request_file_update(
            by=request.user, file=file, context=request.POST.get("context"), controls=request.POST.get("controls"),
            justification=request.POST.get("justification"),
        )  # fmt: skip
    except REFUSALS as error:
        return _refused(request, output, f"file:{file.name}", error)
    messages.success(request, f"Saved what you wrote about {file.name}.")
    return redirect("airlock:request", pk=output.pk)


@require_POST
def file_replace(request: PortalRequest, pk: int, file_pk: int) -> HttpResponse:
    output = _request(request, pk)
    file = _file(output, file_pk)
    try:
        raw = request.POST.get("artifact", "")
        artifact = selectors.artifact_for_request(request=output, pk=int(raw) if raw.isdigit() else None)
        services.request_file_replace(by=request.user, file=file, artifact=artifact,
                                      format=request.POST.get("format", ""))  # fmt: skip
    except Http404:
        return _refused(request, output, f"file:{file.name}", services.AirlockError("Choose one of the results."))
    except REFUSALS as error:
        return _refused(request, output, f"file:{file.name}", error)
    messages.success(request, "File changed: its checks ran again and its votes were reset.")
    return redirect("airlock:request", pk=output.pk)


@require_POST
def file_remove(request: PortalRequest, pk: int, file_pk: int) -> HttpResponse:
    output = _request(request, pk)
    file = _file(output, file_pk)
    return _act(
        request,
        output,
        lambda: services.request_file_remove(by=request.user, file=file),
        f"file:{file.name}",
        f"{file.name} removed from the request.",
    )


@require_POST
def request_submit(request: PortalRequest, pk: int) -> HttpResponse:
    output = _request(request, pk)
    return _act(
        request,
        output,
        lambda: services.request_submit(by=request.user, request=output),
        "submit",
        "Submitted: two output checkers will review it.",
    )


@require_POST
def request_withdraw(request: PortalRequest, pk: int) -> HttpResponse:
    output = _request(request, pk)
    return _act(
        request, output, lambda: services.request_withdraw(by=request.user, request=output), "submit", "Withdrawn."
    )


# --- review -----------------------------------------------------------------------------------


def _review_context(request: PortalRequest, output: OutputRequest, **extra: Any) -> dict[str, Any]:
    reviews = selectors.reviews_of(output)
    return {
        **_detail_context(request, output),
        "reviews": reviews,
        "blind": selectors.blind(output),
        "reviewed_by_me": any(r.reviewer_id == request.user.pk for r in reviews),
        "can_review": user_can_act(request.user, output, Action.REVIEW),
        "can_decide": output.status == RequestStatus.REVIEWED
        and any(r.reviewer_id == request.user.pk for r in reviews),
        "choices": [c for c in VoteChoice.choices if c[0] != VoteChoice.UNDECIDED],
        "visibilities": CommentVisibility.choices,
        **extra,
    }  # fmt: skip


@never_cache
@require_GET
def request_review(request: PortalRequest, pk: int) -> HttpResponse:
    """The review page: each file rendered, its checks, the author's context, the
    provenance, the project's earlier releases, and the checker's votes. Audited."""
    output = _request(request, pk)
    if not user_can_check_request(request.user, output):
        raise Http404
    record(action=AuditAction.OUTPUT_REQUEST_VIEWED, by=request.user, target=output, details={"round": output.round})
    return render(request, "airlock/review.html", _review_context(request, output))


@require_POST
def vote(request: PortalRequest, pk: int, file_pk: int) -> HttpResponse:
    output = _request(request, pk)
    file = _file(output, file_pk)
    try:
        services.vote_cast(
            by=request.user, file=file, choice=request.POST.get("choice", ""),
            comment=request.POST.get("comment", ""), visibility=request.POST.get("visibility", "private"),
        )  # fmt: skip
    except REFUSALS as error:
        return _refused(request, output, f"file:{file.name}", error)
    messages.success(request, f"Your vote on {file.name} is saved.")
    return redirect("airlock:review", pk=output.pk)


@require_POST
def review_submit(request: PortalRequest, pk: int) -> HttpResponse:
    output = _request(request, pk)
    return _act(
        request,
        output,
        lambda: services.review_submit(by=request.user, request=output),
        "review",
        "Your review is submitted.",
        then="airlock:review",
    )


@require_POST
def decide(request: PortalRequest, pk: int) -> HttpResponse:
    output = _request(request, pk)
    try:
        services.request_decide(by=request.user, request=output, decision=request.POST.get("decision", ""),
                                comment=request.POST.get("comment", ""))  # fmt: skip
    except REFUSALS as error:
        return _refused(request, output, "decide", error)
    messages.success(request, "Decision recorded.")
    return redirect("airlock:review", pk=output.pk)


@never_cache
@require_GET
def review_queue(request: PortalRequest) -> HttpResponse:
    if not is_checker(request.user):
        raise Http404
    show = request.GET.get("show", "waiting")
    show = show if show in selectors.QUEUE_FILTERS else "waiting"
    mine = request.GET.get("mine", "")
    mine = mine if mine in ("todo", "done") else ""
    rows = selectors.review_queue(user=request.user, show=show, mine=mine)
    context = {"rows": rows, "show": show, "mine": mine, "filters": selectors.QUEUE_FILTERS}
    return render(request, "airlock/queue.html", context)


# --- leaving ----------------------------------------------------------------------------------


def _attachment(data: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


CONTENT_TYPES = {"csv": "text/csv", "png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


@never_cache
@require_GET
def download(request: PortalRequest, pk: int, file_pk: int) -> HttpResponse:
    """A released file, to its author, if its bytes still match the SHA-256 frozen at approval. Audited."""
    output = _request(request, pk)
    file = _file(output, file_pk)
    try:
        data = services.file_download(by=request.user, file=file)
    except DataAccessDenied as error:
        return data_access_refused_response(request, output.project, error)
    except REFUSALS as error:
        return render(request, "airlock/refused.html", {"output": output, "message": str(error)},
                      status=_status_for(error))  # fmt: skip
    return _attachment(data, file.name, CONTENT_TYPES[file.format])


@never_cache
@require_GET
def record_download(request: PortalRequest, pk: int) -> HttpResponse:
    """The release's disclosure record (JSON), to the author with the files. Audited."""
    output = _request(request, pk)
    try:
        data = services.record_download(by=request.user, request=output)
    except DataAccessDenied as error:
        return data_access_refused_response(request, output.project, error)
    except REFUSALS as error:
        return render(request, "airlock/refused.html", {"output": output, "message": str(error)},
                      status=_status_for(error))  # fmt: skip
    return _attachment(data, f"disclosure-record-{output.pk}.json", "application/json")
