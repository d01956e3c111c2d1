from django.contrib import admin
from django.db.models import Count

from participants.models import DataRelease, OntologyVersion


@admin.register(DataRelease)
class DataReleaseAdmin(admin.ModelAdmin):
    list_display = ["name", "release_date", "status", "ingested_at", "participant_count", "genomes", "withdrawn"]
    readonly_fields = [f.name for f in DataRelease._meta.fields]

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
