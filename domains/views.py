"""Pages for domains, memberships and projects. Each view fetches through a
selector (404 for what the user may not see), writes through a service, and
turns domain exceptions into responses here and nowhere else."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.decorators import public_page
from accounts.models import User
from accounts.requests import PortalRequest
from domains import selectors, services
from domains.decorators import requires_project_data_access
from domains.forms import ApplyForm, DecisionForm, MemberAddForm, ProgrammeFilterForm, ProjectForm, RevokeForm
from domains.models import MembershipApplication, Project
from domains.permissions import (
    NotAllowed,
    check_user_can_edit_project,
    check_user_can_manage_project_members,
    check_user_can_register_project,
    user_can_access_project_data,
    user_can_act_on_application,
    user_can_act_on_project,
    user_can_apply,
    user_can_manage_project_members,
    user_can_register_project,
)
from domains.policies import Action, TransitionNotAllowed

APPLICATION_DECISIONS = [("approve", "Approve"), ("reject", "Reject")]
PROJECT_DECISIONS = [("approve", "Approve"), ("return", "Return for changes"), ("reject", "Reject")]


def _refused(request: PortalRequest, error: Exception, back: str) -> HttpResponse:
    """A visible object, an action the user may not take (403) or not now (409)."""
    status = 409 if isinstance(error, TransitionNotAllowed) else 403
    return render(request, "domains/refused.html", {"message": str(error), "back": back}, status=status)


# --- domains ---------------------------------------------------------------------------------


@never_cache
@require_GET
@vary_on_headers("HX-Request")
def directory(request: PortalRequest) -> HttpResponse:
    form = ProgrammeFilterForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    programme = form.cleaned_data["programme"] if form.is_bound and valid else ""
    entries = selectors.domain_directory(user=request.user, programme=programme) if valid else []
    context = {"form": form, "entries": entries}
    template = "domains/_directory_list.html" if request.htmx else "domains/directory.html"
    return render(request, template, context, status=200 if valid else 400)


@never_cache
@require_http_methods(["GET", "POST"])
def domain_detail(request: PortalRequest, slug: str) -> HttpResponse:
    domain = selectors.domain_get(slug=slug)
    user = request.user
    form = ApplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                application = services.membership_apply(
                    domain=domain, justification=form.cleaned_data["justification"], by=user
                )
            except NotAllowed as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Your application to join {domain.name} is sent to its leads.")
                return redirect("domains:application", pk=application.pk)
        status = 400
    is_lead = selectors.domains_led_by(user=user).filter(pk=domain.pk).exists()
    context = {
        "domain": domain,
        "leads": selectors.domain_leads(domain=domain),
        "latest": selectors.application_latest(user=user, domain=domain),
        "can_apply": user_can_apply(user, domain),
        "can_register": user_can_register_project(user, domain),
        "is_lead": is_lead,
        "members": list(selectors.domain_members(domain=domain)) if is_lead else [],
        "form": form,
    }
    return render(request, "domains/domain_detail.html", context, status=status)


# --- membership applications ----------------------------------------------------------------------


def _application_context(request: PortalRequest, application: MembershipApplication, **forms) -> dict:
    user = request.user
    return {
        "application": application,
        "history": selectors.history_of(application),
        "can_withdraw": user_can_act_on_application(user, application, Action.WITHDRAW),
        "can_decide": user_can_act_on_application(user, application, Action.APPROVE),
        "can_revoke": user_can_act_on_application(user, application, Action.REVOKE),
        "decision_form": forms.get("decision_form") or DecisionForm(choices=APPLICATION_DECISIONS),
        "revoke_form": forms.get("revoke_form") or RevokeForm(),
    }


@never_cache
@require_GET
def application_detail(request: PortalRequest, pk: int) -> HttpResponse:
    application = selectors.application_get_for_user(user=request.user, pk=pk)
    return render(request, "domains/application_detail.html", _application_context(request, application))


@require_POST
def application_withdraw(request: PortalRequest, pk: int) -> HttpResponse:
    application = selectors.application_get_for_user(user=request.user, pk=pk)
    back = reverse("domains:application", args=[pk])
    try:
        services.membership_withdraw(application=application, by=request.user)
    except (NotAllowed, TransitionNotAllowed) as error:
        return _refused(request, error, back)
    messages.success(request, "Your application is withdrawn.")
    return HttpResponseRedirect(back)


@require_POST
def application_decide(request: PortalRequest, pk: int) -> HttpResponse:
    application = selectors.application_get_for_user(user=request.user, pk=pk)
    back = reverse("domains:application", args=[pk])
    form = DecisionForm(request.POST, choices=APPLICATION_DECISIONS)
    if not form.is_valid():
        context = _application_context(request, application, decision_form=form)
        return render(request, "domains/application_detail.html", context, status=400)
    decide = services.membership_approve if form.cleaned_data["decision"] == "approve" else services.membership_reject
    try:
        decide(application=application, by=request.user, reason=form.cleaned_data["reason"])
    except (NotAllowed, TransitionNotAllowed) as error:
        return _refused(request, error, back)
    messages.success(request, f"Decision recorded; {application.applicant.display_name} has been told by e-mail.")
    return HttpResponseRedirect(back)


@require_POST
def application_revoke(request: PortalRequest, pk: int) -> HttpResponse:
    application = selectors.application_get_for_user(user=request.user, pk=pk)
    back = reverse("domains:application", args=[pk])
    form = RevokeForm(request.POST)
    if not form.is_valid():
        context = _application_context(request, application, revoke_form=form)
        return render(request, "domains/application_detail.html", context, status=400)
    try:
        services.membership_revoke(application=application, by=request.user, reason=form.cleaned_data["reason"])
    except (NotAllowed, TransitionNotAllowed) as error:
        return _refused(request, error, back)
    messages.success(request, "Membership revoked. It takes effect on the member's next request.")
    return HttpResponseRedirect(back)


@never_cache
@require_GET
def review_queue(request: PortalRequest) -> HttpResponse:
    queue = selectors.review_queue(user=request.user)  # 404 for anyone who leads no domain
    return render(request, "domains/review_queue.html", {"queue": queue})


# --- projects ------------------------------------------------------------------------------------------


@never_cache
@require_GET
def my_projects(request: PortalRequest) -> HttpResponse:
    context = {
        "projects": selectors.projects_of_user(user=request.user),
        "applications": selectors.applications_of_user(user=request.user),
    }
    return render(request, "domains/my_projects.html", context)


@public_page
@require_GET
def project_register(request: PortalRequest) -> HttpResponse:
    """The public register of approved projects: titles and lay summaries, as TREs publish them."""
    return render(request, "domains/project_register.html", {"projects": selectors.project_register()})


@never_cache
@require_http_methods(["GET", "POST"])
def project_new(request: PortalRequest, slug: str) -> HttpResponse:
    domain = selectors.domain_get(slug=slug)
    back = reverse("domains:domain", args=[slug])
    try:
        check_user_can_register_project(request.user, domain)
    except NotAllowed as error:
        return _refused(request, error, back)
    form = ProjectForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                project = services.project_register(domain=domain, by=request.user, **form.cleaned_data)
            except NotAllowed as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Your project is registered and sent to the leads of {domain.name}.")
                return redirect("domains:project", pk=project.pk)
        status = 400
    return render(request, "domains/project_form.html", {"form": form, "domain": domain}, status=status)


def _project_context(request: PortalRequest, project: Project, **forms) -> dict:
    user = request.user
    can_manage = user_can_manage_project_members(user, project)
    return {
        "project": project,
        "history": selectors.history_of(project),
        "members": list(selectors.project_members(project=project)),
        "can_decide": user_can_act_on_project(user, project, Action.APPROVE),
        "can_edit": user_can_act_on_project(user, project, Action.RESUBMIT),
        "can_withdraw": user_can_act_on_project(user, project, Action.WITHDRAW),
        "can_manage": can_manage,
        "can_open_data": user_can_access_project_data(user, project),
        "decision_form": forms.get("decision_form") or DecisionForm(choices=PROJECT_DECISIONS),
        "member_form": forms.get("member_form")
        or (MemberAddForm(candidates=selectors.project_member_candidates(project=project)) if can_manage else None),
    }


@never_cache
@require_GET
def project_detail(request: PortalRequest, pk: int) -> HttpResponse:
    project = selectors.project_get_for_user(user=request.user, pk=pk)
    return render(request, "domains/project_detail.html", _project_context(request, project))


@never_cache
@require_http_methods(["GET", "POST"])
def project_edit(request: PortalRequest, pk: int) -> HttpResponse:
    project = selectors.project_get_for_user(user=request.user, pk=pk)
    back = reverse("domains:project", args=[pk])
    try:
        check_user_can_edit_project(request.user, project)
    except (NotAllowed, TransitionNotAllowed) as error:
        return _refused(request, error, back)
    initial = {name: getattr(project, name) for name in ProjectForm.base_fields}
    form = ProjectForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.project_resubmit(project=project, by=request.user, **form.cleaned_data)
            except (NotAllowed, TransitionNotAllowed) as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "Your changes are saved and the project is back with the domain's leads.")
                return HttpResponseRedirect(back)
        status = 400
    context = {"form": form, "domain": project.domain, "project": project}
    return render(request, "domains/project_form.html", context, status=status)


@require_POST
def project_decide(request: PortalRequest, pk: int) -> HttpResponse:
    project = selectors.project_get_for_user(user=request.user, pk=pk)
    back = reverse("domains:project", args=[pk])
    form = DecisionForm(request.POST, choices=PROJECT_DECISIONS)
    if not form.is_valid():
        return render(
            request, "domains/project_detail.html", _project_context(request, project, decision_form=form), status=400
        )
    decide = {
        "approve": services.project_approve,
        "reject": services.project_reject,
        "return": services.project_return,
    }[form.cleaned_data["decision"]]
    try:
        decide(project=project, by=request.user, reason=form.cleaned_data["reason"])
    except (NotAllowed, TransitionNotAllowed) as error:
        return _refused(request, error, back)
    messages.success(request, f"Decision recorded; {project.owner.display_name} has been told by e-mail.")
    return HttpResponseRedirect(back)


@require_POST
def project_withdraw(request: PortalRequest, pk: int) -> HttpResponse:
    project = selectors.project_get_for_user(user=request.user, pk=pk)
    back = reverse("domains:project", args=[pk])
    try:
        services.project_withdraw(project=project, by=request.user)
    except (NotAllowed, TransitionNotAllowed) as error:
        return _refused(request, error, back)
    messages.success(request, "The project is withdrawn.")
    return HttpResponseRedirect(back)


@require_POST
@vary_on_headers("HX-Request")
def project_member_add(request: PortalRequest, pk: int) -> HttpResponse:
    project = selectors.project_get_for_user(user=request.user, pk=pk)
    back = reverse("domains:project", args=[pk])
    try:
        check_user_can_manage_project_members(request.user, project)
    except NotAllowed as error:
        return _refused(request, error, back)
    form = MemberAddForm(request.POST, candidates=selectors.project_member_candidates(project=project))
    if form.is_valid():
        added = form.cleaned_data["user"]
        try:
            services.project_member_add(project=project, user=added, by=request.user)
        except NotAllowed as error:
            return _refused(request, error, back)
        if not request.htmx:
            messages.success(request, f"{added.display_name} is now on the project.")
            return HttpResponseRedirect(back)
        return render(request, "domains/_project_members.html", _project_context(request, project))
    context = _project_context(request, project, member_form=form)
    # Under htmx the members' section comes back with the form's errors in it
    # (static/js/htmx-errors.js swaps a 4xx fragment into its target).
    template = "domains/_project_members.html" if request.htmx else "domains/project_detail.html"
    return render(request, template, context, status=400)


@require_POST
def project_member_remove(request: PortalRequest, pk: int, user_pk: int) -> HttpResponse:
    project = selectors.project_get_for_user(user=request.user, pk=pk)
    back = reverse("domains:project", args=[pk])
    member = get_object_or_404(User, pk=user_pk, project_memberships__project=project)
    try:
        services.project_member_remove(project=project, user=member, by=request.user)
    except NotAllowed as error:
        return _refused(request, error, back)
    messages.success(request, f"{member.display_name} is no longer on the project.")
    return HttpResponseRedirect(back)


@never_cache
@require_GET
@requires_project_data_access
def project_workspace(request: PortalRequest, project: Project) -> HttpResponse:
    """The entry to a project's data; every data page goes through the same decorator."""
    return render(request, "domains/workspace.html", {"project": project})
