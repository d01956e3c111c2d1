"""Writes for domains, memberships and projects. Each service takes keyword
arguments and the acting user as ``by``, runs in one transaction, checks the
actor and the state (``domains.permissions``, ``domains.policies``), records
its audit event in the same transaction and sends e-mail after commit."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from audit.models import AuditAction, AuditOutcome
from audit.services import record
from domains.models import (
    Domain,
    MembershipApplication,
    Programme,
    Project,
    ProjectMember,
    ProjectStatus,
)
from domains.notifications import notify_after_commit
from domains.permissions import (
    DataAccessDenied,
    NotAllowed,
    check_user_can_act_on_application,
    check_user_can_act_on_project,
    check_user_can_apply,
    check_user_can_manage_project_members,
    check_user_can_register_project,
    is_domain_member,
)
from domains.policies import MEMBERSHIP, PROJECT, Action, Transition

MAX_PROJECT_YEARS = 5

_MEMBERSHIP_AUDIT = {
    Action.APPROVE: AuditAction.MEMBERSHIP_APPROVED,
    Action.REJECT: AuditAction.MEMBERSHIP_REJECTED,
    Action.WITHDRAW: AuditAction.MEMBERSHIP_WITHDRAWN,
    Action.REVOKE: AuditAction.MEMBERSHIP_REVOKED,
}
_PROJECT_AUDIT = {
    Action.APPROVE: AuditAction.PROJECT_APPROVED,
    Action.REJECT: AuditAction.PROJECT_REJECTED,
    Action.RETURN: AuditAction.PROJECT_RETURNED,
    Action.WITHDRAW: AuditAction.PROJECT_WITHDRAWN,
    Action.RESUBMIT: AuditAction.PROJECT_RESUBMITTED,
    Action.CLOSE: AuditAction.PROJECT_CLOSED,
}
# Actions that need a reason the applicant can read.
_REASON_REQUIRED = {Action.REJECT, Action.RETURN, Action.REVOKE}


def _leads_of(domain: Domain) -> list[User]:
    from domains.selectors import domain_leads

    return domain_leads(domain=domain)


JUSTIFICATION_MIN_LENGTH = 20
JUSTIFICATION_MAX_LENGTH = 2000


def _text(value: str) -> str:
    """Free text as stored: without surrounding space, lines ended by \\n
    (browsers send a textarea's lines ended by \\r\\n, API callers often not)."""
    return value.replace("\r\n", "\n").strip()


def clean_reason(action: Action, reason: str) -> str:
    """The reason or note for a decision, stripped; refused when ``action`` needs one."""
    reason = _text(reason)
    if action in _REASON_REQUIRED and not reason:
        raise NotAllowed("Give a reason: the researcher will read it.")
    return reason


def clean_justification(justification: str) -> str:
    """Why a researcher wants to join a domain, stripped; the leads need a sentence or two."""
    justification = _text(justification)
    if len(justification) < JUSTIFICATION_MIN_LENGTH:
        raise NotAllowed(
            f"Say in a sentence or two why you want to join (at least {JUSTIFICATION_MIN_LENGTH} characters)."
        )
    if len(justification) > JUSTIFICATION_MAX_LENGTH:
        raise NotAllowed(f"Keep it to {JUSTIFICATION_MAX_LENGTH} characters; the leads read every word.")
    return justification


# --- domains ------------------------------------------------------------------------------


@transaction.atomic
def domain_create(*, slug: str, name: str, programme: Programme, description: str, by: User | None) -> Domain:
    domain = Domain.objects.create(slug=slug, name=name, programme=programme, description=description)
    record(action=AuditAction.DOMAIN_CREATED, by=by, target=domain, details={"slug": slug, "programme": programme})
    return domain


# --- membership ---------------------------------------------------------------------------


@transaction.atomic
def membership_apply(*, domain: Domain, justification: str, by: User) -> MembershipApplication:
    justification = clean_justification(justification)
    # Serialise applications by the same person, so two quick clicks make one application.
    User.objects.select_for_update().filter(pk=by.pk).first()
    check_user_can_apply(by, domain)
    try:
        with transaction.atomic():
            application = MembershipApplication.objects.create(domain=domain, applicant=by, justification=justification)
    except IntegrityError:
        raise NotAllowed(f"You have already applied to join {domain.name}.") from None
    record(
        action=AuditAction.MEMBERSHIP_APPLIED,
        by=by,
        target=application,
        details={"domain": domain.slug, "to": application.status},
    )
    notify_after_commit(
        to=_leads_of(domain),
        subject=f"New application to join {domain.name}",
        body=f"{by.display_name} has applied to join {domain.name}. Review it in your queue.",
    )
    return application


def _membership_transition(
    *, application: MembershipApplication, action: Action, by: User, reason: str = ""
) -> tuple[MembershipApplication, Transition]:
    application = (
        MembershipApplication.objects.select_for_update(of=("self",))
        .select_related("domain", "applicant")
        .get(pk=application.pk)
    )
    check_user_can_act_on_application(by, application, action)
    reason = clean_reason(action, reason)
    transition = MEMBERSHIP.transition(application.status, action)
    now = timezone.now()
    fields = ["status"]
    application.status = transition.target
    if action in (Action.APPROVE, Action.REJECT):
        application.decided_at, application.decided_by, application.decision_reason = now, by, reason
        fields += ["decided_at", "decided_by", "decision_reason"]
    else:
        application.closed_at = now
        fields.append("closed_at")
        if action is Action.REVOKE:
            application.decision_reason = reason
            fields.append("decision_reason")
    application.save(update_fields=fields)
    details: dict[str, Any] = {"domain": application.domain.slug, "from": transition.source, "to": transition.target}
    if reason:
        details["reason"] = reason
    record(action=_MEMBERSHIP_AUDIT[action], by=by, target=application, details=details)
    return application, transition


@transaction.atomic
def membership_withdraw(*, application: MembershipApplication, by: User) -> MembershipApplication:
    application, _ = _membership_transition(application=application, action=Action.WITHDRAW, by=by)
    return application


@transaction.atomic
def membership_approve(*, application: MembershipApplication, by: User, reason: str = "") -> MembershipApplication:
    application, _ = _membership_transition(application=application, action=Action.APPROVE, by=by, reason=reason)
    domain = application.domain
    notify_after_commit(
        to=[application.applicant],
        subject=f"You are now a member of {domain.name}",
        body=f"{by.display_name} approved your application to join {domain.name}."
        + (f"\n\nTheir note: {reason}" if reason else "")
        + "\n\nYou can now register projects in the domain.",
    )
    return application


@transaction.atomic
def membership_reject(*, application: MembershipApplication, by: User, reason: str) -> MembershipApplication:
    application, _ = _membership_transition(application=application, action=Action.REJECT, by=by, reason=reason)
    domain = application.domain
    notify_after_commit(
        to=[application.applicant],
        subject=f"Your application to join {domain.name}",
        body=f"{by.display_name} did not approve your application to join {domain.name}.\n\nReason: {reason}"
        "\n\nYou may apply again once you have addressed it.",
    )
    return application


@transaction.atomic
def membership_revoke(*, application: MembershipApplication, by: User, reason: str) -> MembershipApplication:
    application, _ = _membership_transition(application=application, action=Action.REVOKE, by=by, reason=reason)
    domain = application.domain
    notify_after_commit(
        to=[application.applicant],
        subject=f"Your membership of {domain.name} has ended",
        body=f"{by.display_name} revoked your membership of {domain.name}.\n\nReason: {reason}"
        "\n\nYou no longer have access to the domain's projects or their data.",
    )
    return application


# --- projects -------------------------------------------------------------------------------


def latest_end_date(today: date) -> date:
    try:
        return today.replace(year=today.year + MAX_PROJECT_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + MAX_PROJECT_YEARS, day=28)


def check_project_end_date(end_date: date) -> None:
    today = timezone.localdate()
    if end_date <= today:
        raise NotAllowed("The end date must be in the future.")
    if end_date > latest_end_date(today):
        raise NotAllowed(f"Projects run for at most {MAX_PROJECT_YEARS} years; choose an earlier end date.")


def _check_project_fields(*, title: str, lay_summary: str, end_date: date) -> None:
    if not title.strip() or not lay_summary.strip():
        raise NotAllowed("A project needs a title and a lay summary.")
    check_project_end_date(end_date)


@transaction.atomic
def project_register(
    *,
    domain: Domain,
    title: str,
    lay_summary: str,
    aims: str,
    data_needed: str,
    planned_outputs: str,
    end_date: date,
    by: User,
) -> Project:
    check_user_can_register_project(by, domain)
    _check_project_fields(title=title, lay_summary=lay_summary, end_date=end_date)
    project = Project.objects.create(
        domain=domain,
        owner=by,
        title=_text(title),
        lay_summary=_text(lay_summary),
        aims=_text(aims),
        data_needed=_text(data_needed),
        planned_outputs=_text(planned_outputs),
        end_date=end_date,
    )
    ProjectMember.objects.create(project=project, user=by, added_by=by)
    record(
        action=AuditAction.PROJECT_SUBMITTED,
        by=by,
        target=project,
        details={"domain": domain.slug, "to": project.status, "end_date": end_date.isoformat()},
    )
    notify_after_commit(
        to=_leads_of(domain),
        subject=f"New project in {domain.name}: {project.title}",
        body=f"{by.display_name} has registered a project in {domain.name}. Review it in your queue.",
    )
    return project


def _locked_project(project: Project) -> Project:
    return Project.objects.select_for_update(of=("self",)).select_related("domain", "owner").get(pk=project.pk)


def _project_transition(*, project: Project, action: Action, by: User | None, reason: str = "") -> Project:
    project = _locked_project(project)
    if by is not None:
        check_user_can_act_on_project(by, project, action)
    reason = clean_reason(action, reason)
    transition = PROJECT.transition(project.status, action)
    now = timezone.now()
    project.status = transition.target
    fields = ["status"]
    if action in (Action.APPROVE, Action.REJECT, Action.RETURN):
        project.decided_at, project.decided_by, project.decision_reason = now, by, reason
        fields += ["decided_at", "decided_by", "decision_reason"]
        if action is Action.APPROVE:
            project.approved_on = timezone.localdate()
            fields.append("approved_on")
    project.save(update_fields=fields)
    details: dict[str, Any] = {"domain": project.domain.slug, "from": transition.source, "to": transition.target}
    if reason:
        details["reason"] = reason
    record(action=_PROJECT_AUDIT[action], by=by, target=project, details=details)
    return project


@transaction.atomic
def project_approve(*, project: Project, by: User, reason: str = "") -> Project:
    project = _project_transition(project=project, action=Action.APPROVE, by=by, reason=reason)
    notify_after_commit(
        to=[project.owner],
        subject=f"Project approved: {project.title}",
        body=f"{by.display_name} approved your project “{project.title}” in {project.domain.name}. "
        f"Its members can reach the data until {project.end_date:%Y-%m-%d}."
        + (f"\n\nTheir note: {reason}" if reason else ""),
    )
    return project


@transaction.atomic
def project_reject(*, project: Project, by: User, reason: str) -> Project:
    project = _project_transition(project=project, action=Action.REJECT, by=by, reason=reason)
    notify_after_commit(
        to=[project.owner],
        subject=f"Project not approved: {project.title}",
        body=f"{by.display_name} did not approve your project “{project.title}”.\n\nReason: {reason}",
    )
    return project


@transaction.atomic
def project_return(*, project: Project, by: User, reason: str) -> Project:
    project = _project_transition(project=project, action=Action.RETURN, by=by, reason=reason)
    notify_after_commit(
        to=[project.owner],
        subject=f"Changes asked for: {project.title}",
        body=f"{by.display_name} returned your project “{project.title}” for changes.\n\n{reason}"
        "\n\nEdit the project and resubmit it.",
    )
    return project


@transaction.atomic
def project_withdraw(*, project: Project, by: User) -> Project:
    return _project_transition(project=project, action=Action.WITHDRAW, by=by)


@transaction.atomic
def project_resubmit(
    *,
    project: Project,
    title: str,
    lay_summary: str,
    aims: str,
    data_needed: str,
    planned_outputs: str,
    end_date: date,
    by: User,
) -> Project:
    """The owner edits a returned project and sends it back for review."""
    locked = _locked_project(project)
    check_user_can_act_on_project(by, locked, Action.RESUBMIT)
    _check_project_fields(title=title, lay_summary=lay_summary, end_date=end_date)
    values = {
        "title": _text(title),
        "lay_summary": _text(lay_summary),
        "aims": _text(aims),
        "data_needed": _text(data_needed),
        "planned_outputs": _text(planned_outputs),
        "end_date": end_date,
    }
    changed = sorted(name for name, value in values.items() if getattr(locked, name) != value)
    for name, value in values.items():
        setattr(locked, name, value)
    locked.submitted_at = timezone.now()
    locked.save(update_fields=[*values, "submitted_at"])
    project = _project_transition(project=locked, action=Action.RESUBMIT, by=by)
    notify_after_commit(
        to=_leads_of(project.domain),
        subject=f"Project resubmitted: {project.title}",
        body=f"{by.display_name} has changed ({', '.join(changed) or 'nothing'}) and resubmitted "
        f"“{project.title}”. Review it in your queue.",
    )
    return project


@transaction.atomic
def projects_close_ended(*, on: date | None = None) -> list[Project]:
    """The system's step: close approved projects past their end date. Access
    has already stopped (the end date is checked on every request); this keeps
    the status and the register honest."""
    on = on or timezone.localdate()
    closed = []
    for project in Project.objects.filter(status=ProjectStatus.APPROVED, end_date__lt=on).order_by("pk"):
        closed.append(_project_transition(project=project, action=Action.CLOSE, by=None))
    return closed


@transaction.atomic
def project_member_add(*, project: Project, user: User, by: User) -> ProjectMember:
    project = _locked_project(project)
    check_user_can_manage_project_members(by, project)
    if not is_domain_member(user, project.domain_id):
        raise NotAllowed(f"{user.display_name} is not a member of {project.domain.name}; only its members can join.")
    if ProjectMember.objects.filter(project=project, user=user).exists():
        raise NotAllowed(f"{user.display_name} is already on this project.")
    member = ProjectMember.objects.create(project=project, user=user, added_by=by)
    record(action=AuditAction.PROJECT_MEMBER_ADDED, by=by, target=project, details={"member_id": user.pk})
    notify_after_commit(
        to=[user],
        subject=f"You have been added to {project.title}",
        body=f"{by.display_name} added you to the project “{project.title}” in {project.domain.name}.",
    )
    return member


@transaction.atomic
def project_member_remove(*, project: Project, user: User, by: User) -> None:
    project = _locked_project(project)
    check_user_can_manage_project_members(by, project)
    if user.pk == project.owner_id:
        raise NotAllowed("The owner cannot be removed from their own project.")
    deleted, _ = ProjectMember.objects.filter(project=project, user=user).delete()
    if not deleted:
        raise NotAllowed(f"{user.display_name} is not on this project.")
    record(action=AuditAction.PROJECT_MEMBER_REMOVED, by=by, target=project, details={"member_id": user.pk})


def data_access_refused(*, project: Project, by: User, error: DataAccessDenied) -> None:
    """Record a refused attempt to reach a project's data (committed on its own)."""
    record(
        action=AuditAction.DATA_ACCESS_REFUSED,
        by=by,
        target=project,
        outcome=AuditOutcome.DENIED,
        details={"reason": str(error.reason)},
    )
