"""The metric store: domain events counted per business into 5-minute and hour rollups.

Writes. Every published business event (``nevermisscall.events.publish_event`` →
``settings.EVENT_STORE`` → ``apps.analytics.feed.feed_event_record``) is turned into metric
increments by ``metric_increments(event)``; they are written by the same statement that stores
the feed row (two more CTEs: the raw rows and the rollup upsert), or by one statement of their own
when the event has no feed row. So recording adds no round trip to the hot paths and a rolled-back
change leaves no figure behind. AI turns are recorded from their ``AiUsage`` row
(``ai_usage_recorded``, a post_save receiver: one statement).

Reads. ``metric_windows_read(windows=…)`` answers any number of (metric, since) windows in one
query over the 5-minute rollups; nothing reads ``MetricEvent`` except the pruning.

Catalogue (``METRICS``): the stored metrics and what their value is. ``RULE_METRICS``: what alert
rules and dashboards can ask for, each an aggregate of stored metrics over a window.
"""

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from apps.analytics.models import CustomMetricPoint, MetricEvent, MetricRollup

METRIC_RAW_KEEP_DAYS = 7
FIVE_MINUTE_KEEP_DAYS = 35
GRAINS = (MetricRollup.Grain.FIVE_MINUTES, MetricRollup.Grain.HOUR)

# Stored metric → what one event's value is.
METRICS = {
    "calls": _("Incoming calls"),
    "calls_answered": _("Calls answered"),
    "calls_missed": _("Missed calls (nobody answered)"),
    "replies": _("Texts received from customers"),
    "sms_sent": _("Texts sent (value: SMS segments)"),
    "sms_delivered": _("Texts delivered"),
    "sms_failed": _("Texts that failed (value: SMS segments)"),
    "ai_turns": _("Assistant turns (value: latency in ms)"),
    "ai_tokens": _("OpenAI tokens (value: tokens of a turn)"),
    "ai_fallbacks": _("Turns answered by the rules because the model failed"),
    "bookings": _("Appointments booked (value: estimated value)"),
    "lead_wait_seconds": _("A lead's wait for a person's reply (value: seconds)"),
    "email_sent": _("E-mails accepted by the mail server (value: seconds since queued)"),
    "email_failed": _("E-mails refused or out of attempts (value: seconds since queued)"),
    "webhook_sent": _("Outgoing webhooks answered with 2xx (value: seconds since queued)"),
    "webhook_failed": _("Outgoing webhooks refused or out of attempts (value: seconds since queued)"),
    "push_sent": _("Web pushes accepted by the push service (value: seconds since queued)"),
    "push_failed": _("Web pushes refused or out of attempts (value: seconds since queued)"),
}
# The outbox's channels counted from their deliveries (``delivery_settled_sql``); a conversation's
# texts are counted from their message's events (``sms_*`` above), other texts from their delivery.
DELIVERY_CHANNELS = ("email", "webhook", "push")
# A delivery's final status → the metric suffix (canceled deliveries are neither).
DELIVERY_OUTCOMES = {"sent": "sent", "delivered": "sent", "failed": "failed", "dead": "failed"}


@dataclass(frozen=True)
class RuleMetric:
    """``aggregate`` of ``metrics`` over a window: count (events), sum (values), max (largest
    value), avg (values / events), rate (100 × events of the first / events of all)."""

    label: str
    aggregate: str
    metrics: tuple[str, ...]
    unit: str = ""


RULE_METRICS = {
    "calls": RuleMetric(_("Incoming calls"), "count", ("calls",)),
    "calls_answered": RuleMetric(_("Calls answered"), "count", ("calls_answered",)),
    "calls_missed": RuleMetric(_("Missed calls nobody answered"), "count", ("calls_missed",)),
    "replies": RuleMetric(_("Texts received"), "count", ("replies",)),
    "sms_sent": RuleMetric(_("Texts sent"), "count", ("sms_sent",)),
    "sms_segments": RuleMetric(_("SMS segments sent"), "sum", ("sms_sent",)),
    "sms_failed": RuleMetric(_("Texts failed"), "count", ("sms_failed",)),
    "sms_failure_rate": RuleMetric(_("SMS failure rate"), "rate", ("sms_failed", "sms_sent"), "%"),
    "ai_turns": RuleMetric(_("Assistant turns"), "count", ("ai_turns",)),
    "ai_tokens": RuleMetric(_("OpenAI tokens"), "sum", ("ai_tokens",)),
    "ai_latency_avg_ms": RuleMetric(_("Average assistant latency"), "avg", ("ai_turns",), "ms"),
    "ai_latency_max_ms": RuleMetric(_("Slowest assistant turn"), "max", ("ai_turns",), "ms"),
    "ai_fallbacks": RuleMetric(_("Model failures answered by the rules"), "count", ("ai_fallbacks",)),
    "bookings": RuleMetric(_("Appointments booked"), "count", ("bookings",)),
    "booking_value": RuleMetric(_("Estimated value booked"), "sum", ("bookings",)),
    "lead_wait_max_seconds": RuleMetric(_("Longest wait of a lead for a reply"), "max", ("lead_wait_seconds",), "s"),
    "email_sent": RuleMetric(_("E-mails sent"), "count", ("email_sent",)),
    "email_failed": RuleMetric(_("E-mails failed"), "count", ("email_failed",)),
    "email_failure_rate": RuleMetric(_("E-mail failure rate"), "rate", ("email_failed", "email_sent"), "%"),
    "webhook_sent": RuleMetric(_("Webhooks delivered"), "count", ("webhook_sent",)),
    "webhook_failed": RuleMetric(_("Webhooks failed"), "count", ("webhook_failed",)),
    "webhook_failure_rate": RuleMetric(_("Webhook failure rate"), "rate", ("webhook_failed", "webhook_sent"), "%"),
    "push_sent": RuleMetric(_("Web pushes sent"), "count", ("push_sent",)),
    "push_failed": RuleMetric(_("Web pushes failed"), "count", ("push_failed",)),
    "push_failure_rate": RuleMetric(_("Web push failure rate"), "rate", ("push_failed", "push_sent"), "%"),
}


def _number(value, default=0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def metric_increments(event: dict) -> list[tuple[str, float]]:
    """The (metric, value) pairs one published event adds (none for most types)."""
    event_type = event["type"]
    payload = event.get("payload") or {}
    if event_type == "incoming_call":
        return [("calls", 1.0)]
    if event_type == "call_answered":
        return [("calls_answered", 1.0)]
    if event_type == "call_missed":
        return [("calls_missed", 1.0)]
    if event_type == "new_message" and payload.get("direction") == "inbound":
        return [("replies", 1.0)]
    if event_type == "message_sent":
        return [("sms_sent", _number(payload.get("segments"), 1.0) or 1.0)]
    if event_type == "message_delivered":
        return [("sms_delivered", 1.0)]
    if event_type == "dashboard_update":
        entity, action = payload.get("entity"), payload.get("action")
        if entity == "appointment" and action == "created":
            return [("bookings", _number(payload.get("estimated_value")))]
        if entity == "message" and payload.get("status") in ("failed", "undelivered"):
            return [("sms_failed", _number(payload.get("segments"), 1.0) or 1.0)]
    return []


def _bucket(at: datetime, grain: int) -> datetime:
    seconds = grain * 60
    return datetime.fromtimestamp(int(at.timestamp()) // seconds * seconds, UTC)


# The two CTEs a feed row's statement (or a statement of their own) carries: the raw rows and the
# rollups, from four parallel arrays (one element per metric and grain; the raw rows take the 5-minute
# ones). Empty arrays insert nothing; with ``after`` (the name of a CTE of the same statement) they
# insert only when that CTE returned a row (a delivery's status change that matched).
_RAW_CTE = """
metric_raw AS (
    INSERT INTO {raw} (metric, value, at)
    SELECT m, v, %(metric_at)s FROM unnest(%(metric_names)s::text[], %(metric_grains)s::int[], %(metric_values)s::float8[])
        AS t(m, g, v) WHERE g = 5 AND {gate}
)"""
_ROLLUP_CTE = """
metric_rollup AS (
    INSERT INTO {rollup} AS r (metric, grain, bucket, n, total, peak)
    SELECT m, g, b, 1, v, v
    FROM unnest(%(metric_names)s::text[], %(metric_grains)s::int[], %(metric_buckets)s::timestamptz[],
                %(metric_values)s::float8[]) AS t(m, g, b, v)
    WHERE {gate}
    ON CONFLICT (metric, grain, bucket) DO UPDATE
        SET n = r.n + EXCLUDED.n, total = r.total + EXCLUDED.total, peak = GREATEST(r.peak, EXCLUDED.peak)
)"""


_GATE = "EXISTS (SELECT 1 FROM {name})"


def _gate(after: str) -> str:
    return _GATE.format(name=connection.ops.quote_name(after)) if after else "true"


def rollup_cte(*, after: str = "") -> str:
    return _ROLLUP_CTE.format(rollup=connection.ops.quote_name(MetricRollup._meta.db_table), gate=_gate(after))


def metric_ctes(*, after: str = "") -> str:
    raw = _RAW_CTE.format(raw=connection.ops.quote_name(MetricEvent._meta.db_table), gate=_gate(after))
    return f"{raw},{rollup_cte(after=after)}"


def metric_params(increments: list[tuple[str, float]], at: datetime) -> dict:
    names, grains, buckets, values = [], [], [], []
    for (metric, value), grain in itertools.product(increments, GRAINS):
        names.append(metric)
        grains.append(int(grain))
        buckets.append(_bucket(at, grain))
        values.append(float(value))
    return {
        "metric_at": at,
        "metric_names": names,
        "metric_grains": grains,
        "metric_buckets": buckets,
        "metric_values": values,
    }


def metrics_record(*, increments: list[tuple[str, float]], at: datetime | None = None) -> None:
    """Record ``increments`` in the current business: one statement (raw rows and both rollups)."""
    if not increments:
        return
    unknown = {metric for metric, _value in increments} - set(METRICS)
    if unknown:
        raise ValueError(f"unknown metrics {sorted(unknown)}")
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {metric_ctes()} SELECT 1", metric_params(increments, at or timezone.now()))


def event_time(event: dict) -> datetime:
    return parse_datetime(event["metadata"]["timestamp"]) or timezone.now()


def lead_wait_increment(event: dict) -> list[tuple[str, float]]:
    """A person's reply to a customer: how long the customer's latest text waited for it."""
    payload = event.get("payload") or {}
    if event["type"] != "message_sent" or payload.get("kind") != "human" or not payload.get("conversation_id"):
        return []
    from apps.conversations.models import Message

    sent_at = parse_datetime(str(payload.get("created_at") or "")) or event_time(event)
    waited_since = (
        Message.objects.filter(conversation_id=payload["conversation_id"], direction="inbound", created_at__lte=sent_at)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if waited_since is None:
        return []
    return [("lead_wait_seconds", max(0.0, (sent_at - waited_since).total_seconds()))]


def ai_usage_recorded(sender, instance, created, **kwargs) -> None:
    """post_save of ``dispatch.AiUsage`` (one per engine run): the turn, its tokens, a fallback."""
    if not created or connection.schema_name == "public":
        return
    increments = [("ai_turns", float(instance.latency_ms or 0))]
    tokens = (instance.prompt_tokens or 0) + (instance.completion_tokens or 0)
    if tokens:
        increments.append(("ai_tokens", float(tokens)))
    if instance.fallback_used:
        increments.append(("ai_fallbacks", 1.0))
    metrics_record(increments=increments, at=instance.created_at or timezone.now())


# A text's status → its metric (the same as a conversation message's events: metric_increments).
_SMS_OUTCOMES = {"sent": "sms_sent", "delivered": "sms_delivered", "failed": "sms_failed", "dead": "sms_failed"}


def delivery_increments(*, delivery, status: str, previous: str, at: datetime) -> list[tuple[str, float]]:
    """What a delivery going from ``previous`` to ``status`` adds. E-mail, webhook, push:
    ``<channel>_sent`` or ``<channel>_failed`` with the seconds since it was queued. A text that is
    not a conversation's message (owner and alert texts, reminders, campaigns): ``sms_sent`` /
    ``sms_failed`` (value: segments) and ``sms_delivered``, as its message's events count the others
    (a callback's ``delivered`` with no ``sent`` before also counts it sent)."""
    if delivery.channel == "sms":
        metric = _SMS_OUTCOMES.get(status)
        if metric is None or delivery.cause_type == "message":
            return []
        segments = float(delivery.segments or 1)
        if metric != "sms_delivered":
            return [(metric, segments)]
        return [("sms_delivered", 1.0)] + ([] if previous == "sent" else [("sms_sent", segments)])
    outcome = DELIVERY_OUTCOMES.get(status)
    if delivery.channel not in DELIVERY_CHANNELS or outcome is None:
        return []
    return [(f"{delivery.channel}_{outcome}", max(0.0, (at - delivery.created_at).total_seconds()))]


def delivery_settled_sql(delivery, status: str, at: datetime, *, after: str, previous: str) -> tuple[str, dict] | None:
    """Registered with the outbox (``hooks.register_settled_sql``): the CTEs that record a delivery's
    outcome in its business's rollups, carried by the statement that changes its status (no round
    trip of its own, rolled back with it) and gated on that change (``after``) having matched."""
    tenant = getattr(connection, "tenant", None)
    if delivery.business_id is None or getattr(tenant, "pk", None) != delivery.business_id:
        return None
    increments = delivery_increments(delivery=delivery, status=status, previous=previous, at=at)
    if not increments:
        return None
    return metric_ctes(after=after), metric_params(increments, at)


# --- reads ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowFigures:
    """What the 5-minute rollups of one metric hold since a moment."""

    n: int = 0
    total: float = 0.0
    peak: float | None = None


_WINDOWS_SQL = """
    SELECT w.i, COALESCE(sum(r.n), 0), COALESCE(sum(r.total), 0), max(r.peak)
    FROM unnest(%s::text[], %s::timestamptz[]) WITH ORDINALITY AS w(metric, since, i)
    LEFT JOIN {rollup} r ON r.metric = w.metric AND r.grain = 5 AND r.bucket >= w.since
    GROUP BY w.i
"""


def metric_windows_read(*, windows: list[tuple[str, datetime]]) -> dict[tuple[str, datetime], WindowFigures]:
    """For each (metric, since): the events, their sum and their largest value in the 5-minute
    buckets that start at or after ``since`` floored to 5 minutes. One query for all of them."""
    if not windows:
        return {}
    distinct = sorted(set(windows), key=lambda w: (w[0], w[1]))
    names = [metric for metric, _since in distinct]
    since = [_bucket(start, 5) for _metric, start in distinct]
    sql = _WINDOWS_SQL.format(rollup=connection.ops.quote_name(MetricRollup._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, [names, since])
        rows = cursor.fetchall()
    figures = {}
    for index, n, total, peak in rows:
        figures[distinct[index - 1]] = WindowFigures(n=int(n), total=float(total), peak=peak)
    return figures


def rule_metric_value(metric: str, figures: dict[str, WindowFigures]) -> float | None:
    """The value of ``RULE_METRICS[metric]`` from its stored metrics' figures; None when it has no
    meaning yet (an average or a rate of nothing)."""
    spec = RULE_METRICS[metric]
    first = figures.get(spec.metrics[0], WindowFigures())
    if spec.aggregate == "count":
        return float(first.n)
    if spec.aggregate == "sum":
        return first.total
    if spec.aggregate == "max":
        return first.peak if first.peak is not None else 0.0
    if spec.aggregate == "avg":
        return first.total / first.n if first.n else None
    if spec.aggregate == "rate":
        everything = sum(figures.get(name, WindowFigures()).n for name in spec.metrics)
        return 100.0 * first.n / everything if everything else None
    raise ValueError(spec.aggregate)


def metric_series(*, metric: str, since: datetime, until: datetime, grain: int = 60) -> list[dict]:
    """The buckets of one stored metric between two moments, oldest first (charts, reports)."""
    rows = MetricRollup.objects.filter(metric=metric, grain=grain, bucket__gte=since, bucket__lt=until).order_by(
        "bucket"
    )
    return [{"bucket": row.bucket, "n": row.n, "total": row.total, "peak": row.peak} for row in rows]


# --- pruning ----------------------------------------------------------------------------------------


def metrics_prune(*, now: datetime | None = None) -> int:
    """Delete raw events and custom metric points older than METRIC_RAW_KEEP_DAYS and 5-minute
    buckets older than FIVE_MINUTE_KEEP_DAYS in the current business (the hour buckets stay)."""
    now = now or timezone.now()
    raw, _ = MetricEvent.objects.filter(at__lt=now - timedelta(days=METRIC_RAW_KEEP_DAYS)).delete()
    points, _ = CustomMetricPoint.objects.filter(at__lt=now - timedelta(days=METRIC_RAW_KEEP_DAYS)).delete()
    fine, _ = MetricRollup.objects.filter(
        grain=MetricRollup.Grain.FIVE_MINUTES, bucket__lt=now - timedelta(days=FIVE_MINUTE_KEEP_DAYS)
    ).delete()
    return raw + points + fine
