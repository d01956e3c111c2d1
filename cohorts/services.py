"""Writes and audited reads about cohorts. Every count query and every save is
audited with its criteria (never with its results)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from audit.services import record
from cohorts import criteria as crit
from cohorts.compiler import compile_criteria, count_cells, count_each
from cohorts.models import Cohort, CohortMember, CohortShare
from disclosure.policy import current_policy
from disclosure.rules import SafeBreakdown, SafeCount, safe_breakdown, safe_count
from domains.models import Project
from domains.permissions import check_user_can_access_project_data
from participants import vocabularies as vocab
from participants.bulk import bulk_insert
from participants.models import DataRelease, OntologyVersion
from participants.selectors import hpo_terms_matching, release_current, release_usable

CRITERION_COUNT_CACHE_SECONDS = 7 * 24 * 3600


class CohortError(Exception):
    """A cohort request that cannot be carried out; the message says why."""


class CountLimitReached(CohortError):
    pass


class EmptyCohort(CohortError):
    """Nobody meets the criteria, and the caller asked not to save an empty cohort."""


@dataclass(frozen=True)
class CountResult:
    release: DataRelease
    criteria: crit.Criteria
    total: SafeCount
    per_criterion: list[tuple[str, SafeCount]]
    by_programme: SafeBreakdown
    by_sex: SafeBreakdown

    def as_json(self) -> dict[str, Any]:
        return {
            "release": self.release.name,
            "disclosure": current_policy().describe(),
            "total": self.total.as_json(),
            "per_criterion": [{"criterion": text, "count": c.as_json()} for text, c in self.per_criterion],
            "by_programme": self.by_programme.as_json(),
            "by_sex": self.by_sex.as_json(),
        }


def _require_release() -> DataRelease:
    release = release_current()
    if release is None:
        raise CohortError("No data release is loaded yet, so there is nothing to count.")
    return release


def _check_rate(by: Any) -> None:
    limit = settings.COHORT_COUNT_LIMIT_PER_HOUR
    since = timezone.now() - timedelta(hours=1)
    used = AuditEvent.objects.filter(actor_id=by.pk, action=AuditAction.COHORT_COUNTED, occurred_at__gte=since).count()
    if used >= limit:
        raise CountLimitReached(
            f"You have run {used} cohort counts in the last hour, the most allowed. "
            "Counts are limited so that small groups cannot be uncovered by comparing many queries; "
            "please try again later."
        )


def _breakdown(cells: dict[tuple[str, str], int], position: int, choices: list[tuple[str, str]]) -> SafeBreakdown:
    counts: dict[str, int] = {}
    for key, n in cells.items():
        counts[key[position]] = counts.get(key[position], 0) + n
    return safe_breakdown({label: counts.get(value, 0) for value, label in choices}, current_policy())


def criterion_counts(parts: list[crit.Criterion], release: DataRelease) -> list[int]:
    """Each criterion's own count, raw. These depend only on the release, who
    of it may be used (its ``withdrawals_version``) and the ontology, so they
    are cached, raw, in the server's cache (disclosure control applies when
    they are shown); whatever is missing is computed in one query."""
    ontology = OntologyVersion.objects.order_by("-loaded_at").values_list("pk", flat=True).first()
    prefix = (
        f"cohorts:criterion-count:v2:{release.pk}:{release.ingested_at.timestamp()}:"
        f"{release.withdrawals_version}:{ontology}:"
    )
    keys = [prefix + hashlib.sha256(json.dumps(c.as_json(), sort_keys=True).encode()).hexdigest() for c in parts]
    known = cache.get_many(keys)
    missing = [i for i, key in enumerate(keys) if key not in known]
    if missing:
        counted = count_each([parts[i] for i in missing], release)
        fresh = {keys[i]: n for i, n in zip(missing, counted, strict=True)}
        cache.set_many(fresh, timeout=CRITERION_COUNT_CACHE_SECONDS)
        known.update(fresh)
    return [int(known[key]) for key in keys]


def cohort_count(*, by: Any, project: Project, criteria_json: Any) -> CountResult:
    """Disclosure-controlled counts of participants meeting ``criteria_json`` in the current release."""
    check_user_can_access_project_data(by, project)
    criteria = crit.parse(criteria_json)
    release = _require_release()
    crit.check_known(criteria, release)
    _check_rate(by)
    policy = current_policy()
    cells = count_cells(criteria, release)
    parts = criteria.all_criteria()
    per_criterion = [
        (crit.describe_criterion(c), safe_count(n, policy))
        for c, n in zip(parts, criterion_counts(parts, release), strict=True)
    ]
    result = CountResult(
        release=release,
        criteria=criteria,
        total=safe_count(sum(cells.values()), policy),
        per_criterion=per_criterion,
        by_programme=_breakdown(cells, 0, vocab.RECRUITMENT_PROGRAMMES.choices),
        by_sex=_breakdown(cells, 1, vocab.SEXES.choices),
    )
    record(
        action=AuditAction.COHORT_COUNTED,
        by=by,
        target=project,
        details={"release": release.name, "criteria": criteria.as_json()},
    )
    return result


@dataclass(frozen=True)
class TermMatch:
    term: str
    name: str
    count: SafeCount  # usable participants with the term or a more specific one
    synonym: str = ""  # the synonym the query matched, when the name did not


TERM_SEARCH_LIMIT = 10
TERM_SEARCH_MIN_LENGTH = 3


def cohort_term_search(*, by: Any, project: Project, query: str) -> list[TermMatch]:
    """HPO terms whose name, synonym or id matches ``query``, each with how many
    usable participants of the current release have it or a more specific
    term, disclosure-controlled. Audited and rate-limited as a count."""
    check_user_can_access_project_data(by, project)
    query = " ".join(query.split())[:100]
    if len(query) < TERM_SEARCH_MIN_LENGTH:
        return []
    release = _require_release()
    found = hpo_terms_matching(query, limit=TERM_SEARCH_LIMIT)
    if not found:
        return []
    terms = [hit.term for hit in found]
    _check_rate(by)
    parts = [crit.parse({"include_all": [{"type": "hpo", "term": t.id}]}).include_all[0] for t in terms]
    policy = current_policy()
    matches = [
        TermMatch(hit.term.id, hit.term.name, safe_count(n, policy), hit.synonym)
        for hit, n in zip(found, criterion_counts(parts, release), strict=True)
    ]
    record(
        action=AuditAction.COHORT_COUNTED,
        by=by,
        target=project,
        details={"release": release.name, "term_search": query, "terms": [t.id for t in terms]},
    )
    return matches


@transaction.atomic
def cohort_create(
    *, by: Any, project: Project, name: str, description: str = "", criteria_json: Any, allow_empty: bool = True
) -> Cohort:
    """Save a cohort of ``project`` on the current release, with a snapshot of
    its members; ``allow_empty=False`` refuses one that nobody meets."""
    check_user_can_access_project_data(by, project)
    criteria = crit.parse(criteria_json)
    name = name.strip()
    if not name:
        raise CohortError("Give the cohort a name.")
    release = _require_release()
    crit.check_known(criteria, release)
    cohort = _save(by=by, project=project, name=name, description=description, criteria=criteria, release=release)
    if not allow_empty and cohort.member_count == 0:
        raise EmptyCohort(
            "No participant of this release meets these criteria, so the cohort would be empty. "
            "Change the criteria, or tick “Save it even if no participant matches”."
        )
    return cohort


def _save(
    *,
    by: Any,
    project: Project,
    name: str,
    description: str,
    criteria: crit.Criteria,
    release: DataRelease,
    previous: Cohort | None = None,
) -> Cohort:
    definition = criteria.as_json()
    if crit.parse(definition) != criteria:  # what is saved must open again as the same criteria
        raise CohortError("These criteria cannot be saved as they are; please report this to the service desk.")
    member_ids = list(compile_criteria(criteria, release).values_list("pk", flat=True))
    cohort = Cohort.objects.create(
        project=project,
        name=name,
        description=description,
        release=release,
        definition=definition,
        version=previous.version + 1 if previous else 1,
        previous=previous,
        member_count=len(member_ids),
        created_by=by,
    )
    bulk_insert(CohortMember, ["cohort", "participant"], ((cohort.pk, pk) for pk in member_ids))
    record(
        action=AuditAction.COHORT_VERSIONED if previous else AuditAction.COHORT_SAVED,
        by=by,
        target=cohort,
        details={
            "project": project.pk,
            "release": release.name,
            "criteria": definition,
            **({"previous": previous.pk} if previous else {}),
        },
    )
    return cohort


@transaction.atomic
def cohort_new_version(*, by: Any, cohort: Cohort) -> Cohort:
    """Re-run a cohort's definition on the current release, as its next version."""
    check_user_can_access_project_data(by, cohort.project)
    release = _require_release()
    if cohort.release_id == release.pk:
        raise CohortError(f"This cohort already uses the current release, {release.name}.")
    if Cohort.objects.filter(previous=cohort).exists():
        raise CohortError("A newer version of this cohort exists already; open that one.")
    return _save(
        by=by, project=cohort.project, name=cohort.name, description=cohort.description,
        criteria=crit.parse(cohort.definition), release=release, previous=cohort,
    )  # fmt: skip


@transaction.atomic
def cohort_share(*, by: Any, cohort: Cohort, project: Project) -> CohortShare:
    """Make a cohort usable in another project. The sharer must be able to
    reach both projects' data: sharing never gives anyone new access to people."""
    check_user_can_access_project_data(by, cohort.project)
    check_user_can_access_project_data(by, project)
    if project.pk == cohort.project_id:
        raise CohortError("The cohort already belongs to that project.")
    share, created = CohortShare.objects.get_or_create(cohort=cohort, project=project, defaults={"shared_by": by})
    if not created:
        raise CohortError(f"The cohort is already shared with {project.title}.")
    record(action=AuditAction.COHORT_SHARED, by=by, target=cohort, details={"with_project": project.pk})
    return share


def cohorts_flag_withdrawals(*, release: DataRelease, participant_ids: Sequence[str]) -> int:
    """Flag the saved cohorts of ``release`` holding any of ``participant_ids``,
    who may no longer be used there (withdrawn through the register or in a
    later release). Registered in CohortsConfig.ready() and called by
    ``participants.withdrawals`` inside the writer's transaction.

    Each such cohort's ``member_count`` becomes its usable members and
    ``withdrawn_members`` the rest of its snapshot, counted afresh, so a
    participant withdrawn twice (the register, then a release) counts once.
    Returns the number of cohorts flagged."""
    affected = Cohort.objects.filter(release=release, members__participant__participant_id__in=participant_ids)
    usable = release_usable(release).values("pk")
    rows = (
        Cohort.objects.filter(pk__in=affected.values("pk"))
        .annotate(total=Count("members"), usable=Count("members", filter=Q(members__participant__in=usable)))
        .values_list("pk", "total", "usable", "withdrawals_flagged_at")
        .order_by("pk")
    )
    now = timezone.now()
    flagged = []
    for pk, total, n_usable, flagged_at in rows:
        Cohort.objects.filter(pk=pk).update(
            member_count=n_usable, withdrawn_members=total - n_usable, withdrawals_flagged_at=flagged_at or now
        )
        flagged.append(pk)
    if flagged:
        record(
            action=AuditAction.COHORTS_FLAGGED,
            target=release,
            details={"cohorts": flagged, "withdrawn_participants": len(participant_ids)},
        )
    return len(flagged)


def cohort_members_for_job(*, cohort: Cohort) -> list[tuple[str, int | None]]:
    """(participant id, sample index) of the members an analysis may use now:
    the snapshot's usable participants (``participants.selectors.release_usable``).
    Only analysis jobs call this; researchers never see the ids."""
    return list(
        release_usable(cohort.release)
        .filter(pk__in=CohortMember.objects.filter(cohort=cohort).values("participant_id"))
        .order_by("sample_index", "participant_id")
        .values_list("participant_id", "sample_index")
    )
