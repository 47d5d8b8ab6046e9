"""A real Celery worker process on the real Redis broker answers the health check's ping; worker
processes keep their database connection between tasks unless it broke."""

import threading

import pytest
from django.db import connection, connections

from nevermisscall.celery import drop_broken_database_connections

pytestmark = pytest.mark.django_db


def test_health_reports_a_running_worker_as_healthy(client, celery_worker_process):
    body = client.get("/health/detailed").json()
    assert body["checks"]["celery"]["status"] == "healthy", body
    assert body["checks"]["celery"]["details"]["workers"] >= 1
    assert body["status"] == "healthy"


def test_a_worker_keeps_a_healthy_connection_between_tasks_and_drops_a_broken_one():
    """Connections outlive their task (CELERY_DB_REUSE_MAX); after a task, one that failed and no
    longer answers is closed, one that failed but still answers is kept."""
    results = {}

    def worker_thread():
        try:
            connection.ensure_connection()
            connection.errors_occurred = True  # A failed statement, connection still fine.
            drop_broken_database_connections()
            results["healthy_kept"] = connection.connection is not None
            connection.errors_occurred = True
            connection.connection.close()  # The server went away.
            drop_broken_database_connections()
            results["broken_dropped"] = connection.connection is None
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker_thread)
    thread.start()
    thread.join(10)
    assert results == {"healthy_kept": True, "broken_dropped": True}
