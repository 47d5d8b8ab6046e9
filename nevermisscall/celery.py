"""The Celery app. tenant-schemas-celery stamps the current schema on every task it sends."""

import os

from celery.signals import task_prerun
from tenant_schemas_celery.app import CeleryApp, switch_schema

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nevermisscall.settings")

app = CeleryApp("nevermisscall")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def drop_dead_database_connections(sender=None, **kwargs) -> None:
    """Before each task, as Django does before each request: a connection kept from an earlier task
    (``CELERY_DB_REUSE_MAX``) goes back to the pool, whose checkout checks it, and one that broke is
    dropped. After a PostgreSQL restart the first task of each worker child otherwise failed on its
    dead connection, and its text waited ~15 s for a sweep (issue 11's fault run)."""
    from django.db import connections

    if sender is not None and getattr(sender.request, "is_eager", False):
        return  # Run inline by its caller (tests), on the caller's connection and transaction.
    for connection in connections.all(initialized_only=True):
        connection.close_if_unusable_or_obsolete()


# Ahead of tenant-schemas-celery's own handler, whose schema switch is the task's first query.
task_prerun.disconnect(switch_schema, dispatch_uid="tenant_schemas_switch_schema")
task_prerun.connect(drop_dead_database_connections)
task_prerun.connect(switch_schema, dispatch_uid="tenant_schemas_switch_schema")
