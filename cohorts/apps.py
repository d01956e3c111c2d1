from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "cohorts"
    verbose_name = "Cohorts"

    def ready(self) -> None:
        # A newer release may withdraw members of saved cohorts: flag them in
        # the load's own transaction (docs/adr/0007).
        from cohorts.services import cohorts_flag_after_load
        from participants.loader import on_release_loaded

        on_release_loaded(cohorts_flag_after_load)
