"""Seed 000's /health/*, /metrics/*, /registry/* and seed 003's /status over live checks."""

import json

import pytest
import redis
from django.conf import settings

from apps.ops import history
from apps.ops.tests.test_logs import _staff, staff  # noqa: F401  (fixtures)
from conftest import PASSWORD
from nevermisscall.health import DEGRADED, HEALTHY, UNHEALTHY

pytestmark = pytest.mark.django_db

COMPONENTS = {"database", "redis", "celery", "queues", "beat", "outbox", "mail", "twilio", "openai", "geocoding"}


@pytest.fixture
def staff_client(client, staff):  # noqa: F811
    assert client.login(username=staff.email, password=PASSWORD)
    return client


@pytest.fixture
def broker():
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


def test_overview_checks_every_real_component(client):
    response = client.get("/health/overview")
    body = response.json()
    assert response.status_code == 200
    assert {s["name"] for s in body["services"]} == COMPONENTS
    by_name = {s["name"]: s for s in body["services"]}
    assert by_name["database"]["status"] == HEALTHY and by_name["database"]["critical"] is True
    assert by_name["redis"]["status"] == HEALTHY
    # No worker runs in this test: degraded, not down, and not critical.
    assert by_name["celery"]["status"] == DEGRADED
    assert body["status"] in {HEALTHY, DEGRADED}
    assert sum(body["summary"][k] for k in (HEALTHY, DEGRADED, UNHEALTHY)) == body["summary"]["total"] == 10


def test_services_filter_detail_and_history(client):
    services = client.get("/health/services", {"category": "datastore"}).json()["services"]
    assert {s["name"] for s in services} == {"database", "redis"}
    assert services[0]["details"]
    assert {s["name"] for s in client.get("/health/services", {"status": "degraded"}).json()["services"]} >= {"celery"}
    assert client.get("/health/services", {"status": "bad"}).status_code == 400
    database = client.get("/health/services/database").json()
    assert database["details"]["vendor"] == "postgresql" and database["details"]["server_version"]
    # Every check is stored: the three runs above are the newest entries of the history.
    entries = client.get("/health/services/database/history", {"limit": 3}).json()["history"]
    assert len(entries) == 3 and all(e["status"] == HEALTHY for e in entries)
    assert entries[0]["checked_at"] >= entries[-1]["checked_at"]
    assert client.get("/health/services/nope").status_code == 404
    assert client.get("/health/services/nope/history").json()["error"]["code"] == "SERVICE_NOT_FOUND"
    assert client.get("/health/services/database/history", {"limit": "0"}).status_code == 400


def test_history_is_pruned_to_its_length(client, settings, broker):
    settings.HEALTH_HISTORY_LENGTH = 3
    broker.delete(history.KEY.format("redis"))
    for _ in range(5):
        client.get("/health/services/redis")
    assert broker.llen(history.KEY.format("redis")) == 3
    uptime = client.get("/health/services/redis").json()["uptime"]
    assert uptime["checks"] == 3 and uptime["uptime_percent"] == 100.0


def test_queue_depth_comes_from_the_broker(client, settings, broker):
    settings.HEALTH_QUEUE_DEPTH_WARNING = 2
    broker.delete("celery")
    broker.rpush("celery", *[json.dumps({"n": n}) for n in range(3)])
    try:
        body = client.get("/health/services/queues").json()
    finally:
        broker.delete("celery")
    assert body["details"]["queues"] == {"celery": 3}
    assert body["status"] == DEGRADED and body["message"] == "3 messages waiting"


def test_an_open_circuit_makes_its_provider_unhealthy_and_the_whole_degraded(client, broker, settings):
    settings.OPENAI_API_KEY = "sk-test-configured"
    prefix = "nmc:breaker:openai:pybreaker:"
    broker.set(prefix + "state", "open")
    broker.set(prefix + "fail_counter", 5)
    try:
        openai = client.get("/health/services/openai").json()
        overview = client.get("/health/overview").json()
    finally:
        broker.delete(prefix + "state", prefix + "fail_counter")
    assert openai["status"] == UNHEALTHY and "circuit open: openai" in openai["message"]
    assert openai["details"]["breakers"][0]["failure_count"] == 5
    assert overview["status"] == DEGRADED  # A provider is not critical.


def test_status_in_seed_003_shape_without_secrets(client, settings):
    settings.OPENAI_API_KEY = "sk-test-secret-openai-key-000"
    body = client.get("/status").json()
    assert body["application"] == {"status": "running", "version": "1.0.0", "environment": settings.APP_ENV}
    assert {"twilio", "openai", "geocoding", "database", "redis", "celery"} <= set(body["services"])
    assert {"deliveries_today", "delivery_success_rate", "businesses"} <= set(body["metrics"])
    assert "sk-test-secret-openai-key-000" not in json.dumps(body)
    settings.GOOGLE_MAPS_API_KEY = ""
    assert client.get("/status").json()["services"]["geocoding"]["status"] == "not_configured"


def test_manual_checks_metrics_and_registry_are_for_platform_staff(client, alice, staff_client):
    from django.test import Client

    paths = ["/metrics/system", "/metrics/services", "/metrics/infrastructure", "/registry", "/registry/dependencies"]
    anonymous = Client()
    for path in paths:
        assert anonymous.get(path).status_code == 401, path
    assert anonymous.post("/health/check").status_code == 401
    owner = Client()
    assert owner.login(username=alice.email, password=PASSWORD)
    for path in paths:
        assert owner.get(path).status_code == 403, path
    assert owner.post("/health/services/database/check").status_code == 403
    # With the service key (seed 000's internal callers) or a staff session.
    assert anonymous.get("/registry", HTTP_X_SERVICE_KEY=settings.INTERNAL_SERVICE_KEY).status_code == 200
    assert staff_client.post("/health/services/database/check").json()["status"] == HEALTHY


def test_registry_describes_the_deployment(staff_client, settings):
    settings.TWILIO_API_BASE_URL = "https://ACxx:secret-in-url@api.twilio.com"
    staff_client.get("/health/overview")  # Gives every component a last check.
    registry = staff_client.get("/registry").json()
    assert {s["name"] for s in registry["services"]} == COMPONENTS | {"web"}
    assert {s["name"] for s in staff_client.get("/registry/critical").json()["services"]} == {"web", "database"}
    assert {s["name"] for s in staff_client.get("/registry/tags/sms").json()["services"]} == {"twilio", "outbox"}
    categories = staff_client.get("/registry/categories").json()["categories"]
    assert set(categories["provider"]) == {"mail", "twilio", "openai", "geocoding"}
    graph = staff_client.get("/registry/dependencies").json()
    assert {"from": "celery", "to": "redis"} in graph["edges"]
    versions = staff_client.get("/registry/versions").json()["versions"]
    assert versions["celery"] and versions["django"]
    endpoints = staff_client.get("/registry/services/twilio/endpoints").json()["endpoints"]
    assert endpoints == ["https://api.twilio.com"]
    assert "secret-in-url" not in json.dumps(staff_client.get("/registry/services/twilio").json())
    assert staff_client.get("/registry/services/database/uptime").json()["checks"] >= 1
    stats = staff_client.get("/registry/statistics").json()
    assert stats["total"] == 11 and stats["critical"] == 2
    assert staff_client.get("/registry/services/nope").status_code == 404


def test_metrics_endpoints(staff_client):
    staff_client.get("/health/overview")
    system = staff_client.get("/metrics/system").json()["system"]
    assert system["memory_rss_bytes"] > 0 and system["pid"] > 0
    database = staff_client.get("/metrics/services/database").json()
    assert database["checks"] >= 1 and database["response_time_ms"]["p50"] is not None
    infrastructure = staff_client.get("/metrics/infrastructure").json()
    assert "celery" in infrastructure["queues"]
    assert {b["name"] for b in infrastructure["breakers"]} >= {"openai", "twilio-sms", "geocoding"}
    assert "dead" in infrastructure["deliveries_24h"]
    summary = staff_client.get("/metrics/summary").json()
    assert summary["requests"]["total"] >= 1
