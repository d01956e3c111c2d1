"""Who may do what with output requests. States come from ``airlock.policies``.

- The **author** is the project member who made the request; they act while
  they may reach the project's data (``domains.permissions``) and hold
  ``OUTPUT_REQUEST``.
- A **checker** holds ``OUTPUT_REVIEW`` and is neither the author nor on the
  project (its owner or a member, even one whose access lapsed).
- Members of the project may see its requests and its ledger; checkers see
  requests once submitted. Anyone else: 404 (the selectors say so).

Each action has a pair: ``check_user_can_<action>`` raises with a reason a
person can read, ``user_can_<action>`` answers for templates.
"""

from __future__ import annotations

from typing import Any

from accounts.authorization import Permission, has_permission
from airlock.models import OutputRequest, RequestStatus
from airlock.policies import REQUEST, Action, Party, TransitionNotAllowed
from domains.models import Project, ProjectMember
from domains.permissions import NotAllowed, check_user_can_access_project_data, user_can_access_project_data

__all__ = ["NotAllowed", "TransitionNotAllowed"]


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def is_on_project(user: Any, project: Project) -> bool:
    """Owner or member of the project (whatever their access now)."""
    return _signed_in(user) and (
        project.owner_id == user.pk or ProjectMember.objects.filter(project=project, user=user).exists()
    )


def is_checker(user: Any) -> bool:
    return has_permission(user, Permission.OUTPUT_REVIEW)


def user_can_check_request(user: Any, request: OutputRequest) -> bool:
    """An output checker who may review this request: never its author, never on its project."""
    return is_checker(user) and request.author_id != user.pk and not is_on_project(user, request.project)


def check_user_can_create_request(user: Any, project: Project) -> None:
    check_user_can_access_project_data(user, project)
    if not has_permission(user, Permission.OUTPUT_REQUEST):
        raise NotAllowed("Only researchers may ask for outputs to leave the environment.")


def user_can_create_request(user: Any, project: Project) -> bool:
    try:
        check_user_can_create_request(user, project)
    except NotAllowed:
        return False
    return True


def check_user_can_act(user: Any, request: OutputRequest, action: Action) -> None:
    """Raises ``NotAllowed`` (wrong person) or ``TransitionNotAllowed`` (wrong state)."""
    party = REQUEST.party_for(action)
    if party is Party.SYSTEM:
        raise NotAllowed("The portal does this itself.")
    if party is Party.AUTHOR:
        if request.author_id != getattr(user, "pk", None):
            raise NotAllowed("Only the author of the request may do this.")
        check_user_can_create_request(user, request.project)
    else:
        if request.author_id == getattr(user, "pk", None):
            raise NotAllowed("You cannot review your own request.")
        if not is_checker(user):
            raise NotAllowed("Only output checkers review requests.")
        if is_on_project(user, request.project):
            raise NotAllowed("You are on this request's project, so another output checker must review it.")
    REQUEST.transition(request.status, action)


def user_can_act(user: Any, request: OutputRequest, action: Action) -> bool:
    try:
        check_user_can_act(user, request, action)
    except (NotAllowed, TransitionNotAllowed):
        return False
    return True


def check_user_can_edit(user: Any, request: OutputRequest) -> None:
    check_user_can_act(user, request, Action.EDIT)


def user_can_edit(user: Any, request: OutputRequest) -> bool:
    return user_can_act(user, request, Action.EDIT)


def check_user_can_review(user: Any, request: OutputRequest) -> None:
    check_user_can_act(user, request, Action.REVIEW)


def user_can_review(user: Any, request: OutputRequest) -> bool:
    return user_can_act(user, request, Action.REVIEW)


def check_user_can_download(user: Any, request: OutputRequest) -> None:
    """A released file leaves only to its author, while they may reach the project's data."""
    if request.author_id != getattr(user, "pk", None):
        raise NotAllowed("Only the author of the request may download its released files.")
    check_user_can_access_project_data(user, request.project)
    if request.status != RequestStatus.RELEASED:
        raise TransitionNotAllowed("Files can be downloaded only once the request is released.")


def user_can_download(user: Any, request: OutputRequest) -> bool:
    try:
        check_user_can_download(user, request)
    except (NotAllowed, TransitionNotAllowed):
        return False
    return True


def user_can_see_request(user: Any, request: OutputRequest) -> bool:
    if not _signed_in(user):
        return False
    if request.author_id == user.pk:
        return True
    if user_can_access_project_data(user, request.project):
        return True
    return request.status != RequestStatus.PENDING and user_can_check_request(user, request)
