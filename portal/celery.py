"""The Celery application: configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import worker_init
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("interactive", "heavy")]
app.autodiscover_tasks()


@worker_init.connect
def _import_job_types(**kwargs):
    """Import every job type in the worker's main process, before its pool processes are forked from
    it: they start with numpy, scipy, matplotlib and the kernels' modules loaded, instead of paying
    for those imports (about 1.7 s) during their first job."""
    from analysis.registry import job_types

    job_types()
