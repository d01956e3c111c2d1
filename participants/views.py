"""The withdrawal register's page, for governance reviewers (404 for anyone else)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.requests import PortalRequest
from audit.models import AuditAction, AuditEvent
from audit.services import record
from participants import services
from participants.forms import WithdrawalForm
from participants.models import RegisteredWithdrawal
from participants.selectors import release_current, withdrawal_register_for_user
from participants.withdrawal_list import WithdrawalLine

PAGE_SIZE = 50


def _took_effect(entries: list[RegisteredWithdrawal]) -> dict[int, list[str]]:
    """Entry pk -> the releases it took effect in, as its audit event recorded them (one query)."""
    events = AuditEvent.objects.filter(
        action=AuditAction.WITHDRAWAL_RECORDED,
        target_type=RegisteredWithdrawal._meta.label_lower,
        target_id__in=[str(e.pk) for e in entries],
    ).values_list("target_id", "details")
    return {int(pk): details.get("no_longer_usable_in", []) for pk, details in events}


def _add_problems(form: WithdrawalForm, problems: list) -> None:
    for problem in problems:
        message = problem.message[:1].upper() + problem.message[1:]
        form.add_error(problem.field if problem.field in form.fields else None, message)


def _summary(recorded: services.WithdrawalsRecorded) -> str:
    releases = ", ".join(recorded.effect.no_longer_usable) or "no release"
    flagged = "; ".join(f"{label.capitalize()} flagged: {n}" for label, n in recorded.effect.flagged.items())
    return f"Withdrawal recorded. The participant is no longer used in {releases}." + (
        f" {flagged}." if flagged else ""
    )


@never_cache
@require_http_methods(["GET", "POST"])
def withdrawal_register(request: PortalRequest) -> HttpResponse:
    entries = withdrawal_register_for_user(user=request.user)  # 404 unless a governance reviewer
    form = WithdrawalForm(request.POST or None)
    confirm: dict[str, object] | None = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            line = WithdrawalLine(form.cleaned_data["participant_id"], form.cleaned_data["withdrawal_month"])
            if request.POST.get("confirm") == "yes":
                try:
                    recorded = services.withdrawals_record(
                        by=request.user, lines=[line], source=RegisteredWithdrawal.Source.PAGE
                    )
                except services.WithdrawalsRefused as refused:
                    _add_problems(form, refused.problems)
                else:
                    if recorded.entries:
                        messages.success(request, _summary(recorded))
                    else:
                        messages.info(request, f"Participant {line.participant_id} may be used in no release already; "
                                               "nothing was recorded.")  # fmt: skip
                    return redirect("participants:withdrawals")
            else:
                checked = services.withdrawals_check([line])
                _add_problems(form, checked.problems)
                if checked.already_withdrawn:
                    form.add_error(
                        None,
                        f"Participant {line.participant_id} may be used in no release already "
                        "(withdrawn in a release or in this register): there is nothing to record.",
                    )
                if form.is_valid():
                    confirm = {"line": line, "releases": checked.usable_in.get(line.participant_id, [])}
        if not form.is_valid():
            status = 400
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page)
    took_effect = _took_effect(shown)
    record(action=AuditAction.WITHDRAWALS_VIEWED, by=request.user, details={"page": page.number})
    context = {
        "form": form,
        "confirm": confirm,
        "page": page,
        "rows": [(entry, took_effect.get(entry.pk, [])) for entry in shown],
        "release": release_current(),
        "flagged_action": AuditAction.COHORTS_FLAGGED.value,
    }
    return render(request, "participants/withdrawals.html", context, status=status)
