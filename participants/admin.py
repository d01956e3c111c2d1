from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html_join

from participants.bundle import left_out_lines
from participants.models import DataRelease, OntologyVersion, RegisteredWithdrawal


@admin.register(DataRelease)
class DataReleaseAdmin(admin.ModelAdmin):
    list_display = ["name", "release_date", "status", "ingested_at", "participant_count", "genomes", "withdrawn"]
    readonly_fields = [*(f.name for f in DataRelease._meta.fields), "left_out"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_participants=Count("participants"))

    @admin.display(description="participants", ordering="n_participants")
    def participant_count(self, obj):
        return obj.n_participants

    @admin.display(description="genomes")
    def genomes(self, obj):
        return obj.counts.get("genomes")

    @admin.display(description="withdrawn since previous")
    def withdrawn(self, obj):
        return obj.counts.get("withdrawn_since_previous")

    @admin.display(description="left out at ingest")
    def left_out(self, obj):
        lines = left_out_lines(obj.counts.get("left_out", {}))
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines)) if lines else "nothing"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OntologyVersion)
class OntologyVersionAdmin(admin.ModelAdmin):
    list_display = ["source", "version", "loaded_at", "n_terms", "n_ancestor_links", "n_gene_links"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RegisteredWithdrawal)
class RegisteredWithdrawalAdmin(admin.ModelAdmin):
    """The register, read only: nothing in the portal edits or removes an entry."""

    list_display = ["participant_id", "withdrawal_month", "recorded_at", "recorded_by", "source"]
    list_filter = ["source"]
    search_fields = ["participant_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
