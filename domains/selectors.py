"""Reads. Selectors for protected objects fetch and authorise in one step and
raise ``Http404`` for anyone who may not see the object, so its existence does
not leak."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from accounts.authorization import Permission, holders_of_object_permission, objects_with_permission
from accounts.models import User
from audit.models import AuditEvent
from domains.models import (
    OPEN_MEMBERSHIP_STATUSES,
    Domain,
    MembershipApplication,
    MembershipStatus,
    Project,
    ProjectMember,
    ProjectStatus,
)
from domains.permissions import (
    DataAccessDenied,
    DataAccessReason,
    check_user_can_access_project_data,
    user_can_see_application,
    user_can_see_project,
)

# --- domains ---------------------------------------------------------------------------


@dataclass
class DomainEntry:
    domain: Domain
    leads: list[User]
    member_count: int
    my_status: str = ""


def domain_directory(*, user: Any, programme: str = "") -> list[DomainEntry]:
    """Every domain with its leads, member count and the user's own state: three queries."""
    domains = Domain.objects.annotate(
        member_count=Count("applications", filter=Q(applications__status=MembershipStatus.APPROVED))
    ).order_by("programme", "name")  # explicit: Meta.ordering is not applied to aggregate queries
    if programme:
        domains = domains.filter(programme=programme)
    domain_list = list(domains)
    leads = holders_of_object_permission(Permission.DOMAIN_REVIEW_MEMBERSHIP, domain_list)  # type: ignore[arg-type]
    mine = dict(
        MembershipApplication.objects.filter(applicant=user, status__in=OPEN_MEMBERSHIP_STATUSES).values_list(
            "domain_id", "status"
        )
    )
    return [
        DomainEntry(domain=d, leads=leads[d.pk], member_count=d.member_count, my_status=mine.get(d.pk, ""))  # type: ignore[attr-defined]
        for d in domain_list
    ]


def domain_get(*, slug: str) -> Domain:
    """Domains are listed for every signed-in user; unknown slugs are 404."""
    try:
        return Domain.objects.get(slug=slug)
    except Domain.DoesNotExist:
        raise Http404 from None


def domain_leads(*, domain: Domain) -> list[User]:
    return holders_of_object_permission(Permission.DOMAIN_REVIEW_MEMBERSHIP, [domain])[domain.pk]


def domain_members(*, domain: Domain) -> QuerySet[MembershipApplication]:
    """Current memberships of a domain (the approved applications)."""
    return (
        MembershipApplication.objects.filter(domain=domain, status=MembershipStatus.APPROVED)
        .select_related("applicant")
        .order_by("applicant__full_name", "applicant__email")
    )


def domains_led_by(*, user: Any) -> QuerySet[Domain]:
    return objects_with_permission(user, Permission.DOMAIN_REVIEW_MEMBERSHIP, Domain.objects.all())


def domains_for_project_review(*, user: Any) -> QuerySet[Domain]:
    return objects_with_permission(user, Permission.PROJECT_REVIEW, Domain.objects.all())


# --- membership applications --------------------------------------------------------------


def applications_of_user(*, user: Any) -> QuerySet[MembershipApplication]:
    return MembershipApplication.objects.filter(applicant=user).select_related("domain", "decided_by")


def application_latest(*, user: Any, domain: Domain) -> MembershipApplication | None:
    return MembershipApplication.objects.filter(applicant=user, domain=domain).order_by("-created_at", "-pk").first()


def application_get_for_user(*, user: Any, pk: int) -> MembershipApplication:
    application = (
        MembershipApplication.objects.select_related("domain", "applicant", "decided_by").filter(pk=pk).first()
    )
    if application is None or not user_can_see_application(user, application):
        raise Http404
    return application


def applications_for_review(*, user: Any, status: str = MembershipStatus.PENDING) -> QuerySet[MembershipApplication]:
    """Applications to the domains ``user`` leads (pending by default; '' for all), never their own."""
    queryset = MembershipApplication.objects.filter(domain__in=domains_led_by(user=user)).exclude(applicant=user)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.select_related("domain", "applicant", "decided_by").order_by("created_at", "pk")


# --- projects ------------------------------------------------------------------------------


def projects_of_user(*, user: Any) -> QuerySet[Project]:
    """'My projects': those the user owns or works on."""
    return (
        Project.objects.filter(Q(owner=user) | Q(memberships__user=user))
        .distinct()
        .select_related("domain", "owner")
        .annotate(member_count=Count("memberships", distinct=True))
        .order_by("-created_at", "-pk")
    )


def project_get_for_user(*, user: Any, pk: int) -> Project:
    project = Project.objects.select_related("domain", "owner", "decided_by").filter(pk=pk).first()
    if project is None or not user_can_see_project(user, project):
        raise Http404
    return project


def projects_for_review(*, user: Any, status: str = ProjectStatus.SUBMITTED) -> QuerySet[Project]:
    """Projects in the domains ``user`` may review ('' for every status), never ones they work on."""
    queryset = (
        Project.objects.filter(domain__in=domains_for_project_review(user=user))
        .exclude(owner=user)
        .exclude(memberships__user=user)
    )
    if status:
        queryset = queryset.filter(status=status)
    return queryset.select_related("domain", "owner").order_by("submitted_at", "pk")


def project_register() -> QuerySet[Project]:
    """The public register: approved projects (current or ended), as TREs publish them."""
    return (
        Project.objects.filter(status__in=[ProjectStatus.APPROVED, ProjectStatus.CLOSED])
        .select_related("domain")
        .order_by("-approved_on", "-pk")
    )


def project_members(*, project: Project) -> QuerySet[ProjectMember]:
    return ProjectMember.objects.filter(project=project).select_related("user")


def project_member_candidates(*, project: Project) -> QuerySet[User]:
    """Members of the project's domain not yet on the project."""
    return (
        User.objects.filter(
            is_active=True,
            domain_applications__domain=project.domain_id,
            domain_applications__status=MembershipStatus.APPROVED,
        )
        .exclude(project_memberships__project=project)
        .order_by("full_name", "email")
    )


def project_get_for_data_access(*, user: Any, pk: int) -> Project:
    """The one way other apps reach a project's data.

    Http404 unless ``user`` is a current member of the project (on the project
    and of its domain); then ``DataAccessDenied`` with the reason when the
    project is not approved, has ended, or the user's accreditation lapsed.
    """
    project = Project.objects.select_related("domain").filter(pk=pk).first()
    if project is None:
        raise Http404
    try:
        check_user_can_access_project_data(user, project)
    except DataAccessDenied as error:
        if error.reason == DataAccessReason.NOT_MEMBER:
            raise Http404 from None
        error.project = project
        raise
    return project


# --- history ---------------------------------------------------------------------------------


@dataclass
class QueueCount:
    domain: Domain
    applications: int = 0
    projects: int = 0


@dataclass
class QueueSummary:
    applications: list[MembershipApplication] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    counts: list[QueueCount] = field(default_factory=list)


def review_queue(*, user: Any) -> QueueSummary:
    """The lead's queue: pending applications and submitted projects in the
    domains they lead, with counts per domain. 404 for anyone who leads nothing."""
    led = list(domains_led_by(user=user).order_by("name")) + list(
        domains_for_project_review(user=user).exclude(pk__in=domains_led_by(user=user).values("pk"))
    )
    if not led:
        raise Http404
    applications = list(applications_for_review(user=user))
    projects = list(projects_for_review(user=user))
    counts = {d.pk: QueueCount(domain=d) for d in sorted(led, key=lambda d: d.name)}
    for application in applications:
        counts[application.domain_id].applications += 1
    for project in projects:
        counts[project.domain_id].projects += 1
    return QueueSummary(applications=applications, projects=projects, counts=list(counts.values()))


def history_of(obj: MembershipApplication | Project) -> QuerySet[AuditEvent]:
    """The object's history, read from the audit trail (oldest first)."""
    return AuditEvent.objects.filter(target_type=obj._meta.label_lower, target_id=str(obj.pk)).order_by("seq")
