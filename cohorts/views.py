from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.requests import PortalRequest
from audit.models import AuditAction
from audit.services import record
from cohorts import selectors, services
from cohorts.criteria import CriteriaError
from cohorts.forms import BuilderForm, SaveForm, ShareForm
from cohorts.models import Cohort
from domains.decorators import data_access_refused_response, requires_project_data_access
from domains.models import Project
from domains.permissions import DataAccessDenied, user_can_access_project_data
from domains.selectors import project_get_for_data_access, projects_of_user
from participants.selectors import release_current


def _cohort_or_refusal(request: PortalRequest, pk: int) -> Cohort | HttpResponse:
    try:
        return selectors.cohort_get_for_user(user=request.user, pk=pk)
    except DataAccessDenied as error:
        cohort = Cohort.objects.select_related("project").get(pk=pk)
        return data_access_refused_response(request, cohort.project, error)


@never_cache
@require_GET
def cohort_list(request: PortalRequest) -> HttpResponse:
    cohorts = list(selectors.cohorts_for_user(user=request.user))
    projects = [p for p in projects_of_user(user=request.user) if user_can_access_project_data(request.user, p)]
    return render(request, "cohorts/list.html", {"cohorts": cohorts, "projects": projects})


@never_cache
@require_http_methods(["GET", "POST"])
@requires_project_data_access
def cohort_builder(request: PortalRequest, project: Project) -> HttpResponse:
    release = release_current()
    form = BuilderForm(request.POST or None, release=release)
    save_form = SaveForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and save_form.is_valid():
            try:
                cohort = services.cohort_create(
                    by=request.user, project=project, name=save_form.cleaned_data["name"],
                    description=save_form.cleaned_data["description"], criteria_json=form.cleaned_data["criteria"],
                )  # fmt: skip
            except CriteriaError as error:
                form.add_error(None, _criteria_message(error))
            except services.CohortError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Cohort “{cohort.name}” saved on release {cohort.release.name}.")
                return redirect("cohorts:detail", pk=cohort.pk)
        status = 400
    context = {"project": project, "form": form, "save_form": save_form, "release": release}
    return render(request, "cohorts/builder.html", context, status=status)


def _criteria_message(error: CriteriaError) -> str:
    return "These criteria cannot be used: " + "; ".join(f"{k}: {v}" for k, v in error.errors.items())


@never_cache
@require_POST
@requires_project_data_access
def cohort_count(request: PortalRequest, project: Project) -> HttpResponse:
    """The live count panel (htmx)."""
    form = BuilderForm(request.POST, release=release_current())
    context: dict[str, object] = {"project": project}
    status = 200
    if not form.is_valid():
        context["errors"] = [f"{form.fields[f].label if f in form.fields else ''}: {' '.join(e)}".lstrip(": ")
                             for f, e in form.errors.items()]  # fmt: skip
        status = 400
    else:
        try:
            context["result"] = services.cohort_count(
                by=request.user, project=project, criteria_json=form.cleaned_data["criteria"]
            )
        except CriteriaError as error:
            context["errors"] = [f"{k}: {v}" for k, v in error.errors.items()]
            status = 400
        except services.CountLimitReached as error:
            context["errors"] = [str(error)]
            status = 429
        except services.CohortError as error:
            context["errors"] = [str(error)]
            status = 409
    return render(request, "cohorts/_count.html", context, status=status)


@never_cache
@require_GET
def cohort_detail(request: PortalRequest, pk: int) -> HttpResponse:
    cohort = _cohort_or_refusal(request, pk)
    if isinstance(cohort, HttpResponse):
        return cohort
    summary = selectors.cohort_summary(cohort=cohort)
    record(action=AuditAction.COHORT_VIEWED, by=request.user, target=cohort)
    current = release_current()
    share_targets = [
        p for p in projects_of_user(user=request.user)
        if p.pk != cohort.project_id and user_can_access_project_data(request.user, p)
    ]  # fmt: skip
    context = {
        "cohort": cohort,
        "description": selectors.cohort_description(cohort),
        "summary": summary,
        "newer_release": current if current and current.pk != cohort.release_id else None,
        "next_version": Cohort.objects.filter(previous=cohort).first(),
        "share_form": ShareForm(projects=share_targets) if share_targets else None,
        "comparable": selectors.cohorts_for_project(project=cohort.project).filter(release=cohort.release)
        .exclude(pk=cohort.pk),
    }  # fmt: skip
    return render(request, "cohorts/detail.html", context)


@require_POST
def cohort_share(request: PortalRequest, pk: int) -> HttpResponse:
    cohort = _cohort_or_refusal(request, pk)
    if isinstance(cohort, HttpResponse):
        return cohort
    try:
        project = project_get_for_data_access(user=request.user, pk=int(request.POST.get("project", "0")))
        services.cohort_share(by=request.user, cohort=cohort, project=project)
    except (ValueError, Http404, DataAccessDenied):
        messages.error(request, "Choose one of your current, approved projects to share with.")
    except services.CohortError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Cohort shared with {project.title}.")
    return redirect("cohorts:detail", pk=cohort.pk)


@require_POST
def cohort_new_version(request: PortalRequest, pk: int) -> HttpResponse:
    cohort = _cohort_or_refusal(request, pk)
    if isinstance(cohort, HttpResponse):
        return cohort
    try:
        newer = services.cohort_new_version(by=request.user, cohort=cohort)
    except services.CohortError as error:
        messages.error(request, str(error))
        return redirect("cohorts:detail", pk=cohort.pk)
    except DataAccessDenied as error:
        return data_access_refused_response(request, cohort.project, error)
    messages.success(request, f"Version {newer.version} made on release {newer.release.name}.")
    if request.htmx:
        return HttpResponseClientRedirect(reverse("cohorts:detail", args=[newer.pk]))
    return redirect("cohorts:detail", pk=newer.pk)


@never_cache
@require_GET
def cohort_compare(request: PortalRequest) -> HttpResponse:
    try:
        a_pk, b_pk = int(request.GET.get("a", "")), int(request.GET.get("b", ""))
    except ValueError:
        raise Http404 from None
    a = _cohort_or_refusal(request, a_pk)
    if isinstance(a, HttpResponse):
        return a
    b = _cohort_or_refusal(request, b_pk)
    if isinstance(b, HttpResponse):
        return b
    try:
        comparison = selectors.cohort_compare(a=a, b=b)
    except ValueError as error:
        messages.error(request, str(error))
        return redirect("cohorts:detail", pk=a.pk)
    record(action=AuditAction.COHORT_VIEWED, by=request.user, target=a, details={"compared_with": b.pk})
    context = {
        "comparison": comparison,
        "description_a": selectors.cohort_description(a),
        "description_b": selectors.cohort_description(b),
    }
    return render(request, "cohorts/compare.html", context)
