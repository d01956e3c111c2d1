"""The demo's analysis work for ``manage.py seed_demo_analysis`` (DEBUG only):
an approved project for researcher@example.org, saved cohorts, and one job of
each type, queued through the services for the demo worker to run (the
association: cardiomyopathy cases against the rare disease programme, whose
planted MYBPC3 variant is its top hit). Idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from analysis.models import AnalysisJob, JobStatus
from analysis.registry import job_types
from analysis.services import job_submit
from cohorts.models import Cohort
from cohorts.services import cohort_create
from domains.demo import DEMO_LEAD_EMAIL
from domains.models import Domain, MembershipApplication, Project, ProjectStatus
from domains.services import membership_apply, membership_approve, project_approve, project_register
from participants.models import Gene
from participants.selectors import release_current
from participants.synthetic import SIGNAL_DISEASE, SIGNAL_GENE

DEMO_RESEARCHER_EMAIL = "researcher@example.org"
DEMO_DOMAIN = "cardiovascular"
DEMO_PROJECT = "Genetic causes of hypertrophic cardiomyopathy"
COHORTS = [
    ("Hypertrophic cardiomyopathy", "Participants with the diagnosis.",
     {"include_all": [{"type": "disease", "field": "specific_disease", "values": [SIGNAL_DISEASE]}]}),
    ("Rare disease programme", "Everyone recruited to the rare disease programme.",
     {"include_all": [{"type": "programme", "values": ["rare_disease"]}]}),
]  # fmt: skip


def _project(researcher: User, lead: User) -> Project:
    domain = Domain.objects.get(slug=DEMO_DOMAIN)
    if not MembershipApplication.objects.filter(domain=domain, applicant=researcher, status="approved").exists():
        pending = MembershipApplication.objects.filter(domain=domain, applicant=researcher, status="pending").first()
        pending = pending or membership_apply(
            domain=domain, by=researcher,
            justification="I study inherited heart muscle disease and need the domain's genomes.",
        )  # fmt: skip
        membership_approve(application=pending, by=lead, reason="Demo membership.")
    project = Project.objects.filter(owner=researcher, title=DEMO_PROJECT).first()
    if project is None:
        project = project_register(
            domain=domain, by=researcher, title=DEMO_PROJECT,
            lay_summary="Which gene changes make the heart muscle thicken, and how often they occur.",
            aims="Compare allele frequencies in cardiomyopathy genes between affected participants and the programme.",
            data_needed="Germline genomes, diagnoses and phenotypes of rare disease participants.",
            planned_outputs="Aggregate allele frequency tables and plots.",
            end_date=timezone.localdate() + timedelta(days=365),
        )  # fmt: skip
    if project.status == ProjectStatus.SUBMITTED:
        project_approve(project=project, by=lead, reason="Demo project.")
        project.refresh_from_db()
    return project


def seed_demo_analysis() -> list[str]:
    """Returns what was done, line by line."""
    release = release_current()
    if release is None:
        return ["No data release is loaded yet: nothing to analyse."]
    researcher = User.objects.get(email=DEMO_RESEARCHER_EMAIL)
    lead = User.objects.get(email=DEMO_LEAD_EMAIL)
    project = _project(researcher, lead)
    done = [f"Project “{project.title}” is approved."]
    cohorts = []
    for name, description, criteria in COHORTS:
        cohort = Cohort.objects.filter(project=project, name=name, release=release).first()
        if cohort is None:
            cohort = cohort_create(by=researcher, project=project, name=name, description=description,
                                   criteria_json=criteria)  # fmt: skip
            done.append(f"Cohort “{name}” saved.")
        cohorts.append(cohort)
    gene = SIGNAL_GENE if Gene.objects.filter(release=release, symbol=SIGNAL_GENE).exists() else None
    planned = {
        "association": ([("cases", cohorts[0]), ("controls", cohorts[1])], {}),
        "cohort-summary": ([("cohort", c) for c in cohorts], {}),
        "allele-frequencies": ([("cohort", c) for c in cohorts], {"gene": gene} if gene else {"region": "chr1"}),
    }
    for slug in job_types():
        if slug not in planned:
            continue
        if AnalysisJob.objects.filter(project=project, job_type=slug).exclude(status=JobStatus.FAILED).exists():
            continue
        inputs, parameters = planned[slug]
        job = job_submit(by=researcher, project=project, job_type=slug, inputs=inputs, parameters=parameters)
        done.append(f"Job {job.pk} ({slug}) queued for the demo worker.")
    return done
