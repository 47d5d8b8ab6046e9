"""Figures for seed 000's analytics APIs and Bella's ``/api/unified/…`` (seed 001), read from the
metric rollups (apps/analytics/metrics.py) of the current business. Prices are settings
(``USAGE_PRICE_SMS_SEGMENT``, ``USAGE_PRICE_AI_1K_TOKENS``, ``USAGE_PRICE_CALL``); nothing here is a
constant figure: every rate, cost and recommendation comes from what was recorded."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Avg, Count, Exists, Max, Min, OuterRef, Q, Sum
from django.db.models.functions import Coalesce, Trunc

from apps.analytics.metrics import DELIVERY_CHANNELS, METRICS, WindowFigures, _bucket, metric_windows_read
from apps.analytics.models import MetricRollup
from apps.conversations.models import Conversation, Message
from apps.telephony.models import Call

# SLA targets (percent) of the measured success rates, and the segments a text should need.
SLA_TARGETS = {
    "call_answer_rate": 90.0,
    "sms_delivery_rate": 98.0,
    "ai_success_rate": 95.0,
    "email_delivery_rate": 98.0,
    "webhook_delivery_rate": 98.0,
    "push_delivery_rate": 95.0,  # Browsers drop subscriptions (410 Gone) in the normal course of things.
}
# The circuit breaker of each outbox channel (apps/outbox/dispatcher.py BREAKERS) → its metrics.
CHANNEL_BREAKERS = {"email": "smtp", "webhook": "outgoing-webhooks", "push": "web-push"}
TARGET_SEGMENTS_PER_TEXT = 1.0
TARGET_TOKENS_PER_TURN = 1500


def usage_read(*, since: datetime) -> dict[str, WindowFigures]:
    """Every stored metric since ``since``: one query."""
    figures = metric_windows_read(windows=[(metric, since) for metric in METRICS])
    return {metric: figures.get((metric, since), WindowFigures()) for metric in METRICS}


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def usage_cost(figures: dict[str, WindowFigures]) -> dict[str, float]:
    """What the recorded usage cost: SMS segments sent (failed ones included: the carrier bills
    them), OpenAI tokens and calls, at the configured prices."""
    segments = figures["sms_sent"].total + figures["sms_failed"].total
    sms = segments * settings.USAGE_PRICE_SMS_SEGMENT
    ai = figures["ai_tokens"].total / 1000 * settings.USAGE_PRICE_AI_1K_TOKENS
    voice = figures["calls"].n * settings.USAGE_PRICE_CALL
    return {"sms": round(sms, 4), "openai": round(ai, 4), "voice": round(voice, 4), "total": round(sms + ai + voice, 4)}


def delivery_figures(figures: dict[str, WindowFigures]) -> dict[str, dict]:
    """E-mails, webhooks and pushes of the outbox by channel: sent, failed, failure rate, and the
    slowest and mean seconds from queued to sent."""
    out = {}
    for channel in DELIVERY_CHANNELS:
        sent, failed = figures[f"{channel}_sent"], figures[f"{channel}_failed"]
        out[channel] = {
            "sent": sent.n,
            "failed": failed.n,
            "failure_rate": _ratio(failed.n, sent.n + failed.n),
            "avg_seconds_to_send": round(sent.total / sent.n, 3) if sent.n else None,
            "max_seconds_to_send": round(sent.peak, 3) if sent.peak is not None else None,
        }
    return out


def kpi_snapshot(figures: dict[str, WindowFigures]) -> dict:
    calls, answered, missed = figures["calls"].n, figures["calls_answered"].n, figures["calls_missed"].n
    turns, fallbacks = figures["ai_turns"].n, figures["ai_fallbacks"].n
    sent, failed = figures["sms_sent"].n, figures["sms_failed"].n
    return {
        "calls": calls,
        "calls_answered": answered,
        "calls_missed": missed,
        "answer_rate": _ratio(answered, calls),
        "replies": figures["replies"].n,
        "sms_sent": sent,
        "sms_segments": figures["sms_sent"].total,
        "sms_failed": failed,
        "sms_failure_rate": _ratio(failed, sent + failed),
        "ai_turns": turns,
        "ai_tokens": int(figures["ai_tokens"].total),
        "ai_latency_avg_ms": round(figures["ai_turns"].total / turns, 1) if turns else None,
        "ai_fallback_rate": _ratio(fallbacks, turns),
        "bookings": figures["bookings"].n,
        "booking_value": round(figures["bookings"].total, 2),
        "lead_wait_max_seconds": figures["lead_wait_seconds"].peak,
        "deliveries": delivery_figures(figures),
        "cost": usage_cost(figures),
    }


def call_counts(*, start: datetime, end: datetime) -> dict[str, int]:
    """Calls, answered and missed between two moments from the rollups, one aggregate: the hour
    buckets when both ends are whole UTC hours (a business's midnight in a whole-hour zone), else the
    5-minute ones (a zone offset by half an hour; kept ``FIVE_MINUTE_KEEP_DAYS``). Counted when the
    call rang, was answered (an assistant or a person picking up) or was missed."""
    grain = 60 if start == _bucket(start, 60) and end == _bucket(end, 60) else 5
    names = {"calls": "calls", "answered": "calls_answered", "missed": "calls_missed"}
    return MetricRollup.objects.filter(
        metric__in=list(names.values()), grain=grain, bucket__gte=start, bucket__lt=end
    ).aggregate(**{key: Coalesce(Sum("n", filter=Q(metric=metric)), 0) for key, metric in names.items()})


def rollup_rows(*, metrics, since: datetime, until: datetime, grain: int) -> list[dict]:
    """The buckets of ``metrics`` between two moments, oldest first: one query."""
    rows = MetricRollup.objects.filter(metric__in=list(metrics), grain=grain, bucket__gte=since, bucket__lt=until)
    return list(rows.order_by("bucket", "metric").values("metric", "bucket", "n", "total", "peak"))


def _by_bucket(rows: list[dict]) -> dict[datetime, dict[str, dict]]:
    buckets: dict[datetime, dict[str, dict]] = defaultdict(dict)
    for row in rows:
        buckets[row["bucket"]][row["metric"]] = row
    return buckets


def _n(bucket: dict, metric: str) -> int:
    return bucket.get(metric, {}).get("n", 0)


def _total(bucket: dict, metric: str) -> float:
    return bucket.get(metric, {}).get("total", 0.0)


def hourly_trends(*, now: datetime, hours: int) -> list[dict]:
    """One point per hour of the last ``hours`` (the current one included), from the hour rollups."""
    first = _bucket(now, 60) - timedelta(hours=hours - 1)
    metrics = ("calls", "calls_answered", "calls_missed", "sms_sent", "sms_failed", "ai_tokens", "ai_turns")
    buckets = _by_bucket(rollup_rows(metrics=metrics, since=first, until=now + timedelta(hours=1), grain=60))
    points = []
    for offset in range(hours):
        hour = first + timedelta(hours=offset)
        bucket = buckets.get(hour, {})
        figures = {m: WindowFigures(n=_n(bucket, m), total=_total(bucket, m)) for m in METRICS}
        calls, answered = _n(bucket, "calls"), _n(bucket, "calls_answered")
        points.append(
            {
                "hour": hour,
                "total_calls": calls,
                "successful_calls": answered,
                "failed_calls": _n(bucket, "calls_missed"),
                "success_rate": _ratio(answered, calls),
                "speech_accuracy": None,
                "cost": usage_cost(figures)["total"],
            }
        )
    return points


def _sla_rates(bucket: dict) -> dict[str, tuple[int, int]]:
    """(good, all) of each SLA figure in one bucket."""
    return {
        "call_answer_rate": (_n(bucket, "calls_answered"), _n(bucket, "calls")),
        "sms_delivery_rate": (_n(bucket, "sms_sent"), _n(bucket, "sms_sent") + _n(bucket, "sms_failed")),
        "ai_success_rate": (_n(bucket, "ai_turns") - _n(bucket, "ai_fallbacks"), _n(bucket, "ai_turns")),
    } | {
        f"{channel}_delivery_rate": (
            _n(bucket, f"{channel}_sent"),
            _n(bucket, f"{channel}_sent") + _n(bucket, f"{channel}_failed"),
        )
        for channel in DELIVERY_CHANNELS
    }


def sla_metrics(*, now: datetime, hours: int = 24) -> dict:
    """Each SLA figure over the last ``hours`` from the 5-minute rollups: the measured rate, and the
    5-minute buckets with traffic that fell below the target (a breach; its minutes are downtime)."""
    since = now - timedelta(hours=hours)
    metrics = ("calls", "calls_answered", "sms_sent", "sms_failed", "ai_turns", "ai_fallbacks")
    metrics += tuple(f"{channel}_{outcome}" for channel in DELIVERY_CHANNELS for outcome in ("sent", "failed"))
    buckets = _by_bucket(
        rollup_rows(metrics=metrics, since=_bucket(since, 5), until=now + timedelta(minutes=5), grain=5)
    )
    services = {}
    for name, target in SLA_TARGETS.items():
        good = total = minutes = breaches = 0
        last_breach = None
        for at, bucket in sorted(buckets.items()):
            ok, everything = _sla_rates(bucket)[name]
            if not everything:
                continue
            good, total, minutes = good + ok, total + everything, minutes + 5
            if 100.0 * ok / everything < target:
                breaches, last_breach = breaches + 1, at
        current = round(100.0 * good / total, 2) if total else None
        services[name] = {
            "current_sla": current,
            "target_sla": target,
            "status": "unknown" if current is None else ("healthy" if current >= target else "breached"),
            "uptime_minutes": minutes - 5 * breaches,
            "downtime_minutes": 5 * breaches,
            "total_minutes": minutes,
            "breach_count": breaches,
            "last_breach": last_breach,
            "events": total,
        }
    measured = [s["current_sla"] for s in services.values() if s["current_sla"] is not None]
    return {"services": services, "overall_health_score": round(sum(measured) / len(measured), 2) if measured else None}


def alert_summary(*, now: datetime) -> dict:
    """Open alerts by severity (seed 001's high = our warning, low = our info), raised in the last
    24 h, the oldest unresolved and the notifications due: one query."""
    from apps.alerts.models import Alert

    open_ = ~Q(state=Alert.State.RESOLVED)
    figures = Alert.objects.aggregate(
        total=Count("id", filter=open_),
        critical=Count("id", filter=open_ & Q(severity="critical")),
        high=Count("id", filter=open_ & Q(severity="warning")),
        low=Count("id", filter=open_ & Q(severity="info")),
        recent=Count("id", filter=Q(created_at__gte=now - timedelta(hours=24))),
        oldest=Min("created_at", filter=open_),
        due=Count("id", filter=Q(state=Alert.State.ACTIVE, next_notification_at__lte=now)),
        latest=Max("created_at"),
    )
    return {
        "active_alerts": {
            "total": figures["total"],
            "critical": figures["critical"],
            "high": figures["high"],
            "medium": 0,
            "low": figures["low"],
        },
        "recent_alerts": figures["recent"],
        "oldest_unresolved": figures["oldest"],
        "notification_queue_size": figures["due"],
    }


_HOURS_SQL = """
    SELECT extract(hour FROM bucket)::int, count(*), sum(n), max(n) FROM {rollup}
    WHERE metric = 'calls' AND grain = 60 AND bucket >= %s GROUP BY 1
"""


def usage_patterns(*, now: datetime, days: int = 7) -> dict:
    """Calls per hour over the last ``days`` (hour rollups): average, peak, the busiest hours of day."""
    since = _bucket(now, 60) - timedelta(days=days)
    with connection.cursor() as cursor:
        cursor.execute(
            _HOURS_SQL.format(rollup=connection.ops.quote_name(MetricRollup._meta.db_table)),
            [since],
        )
        rows = cursor.fetchall()
    total = sum(int(row[2]) for row in rows)
    hours = days * 24
    average = total / hours
    peak = max((int(row[3]) for row in rows), default=0)
    by_hour = sorted(((int(row[2]), int(row[0])) for row in rows), reverse=True)
    return {
        "usage_statistics": {
            "avg_hourly_calls": round(average, 2),
            "max_hourly_calls": peak,
            "peak_hours": sorted(hour for _calls, hour in by_hour[:6]),
            "total_weekly_calls": total,
        },
        "efficiency_metrics": {
            "utilization_rate": round(sum(int(row[1]) for row in rows) / hours, 4),  # hours with a call
            "peak_to_average_ratio": round(peak / average, 2) if average else None,
        },
    }


def recommendations(figures: dict[str, WindowFigures]) -> list[dict]:
    """What the recorded usage says could be cheaper, each with the saving it would have made."""
    out = []
    texts = figures["sms_sent"].n + figures["sms_failed"].n
    segments = figures["sms_sent"].total + figures["sms_failed"].total
    if texts and segments / texts > TARGET_SEGMENTS_PER_TEXT:
        per_text = segments / texts
        extra = segments - texts * TARGET_SEGMENTS_PER_TEXT
        out.append(
            {
                "component": "sms",
                "current": round(per_text, 2),
                "recommended": TARGET_SEGMENTS_PER_TEXT,
                "reason": f"Texts average {per_text:.2f} SMS segments; templates of one segment (160 GSM "
                "characters, 70 with emoji or accents) would bill one each.",
                "savings": round(extra * settings.USAGE_PRICE_SMS_SEGMENT, 4),
                "confidence": 0.8,
            }
        )
    turns = figures["ai_turns"].n
    model_turns = figures["ai_tokens"].n
    if model_turns:
        per_turn = figures["ai_tokens"].total / model_turns
        if per_turn > TARGET_TOKENS_PER_TURN:
            extra = (per_turn - TARGET_TOKENS_PER_TURN) * model_turns
            out.append(
                {
                    "component": "openai",
                    "current": round(per_turn),
                    "recommended": TARGET_TOKENS_PER_TURN,
                    "reason": f"Model turns average {per_turn:.0f} tokens; a shorter prompt or history would "
                    f"bring them to {TARGET_TOKENS_PER_TURN}.",
                    "savings": round(extra / 1000 * settings.USAGE_PRICE_AI_1K_TOKENS, 4),
                    "confidence": 0.5,
                }
            )
    if turns:
        fallback_rate = figures["ai_fallbacks"].n / turns
        if fallback_rate > 1 - SLA_TARGETS["ai_success_rate"] / 100:
            out.append(
                {
                    "component": "openai_reliability",
                    "current": round(fallback_rate, 4),
                    "recommended": round(1 - SLA_TARGETS["ai_success_rate"] / 100, 4),
                    "reason": f"{fallback_rate:.0%} of assistant turns fell back to the rules because the model "
                    "failed; check the OpenAI key, quota and timeouts.",
                    "savings": 0.0,
                    "confidence": 0.7,
                }
            )
    return out


def model_share(figures: dict[str, WindowFigures]) -> float | None:
    """The share of assistant turns that needed the model (turns that spent tokens)."""
    return _ratio(figures["ai_tokens"].n, figures["ai_turns"].n)


# --- seed 000 /api/analytics/calls|conversations -------------------------------------------------------


def call_analytics(*, since: datetime) -> dict:
    """The period's calls: counts and rates from the 5-minute rollups (one query), and the
    breakdowns the rollups do not hold (why calls were missed, talk time, missed calls whose caller
    texted back, over the missed calls of the same rows) from one aggregate over the business's
    calls since ``since`` with FILTER clauses."""
    figures = usage_read(since=since)
    replied = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"),
        direction=Message.Direction.INBOUND,
        created_at__gte=OuterRef("started_at"),
    )
    missed = Q(status=Call.Status.MISSED)
    reasons = {reason.value: Count("id", filter=missed & Q(missed_reason=reason.value)) for reason in Call.MissedReason}
    rows = Call.objects.filter(started_at__gte=since).aggregate(
        _missed=Count("id", filter=missed),
        _recovered=Count("id", filter=missed & Q(Exists(replied))),
        _talk_seconds=Sum("duration", filter=Q(status=Call.Status.ANSWERED)),
        _talk_avg=Avg("duration", filter=Q(status=Call.Status.ANSWERED, duration__isnull=False)),
        _callers=Count("from_number", distinct=True),
        **{f"_reason_{key}": value for key, value in reasons.items()},
    )
    calls, answered, missed_n = figures["calls"].n, figures["calls_answered"].n, figures["calls_missed"].n
    return {
        "total_calls": calls,
        "answered_calls": answered,
        "missed_calls": missed_n,
        "answer_rate": _ratio(answered, calls),
        "missed_rate": _ratio(missed_n, calls),
        "unique_callers": rows["_callers"],
        "missed_by_reason": {key: rows[f"_reason_{key}"] for key in reasons},
        "recovered_calls": rows["_recovered"],
        "recovery_rate": _ratio(rows["_recovered"], rows["_missed"]),
        "talk_time_seconds": int(rows["_talk_seconds"] or 0),
        "avg_talk_time_seconds": round(float(rows["_talk_avg"]), 1) if rows["_talk_avg"] is not None else None,
        "cost_voice": usage_cost(figures)["voice"],
    }


def conversation_analytics(*, since: datetime) -> dict:
    """The period's conversations: texts, assistant turns and lead waits from the 5-minute rollups
    (one query); conversations started, resolved, taken over by a person and booked from one
    aggregate over the business's conversations with FILTER clauses."""
    figures = usage_read(since=since)
    kpis = kpi_snapshot(figures)
    rows = Conversation.objects.filter(created_at__gte=since).aggregate(
        started=Count("id"),
        resolved=Count("id", filter=Q(status=Conversation.Status.RESOLVED)),
        taken_over=Count("id", filter=Q(handled_by=Conversation.Handler.HUMAN)),
        booked=Count("id", filter=Q(appointment_id__isnull=False)),
    )
    turns = figures["ai_turns"].n
    return {
        "conversations_started": rows["started"],
        "conversations_resolved": rows["resolved"],
        "taken_over_by_person": rows["taken_over"],
        "booked_by_assistant": rows["booked"],
        "booking_rate": _ratio(rows["booked"], rows["started"]),
        "human_takeover_rate": _ratio(rows["taken_over"], rows["started"]),
        "texts_received": kpis["replies"],
        "texts_sent": kpis["sms_sent"],
        "sms_segments": kpis["sms_segments"],
        "texts_failed": kpis["sms_failed"],
        "sms_failure_rate": kpis["sms_failure_rate"],
        "ai_turns": turns,
        "ai_tokens": kpis["ai_tokens"],
        "ai_latency_avg_ms": kpis["ai_latency_avg_ms"],
        "ai_latency_max_ms": figures["ai_turns"].peak,
        "ai_fallback_rate": kpis["ai_fallback_rate"],
        "tokens_per_turn": round(figures["ai_tokens"].total / turns, 1) if turns else None,
        "lead_wait_max_seconds": kpis["lead_wait_max_seconds"],
        "cost": {"sms": kpis["cost"]["sms"], "openai": kpis["cost"]["openai"]},
    }


# --- seed 000 /api/reports ------------------------------------------------------------------------------

REPORT_COLUMNS = (
    ("calls", "calls", "n"),
    ("calls_answered", "calls_answered", "n"),
    ("calls_missed", "calls_missed", "n"),
    ("texts_received", "replies", "n"),
    ("texts_sent", "sms_sent", "n"),
    ("sms_segments", "sms_sent", "total"),
    ("texts_failed", "sms_failed", "n"),
    ("failed_segments", "sms_failed", "total"),
    ("ai_turns", "ai_turns", "n"),
    ("ai_tokens", "ai_tokens", "total"),
    ("ai_fallbacks", "ai_fallbacks", "n"),
    ("bookings", "bookings", "n"),
    ("booking_value", "bookings", "total"),
)


def report_rows(*, since: datetime, until: datetime, by: str, tz) -> list[dict]:
    """One row per hour or per local day (``tz``) of the hour rollups from ``since``'s hour to ``until``,
    the metrics pivoted by FILTER clauses in one query, and each row's cost at the configured
    prices. At most 93 days × 24 rows (the caller bounds the period)."""
    key = Trunc("bucket", "hour" if by == "hour" else "day", tzinfo=tz)
    columns = {
        name: Coalesce(Sum(field, filter=Q(metric=metric)), 0.0 if field == "total" else 0)
        for name, metric, field in REPORT_COLUMNS
    }
    rows = (
        MetricRollup.objects.filter(grain=MetricRollup.Grain.HOUR, bucket__gte=_bucket(since, 60), bucket__lte=until)
        .annotate(period=key)
        .values("period")
        .annotate(**columns)
        .order_by("period")
    )
    report = []
    for row in rows:
        sms = (row["sms_segments"] + row["failed_segments"]) * settings.USAGE_PRICE_SMS_SEGMENT
        ai = row["ai_tokens"] / 1000 * settings.USAGE_PRICE_AI_1K_TOKENS
        report.append(row | {"cost": round(sms + ai + row["calls"] * settings.USAGE_PRICE_CALL, 4)})
    return report
