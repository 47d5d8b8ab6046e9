"""The Celery app. tenant-schemas-celery stamps the current schema on every task it sends."""

import os

from celery.signals import task_postrun
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nevermisscall.settings")

app = CeleryApp("nevermisscall")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_postrun.connect
def drop_broken_database_connections(**kwargs) -> None:
    """Connections outlive their task (``CELERY_DB_REUSE_MAX``): one that failed is closed here, so
    the next task opens a fresh one instead of failing on it."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and connection.errors_occurred and not connection.is_usable():
            connection.close()
