"""The Celery app. tenant-schemas-celery stamps the current schema on every task it sends."""

import os

from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun
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


@setup_logging.connect
def use_the_projects_logging(**kwargs) -> None:
    """Worker and beat write the same redacted JSON lines as web (settings.LOGGING), not Celery's own
    format: connecting this signal keeps Celery from configuring the root logger."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@before_task_publish.connect
def stamp_request_id(headers=None, **kwargs) -> None:
    """The request (or task) that enqueues a task hands its request ID on in a task header."""
    from nevermisscall.middleware import request_id_var

    if headers is not None and "request_id" not in headers:
        request_id = request_id_var.get()
        if request_id and request_id != "-":
            headers["request_id"] = request_id


def _header(task, name: str):
    request = task.request
    value = getattr(request, name, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(name)
    return value


@task_prerun.connect
def adopt_request_id(task=None, **kwargs) -> None:
    """A task's log lines carry the request ID of the request that enqueued it (or its own task ID)."""
    from nevermisscall.middleware import request_id_var

    if task is None or getattr(task.request, "is_eager", False):
        return  # Run inline by its caller, whose request ID its lines already carry.
    task.request._request_id_token = request_id_var.set(_header(task, "request_id") or task.request.id or "-")


@task_postrun.connect
def drop_request_id(task=None, **kwargs) -> None:
    from nevermisscall.middleware import request_id_var

    token = getattr(getattr(task, "request", None), "_request_id_token", None)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # Set in another context (an eager task run by a thread).
            request_id_var.set("-")
