from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "cohorts"
    verbose_name = "Cohorts"

    def ready(self) -> None:
        # Participants may withdraw after a cohort was saved (the withdrawal
        # register, or a newer release): flag the saved cohorts holding them,
        # in the same transaction (participants.withdrawals, docs/adr/0011).
        from cohorts.services import cohorts_flag_withdrawals
        from participants.withdrawals import on_participants_withdrawn

        on_participants_withdrawn(cohorts_flag_withdrawals, label="saved cohorts")
