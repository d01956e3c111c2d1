"""Who may do what in domains and projects.

Each action has a pair: ``check_user_can_<action>`` raises ``NotAllowed`` (or
``TransitionNotAllowed`` when the object's state is the obstacle) with a reason
a person can read, and ``user_can_<action>`` answers True or False for templates.
Roles come from ``accounts.authorization.has_permission`` only; states from
``domains.policies``.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from datetime import date
from typing import Any, ParamSpec

from django.db.models import Exists, QuerySet
from django.utils import dateformat, timezone

from accounts.authorization import Permission, has_permission
from accounts.models import ResearcherProfile
from domains.models import (
    OPEN_MEMBERSHIP_STATUSES,
    Domain,
    MembershipApplication,
    MembershipStatus,
    Project,
    ProjectMember,
    ProjectStatus,
)
from domains.policies import MEMBERSHIP, PROJECT, Action, Party, TransitionNotAllowed, Workflow

P = ParamSpec("P")


class NotAllowed(Exception):
    """The user may see the object but may not do this to it; the message says why."""


class DataAccessReason(enum.StrEnum):
    NOT_MEMBER = "not_member"
    NOT_APPROVED = "not_approved"
    ENDED = "ended"
    NOT_ACCREDITED = "not_accredited"


class DataAccessDenied(NotAllowed):
    def __init__(self, reason: DataAccessReason, message: str, project: Project | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.project = project


def answer(check: Callable[P, None], *refusals: type[Exception]) -> Callable[P, bool]:
    """The yes/no form of a ``check_user_can_<action>`` for templates: True
    where the check passes, False where it raises one of ``refusals``."""

    @functools.wraps(check)
    def user_can(*args: P.args, **kwargs: P.kwargs) -> bool:
        try:
            check(*args, **kwargs)
        except refusals:
            return False
        return True

    return user_can


def _day(value: date) -> str:
    return dateformat.format(value, "j F Y")


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


# --- facts --------------------------------------------------------------------------


def _approved_membership(user: Any, domain_id: int) -> QuerySet[MembershipApplication]:
    return MembershipApplication.objects.filter(domain_id=domain_id, applicant=user, status=MembershipStatus.APPROVED)


def is_domain_member(user: Any, domain: Domain | int) -> bool:
    if not _signed_in(user):
        return False
    return _approved_membership(user, domain.pk if isinstance(domain, Domain) else domain).exists()


def is_project_member(user: Any, project: Project) -> bool:
    """On the project *and* a current member of its domain: revoking the domain
    membership takes the person off every project in it, at the next request."""
    if not _signed_in(user):
        return False
    in_domain = Exists(_approved_membership(user, project.domain_id))
    return ProjectMember.objects.filter(project=project, user=user).filter(in_domain).exists()


def _party_for(workflow: Workflow, action: Action) -> Party:
    parties = {t.party for t in workflow.transitions if t.action == action}
    if len(parties) != 1:
        raise LookupError(f"{workflow.name}: no single party takes {action!r}")
    return parties.pop()


# --- seeing objects (used by selectors) --------------------------------------------------


def user_can_see_application(user: Any, application: MembershipApplication) -> bool:
    return _signed_in(user) and (
        application.applicant_id == user.pk
        or has_permission(user, Permission.DOMAIN_REVIEW_MEMBERSHIP, application.domain)
    )


def user_can_see_project(user: Any, project: Project) -> bool:
    return _signed_in(user) and (
        project.owner_id == user.pk
        or has_permission(user, Permission.PROJECT_REVIEW, project.domain)
        or is_project_member(user, project)
    )


# --- membership --------------------------------------------------------------------------


def check_user_can_apply(user: Any, domain: Domain) -> None:
    if not has_permission(user, Permission.DOMAIN_APPLY):
        raise NotAllowed("Only researchers can apply to join a domain. Ask the service desk for the researcher role.")
    open_status = (
        MembershipApplication.objects.filter(domain=domain, applicant=user, status__in=OPEN_MEMBERSHIP_STATUSES)
        .values_list("status", flat=True)
        .first()
    )
    if open_status == MembershipStatus.PENDING:
        raise NotAllowed(f"You have already applied to join {domain.name}; a lead will decide soon.")
    if open_status == MembershipStatus.APPROVED:
        raise NotAllowed(f"You are already a member of {domain.name}.")


user_can_apply = answer(check_user_can_apply, NotAllowed)


def check_user_can_act_on_application(user: Any, application: MembershipApplication, action: Action) -> None:
    party = _party_for(MEMBERSHIP, action)
    if party is Party.APPLICANT and application.applicant_id != user.pk:
        raise NotAllowed("Only the researcher who applied can do this.")
    if party is Party.LEAD:
        if not has_permission(user, Permission.DOMAIN_REVIEW_MEMBERSHIP, application.domain):
            raise NotAllowed(f"Only a lead of {application.domain.name} can do this.")
        if application.applicant_id == user.pk:
            raise NotAllowed("You cannot decide on your own membership; another lead of the domain must.")
    if party is Party.SYSTEM:
        raise NotAllowed("The portal does this itself.")
    MEMBERSHIP.transition(application.status, action)


user_can_act_on_application = answer(check_user_can_act_on_application, NotAllowed, TransitionNotAllowed)


# --- projects --------------------------------------------------------------------------------


def check_user_can_register_project(user: Any, domain: Domain) -> None:
    if not has_permission(user, Permission.PROJECT_REGISTER):
        raise NotAllowed("Only researchers can register projects.")
    if not is_domain_member(user, domain):
        raise NotAllowed(f"Join {domain.name} first: only its members can register projects in it.")


user_can_register_project = answer(check_user_can_register_project, NotAllowed)


def check_user_can_act_on_project(user: Any, project: Project, action: Action) -> None:
    party = _party_for(PROJECT, action)
    if party is Party.APPLICANT:
        if project.owner_id != user.pk:
            raise NotAllowed("Only the project's owner can do this.")
        if action is Action.RESUBMIT and not is_domain_member(user, project.domain_id):
            raise NotAllowed(f"You are no longer a member of {project.domain.name}, so you cannot resubmit.")
    if party is Party.LEAD:
        if not has_permission(user, Permission.PROJECT_REVIEW, project.domain):
            raise NotAllowed(f"Only a lead of {project.domain.name} can do this.")
        if project.owner_id == user.pk or ProjectMember.objects.filter(project=project, user=user).exists():
            raise NotAllowed("You cannot review a project you work on; another lead of the domain must.")
    if party is Party.SYSTEM:
        raise NotAllowed("The portal does this itself.")
    PROJECT.transition(project.status, action)


user_can_act_on_project = answer(check_user_can_act_on_project, NotAllowed, TransitionNotAllowed)


def check_user_can_edit_project(user: Any, project: Project) -> None:
    check_user_can_act_on_project(user, project, Action.RESUBMIT)


def check_user_can_manage_project_members(user: Any, project: Project) -> None:
    if project.owner_id != user.pk:
        raise NotAllowed("Only the project's owner can add or remove members.")
    if not project.is_current():
        raise NotAllowed("Members can be changed only while the project is approved and before its end date.")
    if not is_domain_member(user, project.domain_id):
        raise NotAllowed(f"You are no longer a member of {project.domain.name}.")


user_can_manage_project_members = answer(check_user_can_manage_project_members, NotAllowed)


# --- data -------------------------------------------------------------------------------------


def check_user_can_access_project_data(user: Any, project: Project) -> None:
    """Safe people in a safe project: an accredited member of the domain, on
    the project, which is approved and not past its end date. Raises
    ``DataAccessDenied`` with the first reason that applies."""
    if not is_project_member(user, project):
        raise DataAccessDenied(DataAccessReason.NOT_MEMBER, "You are not a member of this project.")
    today = timezone.localdate()
    if project.has_ended(today):
        raise DataAccessDenied(
            DataAccessReason.ENDED,
            f"This project ended on {_day(project.end_date)}; access to its data stopped the day after. "
            "To carry on, register a new project in the domain.",
        )
    if project.status != ProjectStatus.APPROVED:
        raise DataAccessDenied(
            DataAccessReason.NOT_APPROVED,
            f"This project is {project.get_status_display().lower()}. Its members can reach data only once "
            f"a lead of {project.domain.name} has approved it.",
        )
    profile = ResearcherProfile.objects.filter(user=user).first()
    if profile is None or not profile.is_accredited(today):
        raise DataAccessDenied(DataAccessReason.NOT_ACCREDITED, _accreditation_advice(profile))


def _accreditation_advice(profile: ResearcherProfile | None) -> str:
    steps = []
    if profile is None or not profile.training_valid():
        expired = profile.training_expires_on() if profile else None
        when = f" (it expired on {_day(expired)})" if expired else ""
        steps.append(f"renew your information-governance training{when} and record the date on your account page")
    if profile is None or not profile.agreement_valid():
        steps.append("accept the current data access agreement on your account page")
    return (
        "Your accreditation is not current, so you cannot reach data until you "
        + " and ".join(steps)
        + ". Access returns as soon as you have."
    )


user_can_access_project_data = answer(check_user_can_access_project_data, DataAccessDenied)
