from django.apps import AppConfig


class AirlockConfig(AppConfig):
    name = "airlock"
    verbose_name = "Airlock (output requests)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Outputs of jobs flagged for withdrawn participants are flagged in open
        # requests in the same transaction (after analysis flags the jobs:
        # this app comes after it in INSTALLED_APPS).
        from airlock.services import requests_flag_withdrawals
        from participants.withdrawals import on_participants_withdrawn

        on_participants_withdrawn(requests_flag_withdrawals, label="output requests")
