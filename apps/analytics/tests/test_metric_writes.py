"""Seed 000's writes: ``POST /api/metrics`` (a business's own metric points, counted into the rollups
beside the computed metrics) and ``POST /api/kpis`` (stored KPI snapshots); Beta sees none of Alpha's."""

from datetime import timedelta

import pytest
import time_machine
from django_tenants.utils import tenant_context

from apps.analytics.metrics import metrics_prune
from apps.analytics.models import CustomMetricPoint, MetricRollup
from apps.analytics.tests.test_figures_api import AT, NOW, get, prices, usage_data  # noqa: F401

pytestmark = pytest.mark.django_db


def post(client, path, body, status):
    response = client.post(path, body, content_type="application/json")
    assert response.status_code == status, response.content
    return response.json()


def test_recorded_points_are_rolled_up_beside_the_computed_metrics(alice, alpha, bob, charlie, beta, client_for):
    with time_machine.travel(NOW, tick=False):
        client = client_for(alice)
        first = post(
            client,
            "/api/metrics",
            {
                "name": "quote_value",
                "value": 120.5,
                "unit": "usd",
                "tags": {"source": "web"},
                "timestamp": AT.isoformat(),
            },
            201,
        )["data"]
        assert (first["metric"], first["unit"], first["tags"]) == ("custom.quote_value", "usd", {"source": "web"})
        keyed = {
            "name": "quote_value",
            "value": 79.5,
            "unit": "usd",
            "idempotency_key": "q-2",
            "timestamp": AT.isoformat(),
        }
        second = post(client, "/api/metrics", keyed, 201)["data"]
        assert post(client, "/api/metrics", keyed, 200)["data"]["id"] == second["id"]  # the retry records nothing
        reused = post(client, "/api/metrics", keyed | {"value": 1}, 409)
        assert reused["success"] is False

        since = (NOW - timedelta(hours=1)).isoformat()
        body = get(client, "/api/metrics", metric="custom.quote_value", since=since)["data"]
        assert [(row["n"], row["total"], row["peak"]) for row in body["metrics"]] == [(2, 200.0, 120.5)]
        assert body["custom_units"] == {"custom.quote_value": "usd"}
        everything = get(client, f"/api/tenants/{alpha.id}/metrics", grain=5, since=since)["data"]["metrics"]
        assert {row["metric"] for row in everything} == {"custom.quote_value"}

        # Refused, nothing stored: another unit, bad names, values, tags, times; staff cannot write.
        bad = [
            {"name": "quote_value", "value": 1, "unit": "eur"},
            {"name": "Quote Value", "value": 1},
            {"name": "x" * 33, "value": 1},
            {"name": "ok", "value": "NaN"},
            {"name": "ok", "value": "many"},
            {"name": "ok"},
            {"name": "ok", "value": 1, "tags": {"Bad Key": "x"}},
            {"name": "ok", "value": 1, "tags": {f"t{i}": "x" for i in range(11)}},
            {"name": "ok", "value": 1, "timestamp": (NOW - timedelta(days=8)).isoformat()},
            {"name": "ok", "value": 1, "timestamp": (NOW + timedelta(hours=1)).isoformat()},
        ]
        for payload in bad:
            refused = post(client, "/api/metrics", payload, 400)
            assert refused["success"] is False and refused["error"]["code"], payload
        post(client_for(bob), "/api/metrics", {"name": "ok", "value": 1}, 403)
        assert get(client, "/api/metrics", 400, metric="custom.Bad")["success"] is False
        with tenant_context(alpha):
            assert CustomMetricPoint.objects.count() == 2
            assert not MetricRollup.objects.filter(metric="custom.ok").exists()

        other = client_for(charlie)
        assert get(other, "/api/metrics", metric="custom.quote_value", since=since)["data"]["metrics"] == []
        assert get(other, "/api/metrics", since=since)["data"]["custom_units"] == {}
        get(other, f"/api/tenants/{alpha.id}/metrics", 404)
        post(other, "/api/metrics", {"name": "quote_value", "value": 5, "unit": "eur"}, 201)  # Beta's own unit
        with tenant_context(beta):
            assert CustomMetricPoint.objects.count() == 1

    with time_machine.travel(NOW + timedelta(days=8), tick=False), tenant_context(alpha):
        metrics_prune()
        assert CustomMetricPoint.objects.count() == 0
        assert MetricRollup.objects.filter(metric="custom.quote_value", grain=60).exists()  # hours stay


@pytest.mark.usefixtures("usage_data")
def test_kpi_snapshots_are_stored_and_listed(alice, alpha, bob, charlie, beta, client_for):
    with time_machine.travel(NOW, tick=False):
        client = client_for(alice)
        stored = post(client, "/api/kpis", {"period": "7d"}, 201)["data"]
        current = get(client, "/api/kpis", period="7d")["data"]
        figures = {key: value for key, value in current.items() if key not in ("calculated_at", "snapshots")}
        assert {key: stored[key] for key in figures} == figures  # the same figures GET computes
        assert (stored["calls"], stored["cost"]["total"]) == (12, 4.38)
        assert post(client, "/api/kpis", {"period": "year"}, 400)["success"] is False
        post(client_for(bob), "/api/kpis", {"period": "7d"}, 403)
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        later = post(client, "/api/kpis", {"period": "today"}, 201)["data"]
        listed = get(client, "/api/kpis")["data"]["snapshots"]
        assert [row["id"] for row in listed] == [later["id"], stored["id"]]
        assert listed[1]["calls"] == 12
        since = (NOW + timedelta(hours=1)).isoformat()
        assert [row["id"] for row in get(client, "/api/kpis", snapshot_since=since)["data"]["snapshots"]] == [
            later["id"]
        ]
        assert [r["id"] for r in get(client, "/api/kpis", snapshot_until=since)["data"]["snapshots"]] == [stored["id"]]
        assert [r["id"] for r in get(client, "/api/kpis", snapshot_period="7d")["data"]["snapshots"]] == [stored["id"]]
        assert get(client, "/api/kpis", 400, snapshot_since=since, snapshot_until=NOW.isoformat())["success"] is False
        assert get(client, "/api/kpis", 400, snapshot_since="yesterday")["success"] is False

        other = client_for(charlie)
        assert get(other, "/api/kpis")["data"]["snapshots"] == []
        assert post(other, "/api/kpis", {"period": "7d"}, 201)["data"]["calls"] == 0
        assert len(get(client, "/api/kpis")["data"]["snapshots"]) == 2
