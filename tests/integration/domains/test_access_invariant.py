"""Property: whatever happens (applications, decisions, revocations, projects
approved, end dates passing, training lapsing and renewed), a user reaches a
project's data if and only if they are an accredited, approved member of the
domain, on the project, and the project is approved and current.

The machine keeps its own model of the world and compares it with what the
portal answers after every step. Each example runs inside a savepoint that
is rolled back, so examples do not see each other's rows."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.models import ResearcherProfile, Role
from domains import services
from domains.models import MembershipApplication, Project, ProjectMember
from domains.permissions import DataAccessDenied, NotAllowed, user_can_access_project_data
from domains.selectors import project_get_for_data_access
from tests.conftest import _persona
from tests.factories.domains import DomainFactory, make_lead

USERS = 2
WHY = "I would like to work with this domain's data."


class AccessMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.savepoint = transaction.savepoint()

    @initialize()
    def setup(self):
        self.domain = DomainFactory()
        self.lead = make_lead(_persona(Role.RESEARCHER, accredited=True), self.domain)
        self.users = [_persona(Role.RESEARCHER, accredited=True) for _ in range(USERS)]
        # the model
        self.pending: set[int] = set()
        self.member: set[int] = set()
        self.accredited: set[int] = set(range(USERS))
        self.ready = True
        self.projects: list[dict] = []  # {"pk", "owner", "status", "members", "ended"}
        # Start where things get interesting: user 0 is a member running an
        # approved project; user 1 has applied. Rules take it from there.
        services.membership_apply(domain=self.domain, justification=WHY, by=self.users[0])
        services.membership_approve(application=self._application(0), by=self.lead)
        end_date = timezone.localdate() + timedelta(days=30)
        project = services.project_register(domain=self.domain, by=self.users[0], end_date=end_date, **self._FIELDS)
        services.project_approve(project=project, by=self.lead)
        services.membership_apply(domain=self.domain, justification=WHY, by=self.users[1])
        self.member.add(0)
        self.pending.add(1)
        self.projects.append({"pk": project.pk, "owner": 0, "status": "approved", "members": {0}, "ended": False})

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)

    def _application(self, i):
        return MembershipApplication.objects.filter(applicant=self.users[i], status__in=["pending", "approved"]).get()

    # --- membership ---------------------------------------------------------------------

    def _outsiders(self):
        return [i for i in range(USERS) if i not in self.pending and i not in self.member]

    @precondition(lambda self: self._outsiders())
    @rule(data=st.data())
    def apply(self, data):
        i = data.draw(st.sampled_from(self._outsiders()))
        services.membership_apply(domain=self.domain, justification=WHY, by=self.users[i])
        self.pending.add(i)

    @precondition(lambda self: self.pending or self.member)
    @rule(data=st.data())
    def apply_again_is_refused(self, data):
        i = data.draw(st.sampled_from(sorted(self.pending | self.member)))
        with pytest.raises(NotAllowed):
            services.membership_apply(domain=self.domain, justification=WHY, by=self.users[i])

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def approve(self, data):
        i = data.draw(st.sampled_from(sorted(self.pending)))
        services.membership_approve(application=self._application(i), by=self.lead)
        self.pending.discard(i)
        self.member.add(i)

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def reject(self, data):
        i = data.draw(st.sampled_from(sorted(self.pending)))
        services.membership_reject(application=self._application(i), by=self.lead, reason="Not now.")
        self.pending.discard(i)

    @precondition(lambda self: self.member)
    @rule(data=st.data())
    def revoke(self, data):
        i = data.draw(st.sampled_from(sorted(self.member)))
        services.membership_revoke(application=self._application(i), by=self.lead, reason="Left.")
        self.member.discard(i)

    # --- projects ------------------------------------------------------------------------

    _FIELDS = {
        "title": "A project",
        "lay_summary": "Plain words.",
        "aims": "Aims.",
        "data_needed": "Data.",
        "planned_outputs": "Counts.",
    }

    @precondition(lambda self: self.member and len(self.projects) < 4)
    @rule(data=st.data())
    def register_project(self, data):
        i = data.draw(st.sampled_from(sorted(self.member)))
        end_date = timezone.localdate() + timedelta(days=30)
        project = services.project_register(domain=self.domain, by=self.users[i], end_date=end_date, **self._FIELDS)
        self.projects.append({"pk": project.pk, "owner": i, "status": "submitted", "members": {i}, "ended": False})

    @precondition(lambda self: len(self.member) < USERS)
    @rule(data=st.data())
    def register_project_as_non_member_is_refused(self, data):
        i = data.draw(st.sampled_from([i for i in range(USERS) if i not in self.member]))
        with pytest.raises(NotAllowed):
            services.project_register(
                domain=self.domain, by=self.users[i], end_date=timezone.localdate() + timedelta(days=30), **self._FIELDS
            )

    @precondition(lambda self: any(p["status"] == "submitted" for p in self.projects))
    @rule(data=st.data())
    def approve_project(self, data):
        model = data.draw(st.sampled_from([p for p in self.projects if p["status"] == "submitted"]))
        services.project_approve(project=Project.objects.get(pk=model["pk"]), by=self.lead)
        model["status"] = "approved"

    @precondition(lambda self: self.projects)
    @rule(n=st.integers(0, 50), i=st.integers(0, USERS - 1))
    def add_member(self, n, i):
        model = self.projects[n % len(self.projects)]
        project = Project.objects.get(pk=model["pk"])
        allowed = (
            model["status"] == "approved"
            and not model["ended"]
            and model["owner"] in self.member
            and i in self.member
            and i not in model["members"]
        )
        if allowed:
            services.project_member_add(project=project, user=self.users[i], by=self.users[model["owner"]])
            model["members"].add(i)
        else:
            with pytest.raises(NotAllowed):
                services.project_member_add(project=project, user=self.users[i], by=self.users[model["owner"]])

    @precondition(lambda self: any(not p["ended"] for p in self.projects))
    @rule(data=st.data())
    def end_date_passes(self, data):
        model = data.draw(st.sampled_from([p for p in self.projects if not p["ended"]]))
        Project.objects.filter(pk=model["pk"]).update(end_date=timezone.localdate() - timedelta(days=1))
        model["ended"] = True

    @rule()
    def system_closes_ended_projects(self):
        closed = {p.pk for p in services.projects_close_ended()}
        expected = {p["pk"] for p in self.projects if p["status"] == "approved" and p["ended"]}
        assert closed == expected
        for model in self.projects:
            if model["pk"] in closed:
                model["status"] = "closed"

    # --- accreditation ---------------------------------------------------------------------

    @precondition(lambda self: self.accredited)
    @rule(data=st.data())
    def training_expires(self, data):
        i = data.draw(st.sampled_from(sorted(self.accredited)))
        ResearcherProfile.objects.filter(user=self.users[i]).update(
            training_completed_on=timezone.localdate() - timedelta(days=366)
        )
        self.accredited.discard(i)

    @precondition(lambda self: len(self.accredited) < USERS)
    @rule(data=st.data())
    def training_renewed(self, data):
        i = data.draw(st.sampled_from([i for i in range(USERS) if i not in self.accredited]))
        ResearcherProfile.objects.filter(user=self.users[i]).update(
            training_completed_on=timezone.localdate() - timedelta(days=1)
        )
        self.accredited.add(i)

    # --- the property ---------------------------------------------------------------------------

    @invariant()
    def data_access_matches_the_rules(self):
        if not getattr(self, "ready", False):
            return
        projects = {p.pk: p for p in Project.objects.select_related("domain").filter(domain=self.domain)}
        for model in self.projects:
            project = projects[model["pk"]]
            for i, user in enumerate(self.users):
                on_project = i in self.member and i in model["members"]
                expected = on_project and i in self.accredited and model["status"] == "approved" and not model["ended"]
                assert user_can_access_project_data(user, project) is expected, (i, model)
                if not on_project:
                    with pytest.raises(Http404):
                        project_get_for_data_access(user=user, pk=project.pk)
                elif expected:
                    assert project_get_for_data_access(user=user, pk=project.pk).pk == project.pk
                else:
                    with pytest.raises(DataAccessDenied):
                        project_get_for_data_access(user=user, pk=project.pk)
            # The lead decides; leading gives no access to the data.
            assert not user_can_access_project_data(self.lead, project)
            assert set(ProjectMember.objects.filter(project=project).values_list("user", flat=True)) == {
                self.users[i].pk for i in model["members"]
            }


@pytest.mark.django_db
def test_data_access_holds_exactly_for_accredited_members_of_approved_current_projects():
    run_state_machine_as_test(
        AccessMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
