"""Pages for analysis jobs. Each view fetches through a selector (404 for
what the user may not see, an explanation for lapsed access), writes through
a service, and turns domain exceptions into responses here. No view returns a
result file: tables are rendered page by page, plots inline as SVG."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.requests import PortalRequest
from analysis import selectors, services
from analysis.artifacts import Filter
from analysis.forms import InputsForm, StatusFilterForm
from analysis.jobtype import JobError, JobType, ParameterError
from analysis.models import AnalysisJob, ArtifactKind
from analysis.permissions import user_can_cancel_job, user_can_retry_job
from analysis.policies import TransitionNotAllowed
from analysis.registry import job_type_or_404
from audit.models import AuditAction
from audit.services import record
from cohorts.selectors import cohort_get_for_user, cohorts_for_project
from domains.decorators import data_access_refused_response, requires_project_data_access
from domains.models import Project
from domains.permissions import DataAccessDenied, is_project_member, user_can_access_project_data
from participants.selectors import release_current

PAGE_SIZE = 25


def _job_or_refusal(request: PortalRequest, pk: int) -> AnalysisJob | HttpResponse:
    try:
        return selectors.job_get_for_user(user=request.user, pk=pk)
    except DataAccessDenied as error:
        assert error.project is not None
        return data_access_refused_response(request, error.project, error)


# --- running an analysis ---------------------------------------------------------------------


def _forms(request: PortalRequest, project: Project, jobtype: JobType) -> tuple[InputsForm, Any, Any]:
    cohorts = cohorts_for_project(project=project)
    data = request.POST if request.method == "POST" else None
    initial: dict[str, Any] = {}
    chosen = request.GET.get("cohort", "")
    if chosen.isdigit() and cohorts.filter(pk=int(chosen)).exists():
        initial = {f"role_{jobtype.roles[0].role}": [int(chosen)]}
    inputs = InputsForm(data, jobtype=jobtype, cohorts=cohorts, initial=initial)
    release = release_current()
    parameters = jobtype.form_class(data, release=release, prefix="p") if release else None
    return inputs, parameters, release


def _context(project: Project, jobtype: JobType, inputs: InputsForm, parameters: Any, **extra: Any) -> dict:
    return {"project": project, "jobtype": jobtype, "inputs_form": inputs, "parameters_form": parameters, **extra}


@never_cache
@require_http_methods(["GET", "POST"])
@requires_project_data_access
def job_new(request: PortalRequest, project: Project) -> HttpResponse:
    """Choose an analysis, its cohorts and parameters, see the estimate, submit."""
    slug = request.POST.get("type") or request.GET.get("type", "")
    if not slug:
        context = {"project": project, "jobtypes": selectors.usable_job_types(), "cohort": request.GET.get("cohort")}
        return render(request, "analysis/choose.html", context)
    jobtype = job_type_or_404(slug)
    inputs, parameters, release = _forms(request, project, jobtype)
    status = 200
    if request.method == "POST":
        status = 400
        if parameters is None:
            inputs.add_error(None, "No data release is loaded yet, so there is nothing to analyse.")
        elif inputs.is_valid() and parameters.is_valid():
            try:
                job = services.job_submit(
                    by=request.user, project=project, job_type=jobtype.slug, inputs=inputs.inputs(),
                    parameters=parameters.cleaned_data,
                )  # fmt: skip
            except ParameterError as error:
                for name, errors in error.errors.items():
                    for message in errors:
                        parameters.add_error(name if name in parameters.fields else None, message)
            except JobError as error:
                inputs.add_error(None, str(error))
            else:
                messages.success(request, f"{jobtype.title} queued as job {job.pk}.")
                return redirect("analysis:job", pk=job.pk)
    return render(request, "analysis/new.html", _context(project, jobtype, inputs, parameters), status=status)


@never_cache
@require_POST
@requires_project_data_access
def job_estimate(request: PortalRequest, project: Project) -> HttpResponse:
    """The estimate panel (htmx): what the job would read, time and memory. Writes nothing."""
    jobtype = job_type_or_404(request.POST.get("type", ""))
    inputs, parameters, _ = _forms(request, project, jobtype)
    context: dict[str, Any] = {"jobtype": jobtype}
    if parameters is None:
        context["problems"] = ["No data release is loaded yet."]
    elif not inputs.is_valid() or not parameters.is_valid():
        # Say what is missing, in the panel (the fields say it too once the form is sent).
        both = [*inputs.errors.values(), *parameters.errors.values()]
        context["problems"] = [str(m) for messages in both for m in messages] or [
            "Fill in the form to see an estimate."
        ]
        context["incomplete"] = True
    else:
        try:
            _, _, _, estimate = services.job_estimate(
                by=request.user, project=project, job_type=jobtype.slug, inputs=inputs.inputs(),
                parameters=parameters.cleaned_data,
            )  # fmt: skip
        except JobError as error:
            context["problems"] = [str(error)]
        else:
            context["estimate"] = selectors.estimate_view(estimate.as_json())
    # htmx swaps only successful answers: the panel explains a problem in a 200.
    return render(request, "analysis/_estimate.html", context)


@never_cache
@require_GET
def job_from_cohort(request: PortalRequest, pk: int) -> HttpResponse:
    """ "Run an analysis" on a saved cohort: through a project the user may use it in."""
    try:
        cohort = cohort_get_for_user(user=request.user, pk=pk)
    except DataAccessDenied as error:
        project = error.project
        if project is None:
            raise Http404 from None
        return data_access_refused_response(request, project, error)
    via = [cohort.project, *[s.project for s in cohort.shares.select_related("project__domain")]]
    usable = [p for p in via if is_project_member(request.user, p) and user_can_access_project_data(request.user, p)]
    if not usable:
        raise Http404
    return redirect(reverse("analysis:new", args=[usable[0].pk]) + f"?cohort={cohort.pk}")


# --- lists -----------------------------------------------------------------------------------


@never_cache
@require_GET
@requires_project_data_access
def project_jobs(request: PortalRequest, project: Project) -> HttpResponse:
    form = StatusFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_bound and form.is_valid() else ""
    jobs = list(selectors.jobs_for_project(project=project, status=status))
    return render(request, "analysis/jobs.html", {"project": project, "jobs": jobs, "form": form})


@never_cache
@require_GET
def my_jobs(request: PortalRequest) -> HttpResponse:
    form = StatusFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_bound and form.is_valid() else ""
    jobs = list(selectors.jobs_for_user(user=request.user, status=status))
    projects = selectors.projects_with_data_access(user=request.user)
    return render(request, "analysis/my_jobs.html", {"jobs": jobs, "form": form, "projects": projects})


@never_cache
@require_GET
def job_row(request: PortalRequest, pk: int) -> HttpResponse:
    """One job's progress (htmx poll of lists and the dashboard): not audited, polling stops when it ends."""
    job = _job_or_refusal(request, pk)
    if isinstance(job, HttpResponse):
        return job
    template = "analysis/_job_card.html" if request.GET.get("compact") else "analysis/_job_row.html"
    return render(request, template, {"job": job, "silent": selectors.silent_seconds(job)})


# --- one job --------------------------------------------------------------------------------


def _job_context(request: PortalRequest, job: AnalysisJob) -> dict[str, Any]:
    jobtype = job_type_or_404(job.job_type)
    return {
        "job": job,
        "jobtype": jobtype,
        "inputs": selectors.job_inputs(job),
        "parameters": jobtype.describe_parameters(job.parameters),
        "estimate": selectors.estimate_view(job.estimate),
        "silent": selectors.silent_seconds(job),
        "deadline": selectors.heartbeat_deadline(job),
        "can_cancel": user_can_cancel_job(request.user, job),
        "can_retry": user_can_retry_job(request.user, job),
        "ran_seconds": (job.finished_at - job.started_at).total_seconds()
        if job.started_at and job.finished_at
        else None,
    }


@never_cache
@require_GET
def job_detail(request: PortalRequest, pk: int) -> HttpResponse:
    """The job page: status, progress, inputs, parameters, provenance, log and results. Audited once per view."""
    job = _job_or_refusal(request, pk)
    if isinstance(job, HttpResponse):
        return job
    context = _job_context(request, job)
    artifacts = selectors.job_artifacts(job)
    tables = {}
    for view in artifacts:
        if view.artifact.kind == ArtifactKind.TABLE:
            tables[view.artifact.key] = selectors.table_page(view.artifact, page_size=PAGE_SIZE)
    context.update(
        artifacts=artifacts,
        tables=tables,
        log=list(job.log_entries.all()),
        blocks=list(job.blocks.filter(attempt=job.attempts)) if job.blocks_total else [],
    )
    record(
        action=AuditAction.JOB_RESULT_VIEWED, by=request.user, target=job,
        details={"results": [a.artifact.key for a in artifacts]},
    )  # fmt: skip
    return render(request, "analysis/detail.html", context)


@never_cache
@require_GET
@vary_on_headers("HX-Request")
def job_progress(request: PortalRequest, pk: int) -> HttpResponse:
    """The job page's progress panel (htmx poll, not audited). When the job has
    ended, the page reloads once to show its results."""
    job = _job_or_refusal(request, pk)
    if isinstance(job, HttpResponse):
        return job
    response = render(request, "analysis/_progress.html", _job_context(request, job))
    if request.htmx and not job.is_active and request.GET.get("was") == "active":
        response["HX-Refresh"] = "true"
    return response


@require_POST
def job_cancel(request: PortalRequest, pk: int) -> HttpResponse:
    job = _job_or_refusal(request, pk)
    if isinstance(job, HttpResponse):
        return job
    try:
        job = services.job_cancel(by=request.user, job=job)
    except DataAccessDenied as error:
        return data_access_refused_response(request, job.project, error)
    except TransitionNotAllowed as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, "Cancelled." if job.status == "cancelled" else "Cancel asked for: the job stops at its next block."
        )
    return redirect("analysis:job", pk=job.pk)


@require_POST
def job_retry(request: PortalRequest, pk: int) -> HttpResponse:
    job = _job_or_refusal(request, pk)
    if isinstance(job, HttpResponse):
        return job
    try:
        job = services.job_retry(by=request.user, job=job)
    except DataAccessDenied as error:
        return data_access_refused_response(request, job.project, error)
    except TransitionNotAllowed as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Queued again with the same inputs and parameters.")
    return redirect("analysis:job", pk=job.pk)


def table_request(request: PortalRequest, artifact: Any) -> dict[str, Any]:
    """Page, sort and filters of a table from the query string (unknown columns are ignored)."""
    names = {c["name"]: c for c in artifact.columns}
    sort = request.GET.get("sort", "")
    sort = sort if sort in names else ""
    filters = []
    for name, column in names.items():
        value = request.GET.get(f"f_{name}", "").strip()
        if not value:
            continue
        if column["type"] == "string":
            filters.append(Filter(name, "contains", value))
        else:
            try:
                number = float(value)
            except ValueError:
                continue
            filters.append(Filter(name, "min", number))
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    return {"page": page, "sort": sort, "descending": request.GET.get("order") == "desc", "filters": filters}


@never_cache
@require_GET
@vary_on_headers("HX-Request")
def job_table(request: PortalRequest, pk: int, key: str) -> HttpResponse:
    """A page of a result table, sorted and filtered on the server (htmx partial, or a page). Audited."""
    job = _job_or_refusal(request, pk)
    if isinstance(job, HttpResponse):
        return job
    artifact = selectors.artifact_get(job=job, key=key, kind=ArtifactKind.TABLE)
    asked = table_request(request, artifact)
    page = selectors.table_page(artifact, page_size=PAGE_SIZE, **asked)
    record(
        action=AuditAction.JOB_RESULT_VIEWED, by=request.user, target=job,
        details={"table": key, "page": page.page, "sort": asked["sort"],
                 "filters": [f.column for f in asked["filters"]]},
    )  # fmt: skip
    context = {"job": job, "artifact": artifact, "page": page, "asked": asked, "query": request.GET}
    template = "analysis/_table.html" if request.htmx else "analysis/table.html"
    return render(request, template, context)
