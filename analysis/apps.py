from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "Analysis jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Results computed with participants who withdraw afterwards (the
        # withdrawal register, or a newer release) are flagged, in the same
        # transaction (participants.withdrawals, docs/adr/0011).
        from analysis.services import jobs_flag_withdrawals
        from participants.withdrawals import on_participants_withdrawn

        on_participants_withdrawn(jobs_flag_withdrawals, label="analysis results")
