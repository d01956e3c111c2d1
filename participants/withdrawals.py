"""Withdrawals taking effect in releases already loaded.

Two writers withdraw participants of loaded releases: the withdrawal register
(``participants.services.withdrawals_record``) and a newer release, which
records who withdrew since the previous one (``participants.loader``). Both
write inside :func:`withdrawals_take_effect`, which, in the writer's
transaction and for every release concerned:

- finds who was usable before the write and is not after it, by asking the
  one selector (``participants.selectors.release_usable``) both times;
- takes them out of what the release keeps for fast counts (its per-value
  counts and its phenotype rollup), so those always equal a fresh count of
  the usable participants;
- raises the release's ``withdrawals_version``, which every cached count is
  keyed by, so the very next request counts without them;
- calls each registered flagger with the release and those participants.

What other apps do about it is not known here. An app registers a flagger
with :func:`on_participants_withdrawn` in its ``AppConfig.ready()``:

- ``cohorts.apps.CohortsConfig.ready`` registers
  ``cohorts.services.cohorts_flag_withdrawals`` (saved cohorts);
- ``analysis.apps.AnalysisConfig.ready`` is where
  ``analysis.services.jobs_flag_withdrawals`` (results already computed,
  and what was asked to leave from them) is registered, with the label
  ``"analysis results"``;
- ``airlock.apps.AirlockConfig.ready`` registers
  ``airlock.services.requests_flag_withdrawals`` after it (open output
  requests holding those results have their checks run again).

A flagger is called as ``flagger(release=..., participant_ids=...)`` inside
the transaction and returns how many things it flagged (or None). This is an
explicit registry rather than a Django signal for the reasons of
docs/adr/0007; docs/adr/0011 describes the register.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.db import connection

from participants.marginals import kept_counts_forget
from participants.models import DataRelease, Participant
from participants.ontology import phenotype_rollup_forget
from participants.selectors import release_usable

# Key of the PostgreSQL advisory lock that serialises withdrawals and release loads.
REGISTER_LOCK_KEY = 0x57495448  # "WITH"


class WithdrawnFlagger(Protocol):
    def __call__(self, *, release: DataRelease, participant_ids: Sequence[str]) -> int | None: ...


@dataclass(frozen=True)
class Flagger:
    callback: WithdrawnFlagger
    label: str  # what it flags, in words: "saved cohorts"


_flaggers: list[Flagger] = []


def on_participants_withdrawn(callback: WithdrawnFlagger, *, label: str) -> WithdrawnFlagger:
    """Have ``callback`` called, inside the writer's transaction, for every
    release in which participants may no longer be used (an app's
    ``ready()`` registers it; registering it twice is a no-op)."""
    if all(f.callback is not callback for f in _flaggers):
        _flaggers.append(Flagger(callback, label))
    return callback


def participants_withdrawn_callbacks() -> tuple[Flagger, ...]:
    return tuple(_flaggers)


def lock_register() -> None:
    """Serialise writers of withdrawals and release loads (inside the
    caller's transaction), so a release being loaded sees every withdrawal
    recorded before it and a withdrawal sees every release loaded before it.
    On SQLite every write transaction already holds the one write lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REGISTER_LOCK_KEY])


@dataclass(frozen=True)
class WithdrawalEffect:
    """What a write of withdrawals changed."""

    no_longer_usable: dict[str, tuple[str, ...]]  # release name (newest first) -> participant ids it may no longer use
    flagged: dict[str, int]  # flagger label -> how many things it flagged

    def releases_of(self, participant_id: str) -> list[str]:
        """The releases in which ``participant_id`` may no longer be used because of this write."""
        return [name for name, ids in self.no_longer_usable.items() if participant_id in ids]


def _usable_among(release: DataRelease, participant_ids: Sequence[str]) -> set[tuple[int, str]]:
    rows = release_usable(release).filter(participant_id__in=participant_ids)
    return set(rows.values_list("pk", "participant_id"))


def withdrawals_take_effect(*, participant_ids: Collection[str], write: Callable[[], object]) -> WithdrawalEffect:
    """Run ``write``, which records withdrawals of ``participant_ids``, and
    make them take effect in every loaded release (inside the caller's
    transaction, after :func:`lock_register`)."""
    ids = sorted(set(participant_ids))
    holding = Participant.objects.filter(participant_id__in=ids).values("release_id")
    releases = list(DataRelease.objects.select_for_update().filter(pk__in=holding).order_by("-ingested_at", "-pk"))
    before = {release.pk: _usable_among(release, ids) for release in releases}
    write()
    no_longer: dict[str, tuple[str, ...]] = {}
    flagged: Counter[str] = Counter()
    for release in releases:
        gone = before[release.pk] - _usable_among(release, ids)
        if not gone:
            continue
        leavers = Participant.objects.filter(pk__in=[pk for pk, _ in gone])
        kept_counts_forget(release, leavers)
        phenotype_rollup_forget(release, leavers)
        release.withdrawals_version += 1  # the row is locked above
        release.save(update_fields=["counts", "withdrawals_version"])
        leaving = tuple(sorted(pid for _, pid in gone))
        no_longer[release.name] = leaving
        for flagger in _flaggers:
            flagged[flagger.label] += flagger.callback(release=release, participant_ids=leaving) or 0
    return WithdrawalEffect(no_longer_usable=no_longer, flagged=dict(flagged))
