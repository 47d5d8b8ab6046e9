"""Cross-cutting behaviour: health, metrics, rate limits, request ids, OpenAPI."""

import pytest
from django.conf import settings
from django.test import override_settings

from nevermisscall.testing import assert_envelope_error, assert_envelope_ok

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"


def test_healthz_and_readyz_shapes(client):
    assert client.get("/healthz").json() == {"status": "ok", "ok": True}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["db"] == "ok" and ready.json()["redis"] == "ok"
    assert client.get("/health/live").json()["status"] == "ok"


def test_health_detailed_reports_each_dependency(client):
    body = client.get("/health/detailed").json()
    # apps/ops adds the broker's queues, beat and the providers (from their circuit breakers).
    assert set(body["checks"]) == {
        *("database", "redis", "celery", "outbox", "mail"),
        *("queues", "beat", "twilio", "openai", "geocoding"),
    }
    assert body["checks"]["database"]["status"] == "healthy"
    assert body["checks"]["redis"]["status"] == "healthy"
    assert body["checks"]["database"]["response_time_ms"] >= 0
    # No Celery worker runs in this test: that is degraded, not down.
    assert body["status"] in {"healthy", "degraded"}


def _caches_pointing_at(url: str) -> dict:
    return {alias: {**config, "LOCATION": url} for alias, config in settings.CACHES.items()}


def test_stopped_redis_makes_health_degraded_not_a_crash(client, alice, client_for):
    with override_settings(REDIS_URL=DEAD_REDIS, CACHES=_caches_pointing_at(DEAD_REDIS)):
        health = client.get("/health")
        ready = client.get("/readyz")
        # The API keeps answering: the rate limiter fails open and the tenant cache falls back to the database.
        profile = client_for(alice).get("/auth/profile")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["status"] == "unhealthy"
    assert body["checks"]["database"]["status"] == "healthy"
    assert ready.status_code == 200 and ready.json()["redis"] == "error"
    assert_envelope_ok(profile)


def test_metrics_json_and_prometheus(client):
    client.get("/healthz")
    body = client.get("/metrics").json()
    assert body["requests"]["total"] >= 1 and body["businesses"] >= 2
    text = client.get("/metrics/prometheus")
    assert text["Content-Type"].startswith("text/plain")
    assert b"nmc_http_requests_total" in text.content


def test_rate_limit_per_ip_answers_429_with_retry_after(client_for, alice):
    with override_settings(RATE_LIMIT_PER_IP="3/minute"):
        client = client_for(alice, REMOTE_ADDR="198.51.100.9")
        responses = [client.get("/auth/profile") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[0]["X-RateLimit-Limit"] == "3"
    assert [r["X-RateLimit-Remaining"] for r in responses[:3]] == ["2", "1", "0"]
    assert int(responses[0]["X-RateLimit-Reset"]) > 0
    error = assert_envelope_error(responses[3], 429, "RATE_LIMIT_EXCEEDED")
    assert 1 <= int(responses[3]["Retry-After"]) <= 60
    assert error["details"]["retry_after"] == int(responses[3]["Retry-After"])


def test_rate_limit_per_tenant_spans_clients(client_for, alice, bob):
    with override_settings(RATE_LIMIT_PER_TENANT="2/minute"):
        first = client_for(alice, REMOTE_ADDR="198.51.100.10").get("/auth/profile")
        second = client_for(bob, REMOTE_ADDR="198.51.100.11").get("/auth/profile")
        third = client_for(bob, REMOTE_ADDR="198.51.100.12").get("/auth/profile")
    assert (first.status_code, second.status_code, third.status_code) == (200, 200, 429)


def test_request_id_is_echoed_or_generated(client):
    echoed = client.get("/auth/profile", HTTP_X_REQUEST_ID="trace-abc-123")
    assert echoed["X-Request-ID"] == "trace-abc-123"
    assert echoed.json()["metadata"]["request_id"] == "trace-abc-123"
    generated = client.get("/auth/profile", HTTP_X_REQUEST_ID="bad id with spaces\n")
    assert generated["X-Request-ID"] != "bad id with spaces\n" and len(generated["X-Request-ID"]) == 36


def test_unauthenticated_api_call_is_401_envelope(client):
    assert_envelope_error(client.get("/auth/profile"), 401, "AUTH_TOKEN_INVALID")


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/auth/login",
        "/tenants",
        "/tenants/{tenant_id}",
        "/config/{tenant_id}",
        "/users/{user_id}/profile/photo",
        "/users/by-tenant/{tenant_id}",
    ):
        assert path in paths, path
    assert client.get("/docs").status_code == 200
    assert client.get("/redoc").status_code == 200


def test_openapi_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
