"""Reading cohorts: fetch-and-authorise, summaries with disclosure control."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Greatest, Least
from django.http import Http404
from django.utils import timezone

from accounts.models import ResearcherProfile
from cohorts.criteria import AGE_BANDS, describe, parse
from cohorts.models import Cohort, CohortMember
from disclosure.policy import current_policy
from disclosure.rules import SafeBreakdown, SafeCount, safe_breakdown, safe_count
from domains.models import MembershipApplication, MembershipStatus, Project, ProjectStatus
from domains.permissions import DataAccessDenied, check_user_can_access_project_data, is_project_member
from participants import vocabularies as vocab
from participants.models import Disease, HpoTerm, Participant, Phenotype, Tumour
from participants.selectors import release_usable


def _member_projects(user: Any) -> QuerySet[Project]:
    """The projects ``user`` is a current member of, in one query: on the
    project and an approved member of its domain (the rule of
    ``domains.permissions.is_project_member``, as a query over every project)."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return Project.objects.none()
    in_domain = MembershipApplication.objects.filter(
        domain=OuterRef("domain"), applicant=user, status=MembershipStatus.APPROVED
    )
    return Project.objects.filter(memberships__user=user).filter(Exists(in_domain)).distinct()


def projects_with_data_access(*, user: Any) -> list[Project]:
    """The projects whose data ``user`` may reach today, in two queries: those
    ``domains.permissions.user_can_access_project_data`` allows (a test holds
    the two together)."""
    today = timezone.localdate()
    profile = ResearcherProfile.objects.filter(user=user).first() if getattr(user, "pk", None) else None
    if profile is None or not profile.is_accredited(today):
        return []
    projects = _member_projects(user).filter(status=ProjectStatus.APPROVED).select_related("domain")
    return [p for p in projects.order_by("-created_at", "-pk") if not p.has_ended(today)]


def cohort_get_for_user(*, user: Any, pk: int) -> Cohort:
    """The cohort, if ``user`` is a member of its project or of a project it is
    shared with; Http404 otherwise. Then the data access rules (accreditation,
    project approved and current) must hold through at least one of those
    projects: if none, the refusal of the first is raised, as a
    ``DataAccessDenied`` whose ``project`` is the project checked."""
    cohort = Cohort.objects.select_related("project__domain", "release", "created_by").filter(pk=pk).first()
    if cohort is None:
        raise Http404
    usable = [p for p in _via(cohort) if is_project_member(user, p)]
    if not usable:
        raise Http404
    refusals: list[DataAccessDenied] = []
    for project in usable:
        try:
            check_user_can_access_project_data(user, project)
        except DataAccessDenied as error:
            error.project = project
            refusals.append(error)
        else:
            return cohort
    raise refusals[0]


def _via(cohort: Cohort) -> list[Project]:
    """The cohort's own project first, then those it is shared with."""
    return [cohort.project, *[s.project for s in cohort.shares.select_related("project__domain").order_by("pk")]]


def cohort_working_project(*, user: Any, cohort: Cohort) -> Project | None:
    """The project through which ``user`` works on ``cohort`` now (its own
    project if they may, else one it is shared with); None if none."""
    for project in _via(cohort):
        try:
            check_user_can_access_project_data(user, project)
        except DataAccessDenied:
            continue
        return project
    return None


def cohort_next_version(*, cohort: Cohort) -> Cohort | None:
    """The version made from ``cohort`` on a newer release, if there is one."""
    return Cohort.objects.select_related("release").filter(previous=cohort).first()


def cohorts_for_project(*, project: Project) -> QuerySet[Cohort]:
    return (
        Cohort.objects.filter(Q(project=project) | Q(shares__project=project))
        .select_related("release", "created_by", "project")
        .distinct()
        .order_by("name", "-version")
    )


def cohorts_for_user(*, user: Any) -> QuerySet[Cohort]:
    """Cohorts of the projects ``user`` is a member of, or shared with them."""
    projects = _member_projects(user).values("pk")
    return (
        Cohort.objects.filter(Q(project__in=projects) | Q(shares__project__in=projects))
        .select_related("release", "project")
        .distinct()
        .order_by("-created_at", "-pk")
    )


def cohort_description(cohort: Cohort) -> list[str]:
    criteria = parse(cohort.definition)
    terms = [c.params["term"] for c in criteria.all_criteria() if c.type == "hpo"]
    names = dict(HpoTerm.objects.filter(id__in=terms).values_list("id", "name"))
    return describe(criteria, names)


def _members(cohort: Cohort, participant_ids: Sequence[str] | None = None) -> QuerySet[Participant]:
    """The cohort's members who may be used now: its snapshot, less anyone
    withdrawn since (``participants.selectors.release_usable``); with
    ``participant_ids``, exactly those (an analysis job passes the usable
    members ``cohorts.services.cohort_members_for_job`` gave it)."""
    if participant_ids is not None:
        return Participant.objects.filter(release_id=cohort.release_id, participant_id__in=list(participant_ids))
    snapshot = CohortMember.objects.filter(cohort=cohort).values("participant_id")
    return release_usable(cohort.release).filter(pk__in=snapshot)


@dataclass(frozen=True)
class Summary:
    size: SafeCount
    age_sex: dict[str, SafeBreakdown]
    sex: SafeBreakdown
    top_terms: list[tuple[str, str, SafeCount]]
    diseases: list[tuple[str, SafeCount]]
    tumour_types: list[tuple[str, SafeCount]]


def _top(rows: list[tuple[str, int]], limit: int) -> list[tuple[str, SafeCount]]:
    """The largest categories that can be shown; hidden ones are left out
    (a list with no total beside it cannot give them away)."""
    policy = current_policy()
    shown = [(key, safe_count(n, policy)) for key, n in sorted(rows, key=lambda r: (-r[1], r[0]))]
    return [(key, c) for key, c in shown if not c.hidden and c.value][:limit]


def cohort_summary(*, cohort: Cohort, participant_ids: Sequence[str] | None = None) -> Summary:
    """Disclosure-controlled summary of the cohort's members; with ``participant_ids``,
    of those members only (an analysis job passes the usable members that
    ``cohorts.services.cohort_members_for_job`` gave it)."""
    policy = current_policy()
    members = _members(cohort, participant_ids)
    sex_counts = dict(members.order_by().values_list("sex").annotate(n=Count("pk")))
    sex = safe_breakdown({label: sex_counts.get(value, 0) for value, label in vocab.SEXES.choices}, policy)

    ages: dict[str, dict[str, int]] = {band: {} for band in AGE_BANDS}
    banded = members.annotate(band=Greatest(Least(F("age_at_consent") / 10, len(AGE_BANDS) - 1), 0)).order_by()
    for band, sex_value, n in banded.values_list("band", "sex").annotate(n=Count("pk")):
        ages[AGE_BANDS[band]][sex_value] = n
    age_sex = {
        band: safe_breakdown({lab: by.get(v, 0) for v, lab in vocab.SEXES.choices}, policy) for band, by in ages.items()
    }

    terms = list(
        Phenotype.objects.filter(participant__in=members, observed=True)
        .values_list("term_id")
        .annotate(n=Count("participant", distinct=True))
    )
    names = dict(HpoTerm.objects.filter(id__in=[t for t, _ in terms]).values_list("id", "name"))
    top_terms = [(t, names.get(t, ""), c) for t, c in _top(terms, 10)]
    diseases = list(
        Disease.objects.filter(participant__in=members)
        .values_list("specific_disease")
        .annotate(n=Count("participant", distinct=True))
    )
    tumours = list(
        Tumour.objects.filter(participant__in=members)
        .values_list("disease_type")
        .annotate(n=Count("participant", distinct=True))
    )
    return Summary(
        size=safe_count(members.count(), policy),
        age_sex=age_sex,
        sex=sex,
        top_terms=top_terms,
        diseases=_top(diseases, 12),
        tumour_types=_top(tumours, 12),
    )


@dataclass(frozen=True)
class Comparison:
    a: Cohort
    b: Cohort
    only_a: SafeCount
    both: SafeCount
    only_b: SafeCount
    total: SafeCount
    size_a: SafeCount  # each cohort's own size, as its page shows it
    size_b: SafeCount

    @property
    def cells(self) -> list[tuple[str, SafeCount]]:
        return [("Only in A", self.only_a), ("In both", self.both), ("Only in B", self.only_b)]


def cohort_compare(*, a: Cohort, b: Cohort) -> Comparison:
    """Overlap of two cohorts of the same release, every cell suppressed as a breakdown."""
    if a.release_id != b.release_id:
        raise ValueError("Only cohorts of the same data release can be compared.")
    members_a = set(_members(a).values_list("pk", flat=True))
    members_b = set(_members(b).values_list("pk", flat=True))
    cells = {"only_a": len(members_a - members_b), "both": len(members_a & members_b),
             "only_b": len(members_b - members_a)}  # fmt: skip
    policy = current_policy()
    breakdown = safe_breakdown(cells, policy)
    return Comparison(
        a, b, breakdown.cells["only_a"], breakdown.cells["both"], breakdown.cells["only_b"], breakdown.total,
        size_a=safe_count(len(members_a), policy), size_b=safe_count(len(members_b), policy),
    )  # fmt: skip
