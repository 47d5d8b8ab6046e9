"""The seed-000 alerts APIs: rules CRUD, the alert actions, statistics, the internal evaluation,
the infrastructure family for platform staff; and Charlie (Beta) sees nothing of Alpha's."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from apps.alerts import services
from apps.alerts.models import Alert
from apps.analytics import metrics

RULE = {
    "name": "More than 3 missed calls in an hour",
    "metric": "calls_missed",
    "comparison": "gt",
    "threshold": 3,
    "window_minutes": 60,
    "severity": "critical",
    "channels": ["email", "sms"],
    "escalation_policy": [
        {"name": "Ana", "email": "ana@alpha.example", "delay_minutes": 0},
        {"name": "Ben", "phone": "+15005550122", "delay_minutes": 15},
    ],
    "quiet_hours_start": "22:00",
    "quiet_hours_end": "07:00",
}


def data(response, status=200):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is True
    return body["data"]


def error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False
    return body["error"]


def test_rules_crud_and_by_metric(alice, client_for):
    client = client_for(alice)
    rule = data(client.post("/api/alerts/rules", RULE, format="json"), 201)
    assert rule["escalation_policy"][1]["delay_minutes"] == 15 and rule["quiet_hours_start"] == "22:00:00"
    assert [r["id"] for r in data(client.get("/api/alerts/rules"))] == [rule["id"]]
    by_metric = data(client.get("/api/alerts/rules/by-metric", {"metric": "calls_missed"}))
    assert [(m["metric"], [r["id"] for r in m["rules"]]) for m in by_metric] == [("calls_missed", [rule["id"]])]
    catalogue = {m["metric"] for m in data(client.get("/api/alerts/rules/by-metric"))}
    assert {"sms_failure_rate", "lead_wait_max_seconds", "circuit_open", "calls"} <= catalogue
    updated = data(client.put(f"/api/alerts/rules/{rule['id']}", {"threshold": 5}, format="json"))
    assert updated["threshold"] == 5 and updated["name"] == RULE["name"]
    disabled = data(client.patch(f"/api/alerts/rules/{rule['id']}/status", {"enabled": False}, format="json"))
    assert disabled["is_enabled"] is False
    assert data(client.get("/api/alerts/rules", {"enabled": "true"})) == []
    assert client.delete(f"/api/alerts/rules/{rule['id']}").status_code == 204
    error(client.get(f"/api/alerts/rules/{rule['id']}"), 404)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metric": "vibes"}, "metric"),
        ({"metric": "circuit_open"}, "subject"),
        ({"comparison": "about"}, "comparison"),
        ({"channels": ["pigeon"]}, "channels"),
        ({"quiet_hours_end": None}, "quiet_hours_start"),
        ({"escalation_policy": [{"name": "Nobody"}]}, "escalation_policy.0"),
    ],
)
def test_a_rule_that_cannot_be_evaluated_is_refused(alice, client_for, change, field):
    client = client_for(alice)
    problem = error(client.post("/api/alerts/rules", {**RULE, **change}, format="json"), 400)
    assert field.split(".")[0] in json.dumps(problem["details"]), problem
    assert data(client.get("/api/alerts/rules")) == []


def test_staff_may_read_and_act_but_not_write_rules(bob, client_for):
    client = client_for(bob)
    assert client.get("/api/alerts/rules").status_code == 200
    error(client.post("/api/alerts/rules", RULE, format="json"), 403)


def test_alert_actions_history_and_statistics(alice, alpha, client_for, twilio):
    client = client_for(alice)
    alert = data(client.post("/api/alerts/test"), 201)
    assert alert["state"] == "active" and alert["alert_type"] == "test"
    assert [a["id"] for a in data(client.get("/api/alerts/active"))] == [alert["id"]]
    page = client.get("/api/alerts", {"severity": "info", "page": 1, "limit": 10})
    assert [a["id"] for a in data(page)] == [alert["id"]] and page.json()["metadata"]["total_count"] == 1
    assert data(client.get("/api/alerts", {"state": "resolved"})) == []
    error(client.get("/api/alerts", {"state": "sleeping"}), 400)
    acked = data(client.post(f"/api/alerts/{alert['id']}/acknowledge"))
    assert acked["state"] == "acknowledged" and acked["acknowledged_by"] == alice.email
    error(client.post(f"/api/alerts/{alert['id']}/acknowledge"), 409)
    error(client.post(f"/api/alerts/{alert['id']}/snooze", {"minutes": 0}, format="json"), 400)
    until = (timezone.now() + timedelta(hours=1)).isoformat()
    assert data(client.post(f"/api/alerts/{alert['id']}/snooze", {"until": until}, format="json"))["state"] == "snoozed"
    resolved = data(client.post(f"/api/alerts/{alert['id']}/resolve", {"note": "checked"}, format="json"))
    assert (resolved["state"], resolved["resolution"]) == ("resolved", "manual")
    kinds = [event["kind"] for event in data(client.get(f"/api/alerts/{alert['id']}/history"))]
    assert kinds == ["triggered", "notified", "acknowledged", "snoozed", "resolved"]
    stats = data(client.get("/api/alerts/statistics", {"days": 7}))
    assert (stats["total"], stats["resolved"], stats["active"]) == (1, 1, 0)
    assert stats["mean_minutes_to_acknowledge"] is not None
    with tenant_context(alpha):
        second = services.alert_test(actor="x")
        third = services.alert_test(actor="y")
    done = data(
        client.post("/api/alerts/bulk/acknowledge", {"alert_ids": [str(second.id), str(third.id)]}, format="json")
    )
    assert sorted(done["acknowledged"]) == sorted([str(second.id), str(third.id)])


def test_internal_evaluate_runs_the_named_business_cycle(alpha, client):
    with tenant_context(alpha):
        services.alert_rule_create(name="Any missed", metric="calls_missed", comparison="gte", threshold=1)
        metrics.metrics_record(increments=[("calls_missed", 1.0)])
    headers = {"HTTP_X_SERVICE_KEY": settings.INTERNAL_SERVICE_KEY, "HTTP_X_BUSINESS_ID": str(alpha.id)}
    result = data(client.post("/internal/alerts/evaluate", **headers))
    assert result["raised"] == 1
    assert client.post("/internal/alerts/evaluate", HTTP_X_BUSINESS_ID=str(alpha.id)).status_code in (401, 403)
    with tenant_context(alpha):
        assert Alert.objects.filter(rule__name="Any missed", state="active").count() == 1


def test_charlie_sees_nothing_of_alphas_alerts(alice, alpha, charlie, client_for, twilio):
    with tenant_context(alpha):
        rule = services.alert_rule_create(**{**RULE, "escalation_policy": []})
        alert = services.alert_test(actor="alice")
    client = client_for(charlie)
    assert data(client.get("/api/alerts")) == []
    assert data(client.get("/api/alerts/active")) == []
    assert data(client.get("/api/alerts/rules")) == []
    assert all(m["rules"] == [] for m in data(client.get("/api/alerts/rules/by-metric")))
    assert data(client.get("/api/alerts/statistics"))["total"] == 0
    for method, path, body in [
        ("get", f"/api/alerts/{alert.id}", None),
        ("get", f"/api/alerts/{alert.id}/history", None),
        ("post", f"/api/alerts/{alert.id}/acknowledge", None),
        ("post", f"/api/alerts/{alert.id}/snooze", {"minutes": 10}),
        ("post", f"/api/alerts/{alert.id}/resolve", {}),
        ("get", f"/api/alerts/rules/{rule.id}", None),
        ("put", f"/api/alerts/rules/{rule.id}", {"threshold": 1}),
        ("patch", f"/api/alerts/rules/{rule.id}/status", {"enabled": False}),
        ("delete", f"/api/alerts/rules/{rule.id}", None),
    ]:
        error(getattr(client, method)(path, body, format="json"), 404)
    assert data(client.post("/api/alerts/bulk/acknowledge", {"alert_ids": [str(alert.id)]}, format="json")) == {
        "acknowledged": []
    }
    # Platform alerts are for platform staff only.
    error(client.get("/alerts"), 403)
    error(client.get(f"/alerts/{alert.id}"), 403)
    with tenant_context(alpha):
        alert.refresh_from_db()
        rule.refresh_from_db()
        assert alert.state == "active" and rule.is_enabled


def test_system_alerts_for_platform_staff(db, client, twilio):
    from nevermisscall import breakers

    headers = {"HTTP_X_ADMIN_API_KEY": settings.ADMIN_API_KEY}
    breakers._redis().set("nmc:breaker:test-system:pybreaker:state", "open")
    try:
        from apps.alerts import system

        with schema_context("public"):
            assert system.system_alerts_check()["raised"] >= 1
        listed = data(client.get("/alerts/service/test-system", **headers))
        assert [(a["alert_type"], a["severity"]) for a in listed] == [("circuit_open", "critical")]
        acked = data(client.post(f"/alerts/{listed[0]['id']}/acknowledge", **headers))
        assert acked["state"] == "acknowledged"
        breakers._redis().set("nmc:breaker:test-system:pybreaker:state", "closed")
        with schema_context("public"):
            system.system_alerts_check()
        assert data(client.get(f"/alerts/{listed[0]['id']}", **headers))["resolution"] == "auto"
        custom = data(
            client.post(
                "/alerts", {"title": "Deploy at 5", "type": "maintenance"}, content_type="application/json", **headers
            ),
            201,
        )
        assert data(client.get("/alerts/type/maintenance", **headers))[0]["id"] == custom["id"]
    finally:
        breakers._redis().delete("nmc:breaker:test-system:pybreaker:state")


def test_deleting_a_rule_resolves_its_open_alert(alice, alpha, client_for):
    with tenant_context(alpha):
        rule = services.alert_rule_create(name="Gone soon", metric="calls", comparison="lt", threshold=1)
        alert = services.alert_raise(
            fingerprint=f"rule:{rule.pk}", rule=rule, title=rule.name, source="rule", alert_type="calls"
        )
    assert client_for(alice).delete(f"/api/alerts/rules/{rule.id}").status_code == 204
    with tenant_context(alpha):
        alert.refresh_from_db()
        assert (alert.state, alert.rule_id, alert.resolved_by) == ("resolved", None, alice.email)
