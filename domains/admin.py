"""Administrators may correct a domain's name and description here. Memberships
and projects change only through their workflows, so the admin shows them read-only."""

from django.contrib import admin

from audit.models import AuditAction
from audit.services import record
from domains.models import Domain, MembershipApplication, Project


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["name", "programme", "slug"]
    list_filter = ["programme"]
    search_fields = ["name", "slug"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record(
            action=AuditAction.DOMAIN_UPDATED if change else AuditAction.DOMAIN_CREATED,
            by=request.user,
            target=obj,
            details={"fields": sorted(form.changed_data), "via": "admin"},
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MembershipApplication)
class MembershipApplicationAdmin(ReadOnlyAdmin):
    list_display = ["applicant", "domain", "status", "created_at", "decided_at"]
    list_filter = ["status", "domain"]
    list_select_related = ["applicant", "domain"]


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ["title", "domain", "owner", "status", "end_date"]
    list_filter = ["status", "domain"]
    list_select_related = ["owner", "domain"]
