from django.http import HttpRequest

from accounts.authorization import Permission, has_permission
from accounts.requests import is_verified


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    verified = is_verified(user)
    return {
        "nav_signed_in": verified,
        "nav_can_view_audit": verified and has_permission(user, Permission.AUDIT_VIEW),
        "nav_can_record_withdrawals": verified and has_permission(user, Permission.WITHDRAWAL_RECORD),
        "nav_is_output_checker": verified and has_permission(user, Permission.OUTPUT_REVIEW),
    }
