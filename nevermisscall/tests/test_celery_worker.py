"""A real Celery worker process on the real Redis broker answers the health check's ping; worker
processes check their database connection before each task."""

import threading

import pytest
from django.db import connection, connections

from nevermisscall.celery import drop_dead_database_connections

pytestmark = pytest.mark.django_db


def test_health_reports_a_running_worker_as_healthy(client, celery_worker_process):
    body = client.get("/health/detailed").json()
    assert body["checks"]["celery"]["status"] == "healthy", body
    assert body["checks"]["celery"]["details"]["workers"] >= 1
    # No beat runs in the tests (apps/ops reports its last tick), so the whole may be degraded.
    assert body["status"] in {"healthy", "degraded"}, body


def test_a_task_after_the_database_dropped_its_connection_gets_a_working_one():
    """Connections outlive their task (CELERY_DB_REUSE_MAX); before the next task a dead one is
    given back and the pool's checkout replaces it (the first task after a PostgreSQL restart)."""
    results = {}

    def worker_thread():
        try:
            connection.ensure_connection()
            connection.connection.close()  # The server went away between two tasks.
            drop_dead_database_connections()
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                results["query"] = cursor.fetchone()[0]
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker_thread)
    thread.start()
    thread.join(10)
    assert results == {"query": 1}
