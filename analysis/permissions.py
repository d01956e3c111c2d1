"""Who may do what with analysis jobs.

A job belongs to its project: whoever may reach the project's data (an
accredited member of an approved, current project: ``domains.permissions``)
may see its jobs, submit, cancel and retry. Each action has a pair:
``check_user_can_<action>`` raises with a reason a person can read, and
``user_can_<action>`` answers for templates. States come from
``analysis.policies`` only.
"""

from __future__ import annotations

from typing import Any

from analysis.models import AnalysisJob, JobStatus
from analysis.policies import JOB, Action, Party, TransitionNotAllowed
from domains.models import Project
from domains.permissions import NotAllowed, check_user_can_access_project_data, user_can_access_project_data


def check_user_can_submit_job(user: Any, project: Project) -> None:
    """Raises ``DataAccessDenied`` (a ``NotAllowed``) unless the user may reach the project's data."""
    check_user_can_access_project_data(user, project)


def check_user_can_see_job(user: Any, job: AnalysisJob) -> None:
    check_user_can_access_project_data(user, job.project)


def check_user_can_act_on_job(user: Any, job: AnalysisJob, action: Action) -> None:
    if JOB.party_for(action) is not Party.MEMBER:
        raise NotAllowed("The portal does this itself.")
    check_user_can_access_project_data(user, job.project)
    JOB.transition(job.status, action)
    if action is Action.CANCEL and job.status == JobStatus.RUNNING and job.cancel_requested_at is not None:
        raise TransitionNotAllowed("A cancel was already asked for: the job stops at its next block.")


def user_can_act_on_job(user: Any, job: AnalysisJob, action: Action) -> bool:
    try:
        check_user_can_act_on_job(user, job, action)
    except (NotAllowed, TransitionNotAllowed):
        return False
    return True


def check_user_can_cancel_job(user: Any, job: AnalysisJob) -> None:
    check_user_can_act_on_job(user, job, Action.CANCEL)


def user_can_cancel_job(user: Any, job: AnalysisJob) -> bool:
    return user_can_act_on_job(user, job, Action.CANCEL)


def check_user_can_retry_job(user: Any, job: AnalysisJob) -> None:
    check_user_can_act_on_job(user, job, Action.RETRY)


def user_can_retry_job(user: Any, job: AnalysisJob) -> bool:
    return user_can_act_on_job(user, job, Action.RETRY)


def user_can_submit_job(user: Any, project: Project) -> bool:
    return user_can_access_project_data(user, project)
