"""Cohort services: counts with disclosure control and audit, saving, versions
on a newer release, withdrawals, sharing, the rate limit."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditAction, AuditEvent
from cohorts.compiler import compile_criteria
from cohorts.criteria import Criteria, CriteriaError, parse
from cohorts.models import Cohort, CohortMember
from cohorts.services import (
    CohortError,
    CountLimitReached,
    cohort_count,
    cohort_create,
    cohort_members_for_job,
    cohort_new_version,
    cohort_share,
)
from disclosure.rules import Policy, safe_breakdown, safe_count
from domains.permissions import DataAccessDenied
from participants import vocabularies as vocab
from participants.loader import release_load, rows_from_bundle
from participants.models import DataRelease, Disease, Participant, Withdrawal
from tests.factories.participants import DataReleaseFactory, ParticipantFactory
from tests.integration.cohorts.conftest import load_prepared

CANCER = {"include_all": [{"type": "programme", "values": ["cancer"]}]}


@pytest.fixture
def project(world):
    return world.approved_project


def test_count_is_disclosure_controlled_and_audited_without_results(release, project):
    result = cohort_count(by=project.owner, project=project, criteria_json=CANCER)
    raw = compile_criteria(parse(CANCER), release).count()
    assert result.total == safe_count(raw, Policy())
    event = AuditEvent.objects.get(action=AuditAction.COHORT_COUNTED)
    assert event.details == {"release": release.name, "criteria": parse(CANCER).as_json()}
    assert str(raw) not in str(event.details)


@pytest.mark.parametrize(
    "criteria",
    [
        {},
        {
            "include_all": [{"type": "programme", "values": ["rare_disease"]}, {"type": "hpo", "term": "HP:0000707"}],
            "include_any": [{"type": "sex", "values": ["female"]}, {"type": "age_band", "values": ["0-9"]}],
            "exclude": [{"type": "disease", "field": "disease_group", "values": ["Cardiovascular disorders"]}],
        },
        {
            "include_all": [{"type": "tumour", "disease_types": ["BREAST"]}],
            "exclude": [
                {"type": "genotype", "gene": "BRCA1"},
                {"type": "hpo", "term": "HP:0000118", "observed": False},
            ],
        },
    ],
)
def test_counts_take_at_most_two_queries_then_one_once_each_criterion_is_known(release, project, criteria):
    def is_mask(sql):
        return '"sample_index" IS NOT NULL' in sql and "ORDER BY" in sql

    def participant_queries(seen):
        found = [q["sql"] for q in seen.captured_queries if "participants_participant" in q["sql"]]
        return len([sql for sql in found if not is_mask(sql)])

    def mask_queries(seen):
        return len([q for q in seen.captured_queries if is_mask(q["sql"])])

    with CaptureQueriesContext(connection) as cold:
        result = cohort_count(by=project.owner, project=project, criteria_json=criteria)
    with CaptureQueriesContext(connection) as warm:
        again = cohort_count(by=project.owner, project=project, criteria_json=criteria)
    # The total with both breakdowns; each criterion's own count from the
    # release's per-value counts, the rollup, or at most one more query (cached afterwards).
    assert participant_queries(cold) in (1, 2)
    assert participant_queries(warm) == 1
    # A genotype criterion reads the release's sample mask once per process and release state.
    has_genotype = any(c.type == "genotype" for c in parse(criteria).all_criteria())
    assert mask_queries(cold) == int(has_genotype) and mask_queries(warm) == 0
    assert again.as_json() == result.as_json()
    parsed = parse(criteria)
    members = compile_criteria(parsed, release)
    assert result.total == safe_count(members.count(), Policy())
    assert result.by_sex == safe_breakdown(
        {lb: members.filter(sex=v).count() for v, lb in vocab.SEXES.choices}, Policy()
    )
    assert result.by_programme == safe_breakdown(
        {lb: members.filter(programme=v).count() for v, lb in vocab.RECRUITMENT_PROGRAMMES.choices}, Policy()
    )
    for (text, shown), criterion in zip(result.per_criterion, parsed.all_criteria(), strict=True):
        alone = compile_criteria(Criteria(include_all=(criterion,)), release).count()
        assert shown == safe_count(alone, Policy()), text


def test_criterion_counts_cached_in_redis_belong_to_their_release(release, project, settings, prepared_release):
    """With the production cache (Redis), a newer release never sees an earlier one's counts."""
    from django.core.cache import cache

    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.CELERY_BROKER_URL,
            "KEY_PREFIX": prefix,
        }
    }
    client = cache._cache.get_client()
    try:
        # Two values: counted by the database (one value would be read from the release's per-value counts).
        groups = sorted(
            set(Disease.objects.filter(participant__release=release).values_list("disease_group", flat=True))
        )
        disease = {"include_all": [{"type": "disease", "field": "disease_group", "values": groups[:2]}]}
        first = cohort_count(by=project.owner, project=project, criteria_json=disease)
        assert len(client.keys(f"{prefix}:*:cohorts:criterion-count:*")) == 1
        newer = load_prepared(prepared_release, name="test-r2", checksum="1" * 64).release
        Disease.objects.filter(participant__release=newer, disease_group__in=groups[:2]).delete()
        second = cohort_count(by=project.owner, project=project, criteria_json=disease)
        assert first.release == release and second.release == newer
        assert first.per_criterion[0][1].value > 0
        assert second.per_criterion[0][1].value == 0
        assert len(client.keys(f"{prefix}:*:cohorts:criterion-count:*")) == 2
    finally:
        for key in client.keys(f"{prefix}:*"):
            client.delete(key)


def test_small_counts_are_hidden(project):
    release = DataReleaseFactory()
    ParticipantFactory.create_batch(3, release=release, recruiting_centre="Tiny GMC", sex="female")
    ParticipantFactory.create_batch(12, release=release, recruiting_centre="Large GMC", sex="male")
    ParticipantFactory(release=release, recruiting_centre="Tiny GMC", consent_status="withdrawn")
    tiny = {"include_all": [{"type": "recruiting_centre", "values": ["Tiny GMC"]}]}
    assert compile_criteria(parse(tiny), release).count() == 3
    result = cohort_count(by=project.owner, project=project, criteria_json=tiny)
    assert result.release == release
    assert result.total.label == "<5" and result.total.value is None
    assert result.per_criterion[0][1].label == "<5"
    assert result.by_sex.cells["Female"].hidden and result.by_sex.total.hidden
    everyone = cohort_count(by=project.owner, project=project, criteria_json={})
    assert everyone.total.value == 15 and everyone.total.label == "15"


def test_invalid_criteria_are_refused_with_every_reason(release, project):
    with pytest.raises(CriteriaError) as error:
        cohort_count(
            by=project.owner,
            project=project,
            criteria_json={"include_all": [{"type": "sex", "values": ["other"]}, {"type": "hpo", "term": "x"}]},
        )
    assert set(error.value.errors) == {"$.include_all[0].values", "$.include_all[1].term"}
    assert not AuditEvent.objects.filter(action=AuditAction.COHORT_COUNTED).exists()


def test_count_needs_data_access(release, world, researcher):
    with pytest.raises(DataAccessDenied):
        cohort_count(by=researcher, project=world.approved_project, criteria_json=CANCER)


def test_rate_limit_stops_counting(release, project, settings):
    settings.COHORT_COUNT_LIMIT_PER_HOUR = 2
    cohort_count(by=project.owner, project=project, criteria_json=CANCER)
    cohort_count(by=project.owner, project=project, criteria_json=CANCER)
    with pytest.raises(CountLimitReached, match="2 cohort counts in the last hour"):
        cohort_count(by=project.owner, project=project, criteria_json=CANCER)


def test_saved_cohort_snapshots_its_members(release, project):
    cohort = cohort_create(by=project.owner, project=project, name="Cancer", criteria_json=CANCER)
    expected = set(compile_criteria(parse(CANCER), release).values_list("pk", flat=True))
    assert set(CohortMember.objects.filter(cohort=cohort).values_list("participant_id", flat=True)) == expected
    assert cohort.member_count == len(expected) and cohort.release == release
    assert AuditEvent.objects.filter(action=AuditAction.COHORT_SAVED, target_id=str(cohort.pk)).exists()


def test_a_cohort_needs_a_name(release, project):
    with pytest.raises(CohortError, match="name"):
        cohort_create(by=project.owner, project=project, name="  ", criteria_json=CANCER)
    assert not Cohort.objects.exists()


def _newer_release(release, prepared_release, leaver_id):
    """The same data again as a newer release in which one participant withdrew."""
    bundle = prepared_release.bundle
    rows = [dict(r) for r in bundle.rows["participants.tsv"]]
    for row in rows:
        if row["participant_id"] == leaver_id:
            row["consent_status"] = "withdrawn"
    changed = type(bundle)(path=bundle.path, release=bundle.release, rows={
        **bundle.rows,
        "participants.tsv": rows,
        **{name: [r for r in bundle.rows[name] if r["participant_id"] != leaver_id]
           for name in ("phenotypes.tsv", "diseases.tsv", "tumours.tsv")},
    })  # fmt: skip
    index = {k: v for k, v in prepared_release.sample_index.items() if k != leaver_id}
    rows = rows_from_bundle(changed, name="test-r2", checksum="1" * 64, sample_index=index)
    return release_load(rows=rows, by=None).release


def test_withdrawal_in_a_newer_release_flags_cohorts_and_leaves_job_snapshots(release, project, prepared_release):
    cohort = cohort_create(by=project.owner, project=project, name="Cancer", criteria_json=CANCER)
    leaver = CohortMember.objects.filter(cohort=cohort).select_related("participant").first().participant
    before = cohort_members_for_job(cohort=cohort)
    assert leaver.participant_id in {pid for pid, _ in before}

    newer = _newer_release(release, prepared_release, leaver.participant_id)
    assert Withdrawal.objects.filter(release=newer, participant_id=leaver.participant_id).exists()
    cohort.refresh_from_db()
    assert cohort.withdrawals_flagged_at is not None and cohort.withdrawn_members == 1
    after = cohort_members_for_job(cohort=cohort)
    assert {pid for pid, _ in after} == {pid for pid, _ in before} - {leaver.participant_id}
    assert AuditEvent.objects.filter(action=AuditAction.COHORTS_FLAGGED).exists()

    version = cohort_new_version(by=project.owner, cohort=cohort)
    assert version.release == newer and version.version == 2 and version.previous == cohort
    assert not CohortMember.objects.filter(cohort=version, participant__participant_id=leaver.participant_id).exists()
    with pytest.raises(CohortError, match="newer version"):
        cohort_new_version(by=project.owner, cohort=cohort)
    assert DataRelease.objects.get(pk=release.pk).status == DataRelease.Status.SUPERSEDED


def test_new_version_on_the_same_release_is_refused(release, project):
    cohort = cohort_create(by=project.owner, project=project, name="Cancer", criteria_json=CANCER)
    with pytest.raises(CohortError, match="already uses the current release"):
        cohort_new_version(by=project.owner, cohort=cohort)


def test_sharing_needs_access_to_both_projects_and_is_audited(release, world, project):
    from tests.factories.domains import ProjectFactory

    cohort = cohort_create(by=project.owner, project=project, name="Cancer", criteria_json=CANCER)
    elsewhere = world.other_domain_project
    with pytest.raises(DataAccessDenied):
        cohort_share(by=project.owner, cohort=cohort, project=elsewhere)
    mine = ProjectFactory(domain=world.domain, owner=project.owner, status="approved")
    cohort_share(by=project.owner, cohort=cohort, project=mine)
    assert AuditEvent.objects.filter(action=AuditAction.COHORT_SHARED, details__with_project=mine.pk).exists()
    with pytest.raises(CohortError, match="already shared"):
        cohort_share(by=project.owner, cohort=cohort, project=mine)


def test_summary_age_and_sex_table_matches_a_count_in_python(release, project):
    from cohorts.criteria import AGE_BANDS
    from cohorts.selectors import cohort_summary
    from disclosure.rules import safe_breakdown

    cohort = cohort_create(by=project.owner, project=project, name="Everyone", criteria_json={})
    raw: dict[str, dict[str, int]] = {band: {} for band in AGE_BANDS}
    for p in Participant.objects.filter(release=release, consent_status="consenting"):
        age = int(p.consent_month[:4]) - p.year_of_birth
        band = AGE_BANDS[max(0, min(age // 10, len(AGE_BANDS) - 1))]
        raw[band][p.sex] = raw[band].get(p.sex, 0) + 1
    summary = cohort_summary(cohort=cohort)
    for band in AGE_BANDS:
        expected = safe_breakdown({label: raw[band].get(value, 0) for value, label in vocab.SEXES.choices}, Policy())
        assert summary.age_sex[band] == expected, band
