from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.requests import PortalRequest
from audit.models import AuditAction, AuditOutcome
from audit.selectors import AuditFilters, audit_events_for_user
from audit.services import record

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(choices=[("", "Any action"), *AuditAction.choices], required=False)
    outcome = forms.ChoiceField(choices=[("", "Any outcome"), *AuditOutcome.choices], required=False)
    actor = forms.CharField(label="Actor e-mail contains", max_length=254, required=False)
    target_type = forms.CharField(label="Target type", max_length=100, required=False)
    target_id = forms.CharField(label="Target id", max_length=100, required=False)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="Until", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return cleaned


@never_cache
@require_GET
def audit_log(request: PortalRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    cleaned = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = AuditFilters(
        action=cleaned.get("action", ""),
        actor=cleaned.get("actor", ""),
        outcome=cleaned.get("outcome", ""),
        target_type=cleaned.get("target_type", ""),
        target_id=cleaned.get("target_id", ""),
        since=cleaned.get("since"),
        until=cleaned.get("until"),
    )
    events = audit_events_for_user(user=request.user, filters=filters)  # 404 unless permitted
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    # The page is read before this view is recorded, so the count, the pages
    # and the rows all describe the same trail (the view shows on the next read).
    page.object_list = list(page.object_list)
    record(
        action=AuditAction.AUDIT_VIEWED,
        by=request.user,
        details={"filters": {key: str(value) for key, value in cleaned.items() if value}, "page": page.number},
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    template = "audit/_events.html" if request.htmx else "audit/log.html"
    return render(request, template, context, status=400 if form.errors else 200)
