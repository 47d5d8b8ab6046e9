"""Seed 000's /api/dashboard, /api/kpis, /api/metrics and Bella's /api/unified/… against a fixed
dataset with hand-computed figures; Charlie (Beta) sees none of Alpha's."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.analytics.metrics import metrics_record
from apps.conversations.models import Conversation, Message
from apps.crm.models import Appointment, Customer
from apps.telephony.models import Call

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 10, 15, 32, tzinfo=UTC)
AT = datetime(2026, 6, 10, 15, 10, tzinfo=UTC)
EARLIER = datetime(2026, 6, 10, 13, 10, tzinfo=UTC)


@pytest.fixture
def prices(settings):
    settings.USAGE_PRICE_SMS_SEGMENT = 0.01
    settings.USAGE_PRICE_AI_1K_TOKENS = 0.5
    settings.USAGE_PRICE_CALL = 0.02


@pytest.fixture
def usage_data(alpha, prices):
    """Last hour (15:10): 10 calls (6 answered, 4 missed); 8 texts sent (6 of 1 segment, 2 of 3) and 2
    failed (1 each); 5 assistant turns (400…1200 ms), 4 of them spent 2,000 tokens, 1 fell back; 2
    bookings worth 150 + 250. Two hours before (13:10): 2 calls, neither answered."""
    with tenant_context(alpha):
        record = [("calls", 1.0)] * 10 + [("calls_answered", 1.0)] * 6 + [("calls_missed", 1.0)] * 4
        record += [("sms_sent", 1.0)] * 6 + [("sms_sent", 3.0)] * 2 + [("sms_failed", 1.0)] * 2
        record += [("ai_turns", ms) for ms in (400.0, 600.0, 800.0, 1000.0, 1200.0)]
        record += [("ai_tokens", 2000.0)] * 4 + [("ai_fallbacks", 1.0), ("bookings", 150.0), ("bookings", 250.0)]
        for increment in record:
            metrics_record(increments=[increment], at=AT)
        for _ in range(2):
            metrics_record(increments=[("calls", 1.0)], at=EARLIER)


def get(client, path, status=200, **params):
    response = client.get(path, params)
    assert response.status_code == status, response.content
    return response.json()


def test_kpis_and_metrics_from_the_rollups(alice, alpha, charlie, beta, client_for, usage_data):
    with time_machine.travel(NOW, tick=False):
        client = client_for(alice)
        kpis = get(client, "/api/kpis", period="7d")["data"]
        assert (kpis["calls"], kpis["calls_answered"], kpis["calls_missed"], kpis["answer_rate"]) == (12, 6, 4, 0.5)
        assert (kpis["sms_sent"], kpis["sms_segments"], kpis["sms_failure_rate"]) == (8, 12.0, 0.2)
        assert (kpis["ai_latency_avg_ms"], kpis["ai_tokens"], kpis["ai_fallback_rate"]) == (800.0, 8000, 0.2)
        assert (kpis["bookings"], kpis["booking_value"]) == (2, 400.0)
        # 14 segments × 0.01 + 8,000 tokens × 0.5/1k + 12 calls × 0.02.
        assert kpis["cost"] == {"sms": 0.14, "openai": 4.0, "voice": 0.24, "total": 4.38}
        assert get(client, "/api/kpis", 400, period="year")["success"] is False

        since = (NOW - timedelta(hours=3)).isoformat()
        rows = get(client, "/api/metrics", metric="calls", grain=60, since=since)["data"]["metrics"]
        assert [(row["bucket"][11:16], row["n"]) for row in rows] == [("13:00", 2), ("15:00", 10)]
        fine = get(client, f"/api/tenants/{alpha.id}/metrics", metric="ai_turns", grain=5, since=since)["data"]
        assert [(row["n"], row["total"], row["peak"]) for row in fine["metrics"]] == [(5, 4000.0, 1200.0)]
        get(client, f"/api/tenants/{beta.id}/metrics", 404)
        week_ago = (NOW - timedelta(days=8)).isoformat()
        assert get(client, "/api/metrics", 400, grain=5, since=week_ago)["error"]["code"]
        assert get(client, "/api/metrics", 400, since=NOW.isoformat(), until=since)["success"] is False

        other = client_for(charlie)
        assert get(other, "/api/kpis", period="7d")["data"]["calls"] == 0
        assert get(other, "/api/metrics", since=since)["data"]["metrics"] == []
        get(other, f"/api/tenants/{alpha.id}/metrics", 404)


def test_unified_figures(alice, charlie, client_for, usage_data):
    with time_machine.travel(NOW, tick=False):
        client = client_for(alice)
        business = get(client, "/api/unified/business-metrics")
        assert (business["total_calls"], business["completed_calls"], business["failed_calls"]) == (12, 6, 4)
        assert (business["success_rate"], business["avg_response_time"], business["fallback_usage_rate"]) == (
            0.5,
            0.8,
            0.2,
        )
        assert (business["ai_extraction_success_rate"], business["model_turn_share"]) == (0.8, 0.8)
        assert business["cost_per_call"] == 0.365  # 4.38 / 12

        trends = get(client, "/api/unified/trends", hours=3)
        assert trends["period_hours"] == 3
        assert [(t["hour"][11:16], t["total_calls"], t["successful_calls"], t["cost"]) for t in trends["trends"]] == [
            ("13:00", 2, 0, 0.04),
            ("14:00", 0, 0, 0.0),
            ("15:00", 10, 6, 4.34),  # 0.14 + 4.0 + 10 × 0.02
        ]
        assert get(client, "/api/unified/trends", 422, hours=0)["error_code"] == "VALIDATION_ERROR"

        sla = get(client, "/api/unified/sla-metrics")
        calls = sla["services"]["call_answer_rate"]
        assert (calls["current_sla"], calls["breach_count"], calls["total_minutes"], calls["downtime_minutes"]) == (
            50.0,
            2,
            10,
            10,
        )
        assert calls["last_breach"].startswith("2026-06-10T15:10")
        assert sla["services"]["sms_delivery_rate"]["current_sla"] == 80.0
        assert sla["services"]["ai_success_rate"]["current_sla"] == 80.0
        assert sla["overall_health_score"] == 70.0

        breakers = get(client, "/api/unified/circuit-breakers")
        assert (breakers["openai"]["total_requests"], breakers["openai"]["failed_requests"]) == (5, 1)
        assert breakers["sms"]["success_rate"] == 0.8

        costs = get(client, "/api/unified/cost-optimization")
        period = costs["cost_summary"]["current_period"]
        assert (period["sms_cost"], period["openai_cost"], period["voice_cost"], period["total_cost"]) == (
            0.14,
            4.0,
            0.24,
            4.38,
        )
        found = {r["component"]: r for r in costs["recommendations"]}
        assert found["sms"]["current"] == 1.4 and found["sms"]["savings"] == 0.04  # 4 extra segments
        assert found["openai"]["current"] == 2000 and found["openai"]["savings"] == 1.0  # 2,000 tokens too many
        assert found["openai_reliability"]["current"] == 0.2
        assert costs["optimization_score"] == 76  # 100 × (1 − 1.04 / 4.38)
        assert costs["usage_patterns"]["usage_statistics"]["total_weekly_calls"] == 12
        assert costs["usage_patterns"]["usage_statistics"]["max_hourly_calls"] == 10

        analytics = get(client, "/api/unified/analytics")
        assert analytics["total_monthly"] == 4.38 and analytics["monthly_costs"]["openai"] == 4.0

        status = get(client, "/api/unified/status")
        assert status["performance"] == "warning"  # 20 % of texts failed (over 5 %, not over 20 %)
        assert status["redis"] == "healthy"

        alerts = get(client, "/api/unified/alerts")
        assert alerts["alert_summary"]["active_alerts"]["total"] == 0 and alerts["overall_health"] == 70.0

        other = client_for(charlie)
        assert get(other, "/api/unified/business-metrics")["total_calls"] == 0
        assert get(other, "/api/unified/cost-optimization")["recommendations"] == []
        assert get(other, "/api/unified/sla-metrics")["overall_health_score"] is None
    assert get(client_for(), "/api/unified/status", 401)["error_code"]


def _missed_call_booked(index: int, value: str | None, now) -> None:
    number = f"+1312666{index:04d}"
    conversation = Conversation.objects.create(
        customer_number=number, business_number="+13125550111", last_message_at=now
    )
    Call.objects.create(
        call_sid=f"CA{index:032d}",
        from_number=number,
        to_number="+13125550111",
        status=Call.Status.MISSED,
        missed_reason="no-answer",
        conversation=conversation,
        started_at=now - timedelta(minutes=5),
    )
    Message.objects.create(
        conversation=conversation,
        direction="inbound",
        kind="customer",
        from_number=number,
        to_number="+13125550111",
        body="Leak!",
        status="received",
    )
    if value is not None:
        customer = Customer.objects.create(phone=number, name=f"Customer {index}")
        appointment = Appointment.objects.create(
            customer=customer,
            job_type="Leak repair",
            start=now + timedelta(hours=index + 1),
            end=now + timedelta(hours=index + 1, minutes=30),
            estimated_value=Decimal(value),
        )
        conversation.appointment_id = appointment.id
        conversation.save(update_fields=["appointment_id"])


def test_dashboard_money_first_and_operations(alice, alpha, charlie, client_for):
    with time_machine.travel(NOW, tick=False):
        client = client_for(alice)
        with tenant_context(alpha):
            _missed_call_booked(1, "300", NOW)
            _missed_call_booked(2, None, NOW)
        with CaptureQueriesContext(connection) as few:
            body = get(client, "/api/dashboard")["data"]
        assert body["money_recovered"]["missed_calls_recovered"] == 2
        assert (body["money_recovered"]["jobs_booked"], body["money_recovered"]["estimated_value"]) == (1, "300.00")
        assert (body["calls"], body["missed"], body["recovered"], body["recovery_rate"], body["booked"]) == (
            2,
            2,
            2,
            1.0,
            1,
        )
        operations = get(client, "/api/unified/operations")
        assert operations["total_appts"] == 1
        assert operations["recent_appointments"][0]["full_name"] == "Customer 1"
        assert operations["recent_appointments"][0]["duration_min"] == 30

        with tenant_context(alpha):
            for index in range(3, 8):
                _missed_call_booked(index, "100", NOW)
        with CaptureQueriesContext(connection) as more:
            assert get(client, "/api/dashboard")["data"]["money_recovered"]["jobs_booked"] == 6
        assert len(more) == len(few)

        other = get(client_for(charlie), "/api/dashboard")["data"]
        assert (other["calls"], other["money_recovered"]["jobs_booked"]) == (0, 0)
        assert get(client_for(charlie), "/api/unified/operations")["total_appts"] == 0


def test_dashboard_30_days_counts_from_the_rollups(alice, alpha, charlie, client_for):
    """Alpha is in America/Chicago: 30 days back from 10:32 on 10 June are 12 May 00:00 CDT (05:00
    UTC) onwards. In them: 3 calls an hour after that midnight (1 answered, 2 missed: one caller
    texted back) and 1 answered an hour ago; a missed call a minute before it is out. One booking
    (120), one cancelled."""
    start = datetime(2026, 5, 12, 5, 0, tzinfo=UTC)
    with time_machine.travel(NOW, tick=False), tenant_context(alpha):
        for at, outcome in [
            (start + timedelta(hours=1), "calls_answered"),
            (start + timedelta(hours=1), "calls_missed"),
            (start + timedelta(hours=1, minutes=2), "calls_missed"),
            (NOW - timedelta(hours=1), "calls_answered"),
            (start - timedelta(minutes=1), "calls_missed"),
        ]:
            metrics_record(increments=[("calls", 1.0), (outcome, 1.0)], at=at)
        for index, (at, replied) in enumerate(
            [
                (start + timedelta(hours=1), True),
                (start + timedelta(hours=1, minutes=2), False),
                (start - timedelta(minutes=1), True),
            ]
        ):
            number = f"+1312777{index:04d}"
            conversation = Conversation.objects.create(
                customer_number=number, business_number="+13125550111", last_message_at=NOW
            )
            Call.objects.create(
                call_sid=f"CA30d{index:029d}",
                from_number=number,
                to_number="+13125550111",
                status=Call.Status.MISSED,
                missed_reason="no-answer",
                conversation=conversation,
                started_at=at,
            )
            if replied:
                Message.objects.create(
                    conversation=conversation,
                    direction="inbound",
                    kind="customer",
                    from_number=number,
                    to_number="+13125550111",
                    body="Call me",
                    status="received",
                )
        customer = Customer.objects.create(phone="+13127770099", name="Booked")
        for status, value in ((Appointment.Status.SCHEDULED, "120"), (Appointment.Status.CANCELLED, "500")):
            Appointment.objects.create(
                customer=customer,
                job_type="Drain",
                start=NOW + timedelta(days=1),
                end=NOW + timedelta(days=1, hours=1),
                estimated_value=Decimal(value),
                status=status,
            )
    with time_machine.travel(NOW, tick=False):
        client = client_for(alice)
        get(client, "/api/dashboard", period="today")  # the business's domain is resolved (and cached) once
        with CaptureQueriesContext(connection) as today:
            get(client, "/api/dashboard", period="today")
        with CaptureQueriesContext(connection) as month:
            body = get(client, "/api/dashboard", period="30d")["data"]
        assert (body["date_from"], body["date_to"]) == ("2026-05-12", "2026-06-10")
        assert (body["calls"], body["answered"], body["missed"]) == (4, 2, 2)
        assert (body["recovered"], body["recovery_rate"], body["booked"], body["revenue"]) == (1, 0.5, 1, "120.00")
        assert len(month) == len(today)
        other = get(client_for(charlie), "/api/dashboard", period="30d")["data"]
        assert (other["calls"], other["missed"], other["recovered"], other["booked"]) == (0, 0, 0, 0)


ENDPOINTS = [
    "/api/kpis",
    "/api/metrics",
    "/api/unified/status",
    "/api/unified/operations",
    "/api/unified/analytics",
    "/api/unified/business-metrics",
    "/api/unified/trends",
    "/api/unified/alerts",
    "/api/unified/sla-metrics",
    "/api/unified/circuit-breakers",
    "/api/unified/cost-optimization",
]


def test_query_counts_do_not_grow_with_the_data(alice, alpha, client_for, usage_data):
    """Each endpoint reads the rollups in a fixed number of queries, whatever the buckets hold."""
    with time_machine.travel(NOW, tick=False):
        client = client_for(alice)
        get(client, "/api/unified/status")  # the business's domain is resolved (and cached) once
        before = {}
        for path in ENDPOINTS:
            with CaptureQueriesContext(connection) as queries:
                get(client, path)
            before[path] = len(queries)
        with tenant_context(alpha):
            for hours in range(1, 30):
                metrics_record(
                    increments=[("calls", 1.0), ("sms_sent", 2.0), ("ai_turns", 500.0)], at=AT - timedelta(hours=hours)
                )
        get(client, "/api/unified/status")  # the connection goes back to the request's schema first
        after = {}
        for path in ENDPOINTS:
            with CaptureQueriesContext(connection) as queries:
                get(client, path)
            after[path] = len(queries)
    assert after == before
    assert max(before.values()) <= 8, before


def test_sla_metrics_carry_the_deployments_measured_uptime(alice, client_for):
    """Of each health check, the share of its stored results that were healthy (the deployment's:
    every business reads the same)."""
    from apps.ops import history
    from nevermisscall.health import CheckResult

    redis_client = history._client()
    keys = [history.KEY.format(name) for name in ("database", "redis")]
    redis_client.delete(*keys)
    try:
        history.record(
            {"database": CheckResult("healthy"), "redis": CheckResult("unhealthy", "refused")},
            at=datetime(2026, 6, 10, 15, 0, tzinfo=UTC),
        )
        history.record({"database": CheckResult("healthy"), "redis": CheckResult("healthy")}, at=NOW)
        uptime = get(client_for(alice), "/api/unified/sla-metrics")["deployment_uptime"]
        assert uptime["database"] == {
            "checks": 2,
            "healthy": 2,
            "uptime_percent": 100.0,
            "since": "2026-06-10T15:00:00Z",
        }
        assert (uptime["redis"]["checks"], uptime["redis"]["uptime_percent"]) == (2, 50.0)
    finally:
        redis_client.delete(*keys)
        redis_client.close()
