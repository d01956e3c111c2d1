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
from cohorts.criteria import CriteriaError, parse
from cohorts.forms import BuilderForm, SaveForm, ShareForm, builder_data
from cohorts.models import Cohort
from domains.decorators import data_access_refused_response, requires_project_data_access
from domains.models import Project
from domains.permissions import DataAccessDenied, user_can_access_project_data
from domains.selectors import project_get_for_data_access, projects_of_user
from participants.selectors import genes_matching, release_current

GENE_SUGGESTIONS = 20


def _refused(request: PortalRequest, error: DataAccessDenied) -> HttpResponse:
    """The refusal page, audited against the project whose rules refused."""
    assert error.project is not None, "a refusal from a selector names the project it checked"
    return data_access_refused_response(request, error.project, error)


def _cohort_or_refusal(request: PortalRequest, pk: int) -> Cohort | HttpResponse:
    try:
        return selectors.cohort_get_for_user(user=request.user, pk=pk)
    except DataAccessDenied as error:
        return _refused(request, error)


@never_cache
@require_GET
def cohort_list(request: PortalRequest) -> HttpResponse:
    cohorts = list(selectors.cohorts_for_user(user=request.user))
    projects = selectors.projects_with_data_access(user=request.user)
    return render(request, "cohorts/list.html", {"cohorts": cohorts, "projects": projects})


def _criteria_message(error: CriteriaError) -> str:
    return "These criteria cannot be used: " + "; ".join(f"{k}: {v}" for k, v in error.errors.items())


def _refine_source(request: PortalRequest, project: Project) -> Cohort | HttpResponse | None:
    """The saved cohort named by ``?from=`` (Refine), if the user may use it here."""
    raw = request.GET.get("from")
    if raw is None:
        return None
    try:
        pk = int(raw)
    except ValueError:
        raise Http404 from None
    return _cohort_or_refusal(request, pk)


def _gene_lookup(form: BuilderForm, project: Project) -> None:
    """Gene symbols suggested as the researcher types (a datalist filled by htmx)."""
    form.fields["gene"].widget.attrs.update({
        "list": "gene-options", "autocomplete": "off", "hx-get": reverse("cohorts:genes", args=[project.pk]),
        "hx-trigger": "input changed delay:250ms", "hx-target": "#gene-options", "hx-swap": "innerHTML",
    })  # fmt: skip


@never_cache
@require_http_methods(["GET", "POST"])
@requires_project_data_access
def cohort_builder(request: PortalRequest, project: Project) -> HttpResponse:
    release = release_current()
    status = 200
    source = _refine_source(request, project) if request.method == "GET" else None
    if isinstance(source, HttpResponse):
        return source
    if source is not None:
        form = BuilderForm(builder_data(parse(source.definition), release=release), release=release)
        save_form = SaveForm(initial={"name": source.name, "description": source.description})
        record(action=AuditAction.COHORT_VIEWED, by=request.user, target=source, details={"refine_in": project.pk})
    else:
        form = BuilderForm(request.POST or None, release=release)
        save_form = SaveForm(request.POST or None)
    _gene_lookup(form, project)
    if request.method == "POST":
        if form.is_valid() and save_form.is_valid():
            try:
                cohort = services.cohort_create(
                    by=request.user, project=project, name=save_form.cleaned_data["name"],
                    description=save_form.cleaned_data["description"], criteria_json=form.cleaned_data["criteria"],
                    allow_empty=save_form.cleaned_data["save_empty"],
                )  # fmt: skip
            except CriteriaError as error:
                form.add_error(None, _criteria_message(error))
            except services.CohortError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Cohort “{cohort.name}” saved on release {cohort.release.name}.")
                return redirect("cohorts:detail", pk=cohort.pk)
        status = 400
    context = {"project": project, "form": form, "save_form": save_form, "release": release, "source": source}
    return render(request, "cohorts/builder.html", context, status=status)


def _form_messages(form: BuilderForm) -> list[str]:
    found = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        text = " ".join(str(error) for error in errors)
        found.append(f"{label}: {text}" if label else text)
    return found


@never_cache
@require_POST
@requires_project_data_access
def cohort_count(request: PortalRequest, project: Project) -> HttpResponse:
    """The live count panel (htmx). An error answers with its 4xx status and
    the same panel, holding the message; the builder keeps every criterion."""
    form = BuilderForm(request.POST, release=release_current())
    context: dict[str, object] = {"project": project}
    status = 200
    if not form.is_valid():
        context["errors"] = _form_messages(form)
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
@requires_project_data_access
def term_search(request: PortalRequest, project: Project) -> HttpResponse:
    """HPO terms by name or id as the researcher types (htmx), with counts."""
    query = request.GET.get("q", "")
    context: dict[str, object] = {"query": query, "min_length": services.TERM_SEARCH_MIN_LENGTH}
    status = 200
    try:
        context["matches"] = services.cohort_term_search(by=request.user, project=project, query=query)
    except services.CountLimitReached as error:
        context["errors"] = [str(error)]
        status = 429
    except services.CohortError as error:
        context["errors"] = [str(error)]
        status = 409
    return render(request, "cohorts/_terms.html", context, status=status)


@never_cache
@require_GET
@requires_project_data_access
def gene_search(request: PortalRequest, project: Project) -> HttpResponse:
    """Gene symbols of the current release that start with what was typed (htmx: datalist options)."""
    release = release_current()
    symbols = genes_matching(release, request.GET.get("gene", ""), limit=GENE_SUGGESTIONS) if release else []
    return render(request, "cohorts/_genes.html", {"symbols": symbols})


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
        "next_version": selectors.cohort_next_version(cohort=cohort),
        "share_form": ShareForm(projects=share_targets) if share_targets else None,
        "refine_project": selectors.cohort_working_project(user=request.user, cohort=cohort),
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
        if error.project is None:
            error.project = cohort.project  # the service checks the cohort's own project
        return _refused(request, error)
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
