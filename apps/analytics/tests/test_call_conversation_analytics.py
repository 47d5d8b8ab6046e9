"""Seed 000's /api/analytics/calls, /api/analytics/conversations and /api/reports (CSV) and
Bella's /api/unified/system against a fixed dataset with
hand-computed figures (the rollups of ``usage_data`` and a few rows); Charlie (Beta) sees nothing."""

import csv
import io
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
import redis
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.analytics.metrics import metrics_record
from apps.analytics.tests.test_figures_api import NOW, _missed_call_booked, get, prices, usage_data  # noqa: F401
from apps.conversations.models import Conversation
from apps.telephony.models import Call
from nevermisscall import breakers

# usage_data (the rollups of test_figures_api's dataset) in every test.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("usage_data")]


def _call(sid: str, number: str, status: str, *, duration=None, reason="", minutes_ago=10) -> None:
    Call.objects.create(
        call_sid=sid,
        from_number=number,
        to_number="+13125550111",
        status=status,
        missed_reason=reason,
        duration=duration,
        started_at=NOW - timedelta(minutes=minutes_ago),
    )


@pytest.fixture
def rows(alpha):
    """Two missed calls (no answer) whose callers texted back, one of them booked; one answered caller
    who called twice (120 s and 60 s of talk); one busy missed call nobody texted after; a conversation
    a person took over and resolved. A call eight days ago is outside 7d."""
    with tenant_context(alpha):
        _missed_call_booked(1, "300", NOW)
        _missed_call_booked(2, None, NOW)
        _call("CA-answered-1", "+13125550901", Call.Status.ANSWERED, duration=120)
        _call("CA-answered-2", "+13125550901", Call.Status.ANSWERED, duration=60)
        _call("CA-busy", "+13125550902", Call.Status.MISSED, reason="busy")
        _call("CA-old", "+13125550903", Call.Status.MISSED, reason="busy", minutes_ago=8 * 24 * 60)
        Conversation.objects.create(
            customer_number="+13125550901",
            business_number="+13125550111",
            status=Conversation.Status.RESOLVED,
            handled_by=Conversation.Handler.HUMAN,
        )


def test_call_analytics(alice, charlie, client_for, rows):
    with time_machine.travel(NOW, tick=False):
        client = client_for(alice)
        body = get(client, "/api/analytics/calls", period="7d")["data"]
        # Rollups: 12 calls, 6 answered, 4 missed; voice cost 12 × 0.02.
        assert (body["total_calls"], body["answered_calls"], body["missed_calls"]) == (12, 6, 4)
        assert (body["answer_rate"], body["missed_rate"], body["cost_voice"]) == (0.5, 0.3333, 0.24)
        # Rows of the last 7 days: 5 calls from 4 numbers; 3 missed (2 no answer, 1 busy), 2 recovered.
        assert body["unique_callers"] == 4
        assert body["missed_by_reason"]["no-answer"] == 2 and body["missed_by_reason"]["busy"] == 1
        assert sum(body["missed_by_reason"].values()) == 3
        assert (body["recovered_calls"], body["recovery_rate"]) == (2, 0.6667)
        assert (body["talk_time_seconds"], body["avg_talk_time_seconds"]) == (180, 90.0)
        assert body["period"] == "7d"
        assert get(client, "/api/analytics/calls", 400, period="year")["success"] is False

        other = get(client_for(charlie), "/api/analytics/calls", period="7d")["data"]
        assert (other["total_calls"], other["unique_callers"], other["recovered_calls"]) == (0, 0, 0)
        assert other["answer_rate"] is None and other["avg_talk_time_seconds"] is None
    assert get(client_for(), "/api/analytics/calls", 401)["success"] is False


def test_conversation_analytics(alice, charlie, client_for, rows):
    with time_machine.travel(NOW, tick=False):
        client = client_for(alice)
        body = get(client, "/api/analytics/conversations", period="7d")["data"]
        # Rows: 3 conversations, 1 resolved by a person who took it over, 1 booked by the assistant.
        assert (body["conversations_started"], body["conversations_resolved"]) == (3, 1)
        assert (body["taken_over_by_person"], body["booked_by_assistant"]) == (1, 1)
        assert (body["booking_rate"], body["human_takeover_rate"]) == (0.3333, 0.3333)
        # Rollups: 8 texts (12 segments), 2 failed; 5 turns, 8,000 tokens, 400…1200 ms, 1 fallback.
        assert (body["texts_sent"], body["sms_segments"], body["texts_failed"], body["sms_failure_rate"]) == (
            8,
            12.0,
            2,
            0.2,
        )
        assert (body["ai_turns"], body["ai_tokens"], body["tokens_per_turn"]) == (5, 8000, 1600.0)
        assert (body["ai_latency_avg_ms"], body["ai_latency_max_ms"], body["ai_fallback_rate"]) == (800.0, 1200.0, 0.2)
        assert body["cost"] == {"sms": 0.14, "openai": 4.0}  # 14 segments × 0.01, 8,000 tokens × 0.5/1k

        other = get(client_for(charlie), "/api/analytics/conversations", period="7d")["data"]
        assert (other["conversations_started"], other["texts_sent"], other["ai_turns"]) == (0, 0, 0)
        assert other["booking_rate"] is None


@pytest.mark.parametrize("path", ["/api/analytics/calls", "/api/analytics/conversations"])
def test_query_counts_do_not_grow_with_the_rows(alice, alpha, client_for, path):
    with time_machine.travel(NOW, tick=False):
        client = client_for(alice)
        get(client, path)  # the business's domain is resolved (and cached) once
        with CaptureQueriesContext(connection) as few:
            get(client, path, period="30d")
        with tenant_context(alpha):
            for index in range(20, 30):
                _missed_call_booked(index, "100", NOW)
                _call(f"CA-more-{index}", f"+1312555{index:04d}", Call.Status.ANSWERED, duration=30)
        get(client, path)  # back to the request's schema
        with CaptureQueriesContext(connection) as more:
            get(client, path, period="30d")
    assert len(more) == len(few)


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_report_csv(alice, alpha, charlie, client_for):
    with time_machine.travel(NOW, tick=False):
        client = client_for(alice)
        hourly = _csv(
            client.post("/api/reports", {"period": "7d", "group_by": "hour"}, content_type="application/json")
        )
        assert hourly[0][:4] == ["hour", "calls", "calls_answered", "calls_missed"] and hourly[0][-1] == "cost"
        tz = zoneinfo.ZoneInfo(alpha.timezone)
        columns = hourly[0]
        rows = [dict(zip(columns, row, strict=True)) for row in hourly[1:]]
        assert [row["hour"] for row in rows] == [
            datetime(2026, 6, 10, 13, tzinfo=UTC).astimezone(tz).isoformat(),
            datetime(2026, 6, 10, 15, tzinfo=UTC).astimezone(tz).isoformat(),
        ]
        assert (rows[0]["calls"], rows[0]["cost"]) == ("2", "0.04")  # 2 calls × 0.02
        late = rows[1]
        assert (late["calls"], late["calls_answered"], late["calls_missed"]) == ("10", "6", "4")
        assert (late["texts_sent"], late["sms_segments"], late["texts_failed"], late["failed_segments"]) == (
            "8",
            "12.0",
            "2",
            "2.0",
        )
        assert (late["ai_turns"], late["ai_tokens"], late["ai_fallbacks"]) == ("5", "8000.0", "1")
        assert (late["bookings"], late["booking_value"], late["cost"]) == ("2", "400.0", "4.34")

        daily = _csv(
            client.post("/api/reports", {"period": "7d"}, content_type="application/json", HTTP_ACCEPT="text/csv")
        )
        assert len(daily) == 2 and daily[0][0] == "day"
        day = dict(zip(daily[0], daily[1], strict=True))
        assert (day["day"], day["calls"], day["cost"]) == (NOW.astimezone(tz).date().isoformat(), "12", "4.38")

        refused = client.post("/api/reports", {"format": "xlsx"}, content_type="application/json")
        assert refused.status_code == 400 and refused.json()["success"] is False

        other = _csv(client_for(charlie).post("/api/reports", {"period": "30d"}, content_type="application/json"))
        assert other == [daily[0]]  # the header and nothing of Alpha's


def test_unified_system_is_measured(alice, charlie, client_for):
    """Request counters (this process, every business), Redis keyspace misses, the health checks
    and a breaker stored in Redis, each seen moving when we move it."""
    client = client_for(alice)
    first = get(client, "/api/unified/system")
    for _ in range(3):
        get(client, "/api/kpis")
    redis.Redis.from_url(settings.REDIS_URL).get("nmc:test:analytics-system:never-set")  # one keyspace miss
    breakers._redis().set("nmc:breaker:test-analytics-system:pybreaker:state", "open")
    try:
        second = get(client_for(charlie), "/api/unified/system")
    finally:
        breakers._redis().delete("nmc:breaker:test-analytics-system:pybreaker:state")
    # The first /system itself and the three KPI reads were counted, none of them a server error.
    assert second["performance"]["total_requests"] - first["performance"]["total_requests"] == 4
    assert second["performance"]["avg_response_time"] > 0
    assert 0 <= second["performance"]["error_rate"] < 1  # a share of the process's requests
    assert second["cache"]["total_misses"] >= first["cache"]["total_misses"] + 1
    assert 0 <= second["cache"]["hit_rate"] <= 1
    assert second["checks"]["database"]["status"] == "healthy" and second["checks"]["redis"]["status"] == "healthy"
    assert isinstance(second["queues"], dict) and all(isinstance(n, int) for n in second["queues"].values())
    assert second["circuit_breakers"]["test-analytics-system"] == "open"
    assert (first["status"], second["status"]) == ("healthy", "degraded")  # the open breaker
    assert get(client_for(), "/api/unified/system", 401)["error_code"]


def test_report_query_count_does_not_grow_with_the_buckets(alice, alpha, client_for):
    def report():
        response = client.post("/api/reports", {"period": "30d", "group_by": "hour"}, content_type="application/json")
        return _csv(response)

    with time_machine.travel(NOW, tick=False):
        client = client_for(alice)
        report()  # the business's domain is resolved (and cached) once
        with CaptureQueriesContext(connection) as few:
            assert len(report()) == 3  # the header and two hours
        with tenant_context(alpha):
            for hours in range(3, 40):
                metrics_record(increments=[("calls", 1.0), ("sms_sent", 2.0)], at=NOW - timedelta(hours=hours))
        report()  # back to the request's schema
        with CaptureQueriesContext(connection) as more:
            assert len(report()) == 3 + 37
    assert len(more) == len(few)
