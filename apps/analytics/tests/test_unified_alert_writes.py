"""Seed 001's ``POST /api/unified/alerts`` and ``PATCH /api/unified/alerts/{id}/resolve`` over
apps/alerts' store and services: a manual alert is an alert like any (listed, counted, notified,
with its history), refused input is seed 001's 422 and stores nothing; Beta cannot touch Alpha's."""

import uuid

import pytest
from django_tenants.utils import tenant_context

from apps.alerts.models import Alert, AlertEvent
from apps.outbox.models import Delivery

pytestmark = pytest.mark.django_db

MANUAL = {
    "component": "manual_intervention",
    "severity": "high",
    "message": "Manual maintenance alert",
    "details": {"operator": "ops-team", "maintenance_type": "scheduled"},
}


def _seed001_error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "error_code", "timestamp", "correlation_id"}
    return body


def test_create_and_resolve_a_manual_alert(alice, alpha, bob, charlie, beta, client_for):
    client = client_for(alice)
    created = client.post("/api/unified/alerts", MANUAL, content_type="application/json")
    assert created.status_code == 200, created.content
    body = created.json()
    assert body["status"] == "created"
    with tenant_context(alpha):
        alert = Alert.objects.get(pk=body["alert_id"])
        assert (alert.severity, alert.service, alert.alert_type, alert.source) == (
            "warning",
            "manual_intervention",
            "manual",
            "custom",
        )
        assert alert.message == "Manual maintenance alert" and alert.state == "active"
        triggered = AlertEvent.objects.get(alert=alert, kind=AlertEvent.Kind.TRIGGERED)
        assert triggered.actor == alice.email and triggered.detail["details"] == MANUAL["details"]
        assert Delivery.objects.filter(idempotency_key__contains=str(alert.pk)).exists()  # notified
    summary = client.get("/api/unified/alerts").json()["alert_summary"]
    assert summary["active_alerts"]["high"] == 1 and summary["active_alerts"]["total"] == 1

    # Beta: neither sees nor resolves it; an unknown or malformed id is 404 too.
    other = client_for(charlie)
    assert other.get("/api/unified/alerts").json()["alert_summary"]["active_alerts"]["total"] == 0
    _seed001_error(other.patch(f"/api/unified/alerts/{alert.pk}/resolve", {}, content_type="application/json"), 404)
    _seed001_error(
        client.patch(f"/api/unified/alerts/{uuid.uuid4()}/resolve", {}, content_type="application/json"), 404
    )
    _seed001_error(client.patch("/api/unified/alerts/not-an-id/resolve", {}, content_type="application/json"), 404)
    _seed001_error(
        client_for(bob).patch(f"/api/unified/alerts/{alert.pk}/resolve", {}, content_type="application/json"), 403
    )
    too_long = client.patch(
        f"/api/unified/alerts/{alert.pk}/resolve", {"note": "x" * 1001}, content_type="application/json"
    )
    assert _seed001_error(too_long, 422)["detail"][0]["loc"] == ["body", "note"]

    note = {"note": "Issue resolved by restarting service"}
    resolved = client.patch(f"/api/unified/alerts/{alert.pk}/resolve", note, content_type="application/json")
    assert resolved.status_code == 200, resolved.content
    assert resolved.json() == {"status": "resolved", "alert_id": str(alert.pk)}
    with tenant_context(alpha):
        alert.refresh_from_db()
        assert (alert.state, alert.resolution, alert.resolved_by) == ("resolved", "manual", alice.email)
        assert AlertEvent.objects.get(alert=alert, kind=AlertEvent.Kind.RESOLVED).detail == note
    _seed001_error(client.patch(f"/api/unified/alerts/{alert.pk}/resolve", {}, content_type="application/json"), 409)
    assert client.get("/api/unified/alerts").json()["alert_summary"]["active_alerts"]["total"] == 0


@pytest.mark.parametrize(
    "change",
    [
        {"severity": "urgent"},
        {"component": ""},
        {"component": "has spaces"},
        {"component": "x" * 41},
        {"message": ""},
        {"details": ["not", "an", "object"]},
        {"details": {"blob": "x" * 5000}},
    ],
)
def test_bad_input_is_refused_and_stores_nothing(alice, alpha, bob, client_for, change):
    client = client_for(alice)
    refused = _seed001_error(client.post("/api/unified/alerts", MANUAL | change, content_type="application/json"), 422)
    assert refused["error_code"] == "VALIDATION_ERROR" and refused["detail"][0]["loc"][0] == "body"
    missing = _seed001_error(
        client.post("/api/unified/alerts", {"severity": "low"}, content_type="application/json"), 422
    )
    assert {tuple(item["loc"]) for item in missing["detail"]} == {("body", "component"), ("body", "message")}
    _seed001_error(client_for(bob).post("/api/unified/alerts", MANUAL, content_type="application/json"), 403)
    with tenant_context(alpha):
        assert not Alert.objects.exists()
