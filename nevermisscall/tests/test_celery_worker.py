"""A real Celery worker process on the real Redis broker answers the health check's ping."""

import pytest

pytestmark = pytest.mark.django_db


def test_health_reports_a_running_worker_as_healthy(client, celery_worker_process):
    body = client.get("/health/detailed").json()
    assert body["checks"]["celery"]["status"] == "healthy", body
    assert body["checks"]["celery"]["details"]["workers"] >= 1
    assert body["status"] == "healthy"
