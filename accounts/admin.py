from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.authorization import forget_cached_roles
from accounts.models import ResearcherProfile, RoleAssignment, User
from audit.models import AuditAction
from audit.services import record


class ProfileInline(admin.StackedInline):
    model = ResearcherProfile
    can_delete = False


class RoleInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    extra = 0
    readonly_fields = ["granted_at", "granted_by"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Administrators' changes are audited like any other (the admin runs each
    save in one transaction, so the event commits with the change)."""

    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "full_name", "password"]}),
        ("Status", {"fields": ["is_active", "is_staff", "is_superuser", "last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    inlines = [ProfileInline, RoleInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record(
            action=AuditAction.ACCOUNT_UPDATED if change else AuditAction.ACCOUNT_CREATED,
            by=request.user,
            target=obj,
            details={"fields": sorted(form.changed_data), "via": "admin"},
        )

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            if isinstance(deleted, RoleAssignment):
                record(
                    action=AuditAction.ROLE_REVOKED,
                    by=request.user,
                    target=deleted.user,
                    details={"role": deleted.role, "via": "admin"},
                )
            deleted.delete()
        for instance in instances:
            is_new_role = isinstance(instance, RoleAssignment) and instance.pk is None
            if is_new_role:
                instance.granted_by = request.user
            instance.save()
            if is_new_role:
                record(
                    action=AuditAction.ROLE_GRANTED,
                    by=request.user,
                    target=instance.user,
                    details={"role": instance.role, "via": "admin"},
                )
                forget_cached_roles(instance.user)
            elif isinstance(instance, ResearcherProfile):
                record(
                    action=AuditAction.ACCOUNT_UPDATED,
                    by=request.user,
                    target=instance.user,
                    details={"fields": ["profile"], "via": "admin"},
                )
        formset.save_m2m()


# Two-factor devices: an administrator may see that a device exists and remove
# a lost one (the person then enrols a new one at their next sign-in), but never
# read its secret. django-otp's own admin shows the secret as a QR code, which
# would let whoever opens it copy someone's second factor.
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    list_display = fields = readonly_fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    search_fields = ["user__email"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
