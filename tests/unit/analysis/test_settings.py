"""Analysis tasks are set for no lost work: limits inside the broker's visibility timeout."""

from django.conf import settings


def test_a_job_task_ends_before_the_broker_would_redeliver_it():
    assert settings.ANALYSIS_SOFT_TIME_LIMIT < settings.ANALYSIS_TIME_LIMIT
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > settings.ANALYSIS_TIME_LIMIT
    assert settings.ANALYSIS_HEARTBEAT_WARN_SECONDS < settings.ANALYSIS_HEARTBEAT_TIMEOUT_SECONDS
