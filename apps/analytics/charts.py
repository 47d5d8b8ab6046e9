"""The analytics page's series: calls, missed, recovered, booked, revenue and response time per hour
(a day) or per local day (7, 30, 90 days) in the business's time zone, and the money figure of the
range. Three bounded queries whatever the range: the hour rollups (``metrics.py``) grouped by the
database with the range's totals as a grouping set, the recovered missed calls (rows: a caller who
texted back is no metric), and the bookings that came from missed calls (``selectors``)."""

import zoneinfo
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Sum
from django.db.models.functions import TruncDate, TruncHour

from apps.analytics import selectors
from apps.analytics.models import MetricRollup
from apps.conversations.models import Message
from apps.telephony.models import Call

# Range → days, today included. Hour rollups are kept for good, so 90 days read them too.
RANGES = {"today": 1, "7d": 7, "30d": 30, "90d": 90}
SERIES_METRICS = ("calls", "calls_missed", "bookings", "ai_turns")

# One row per (metric, point) and one per metric for the whole range (point NULL): events, sum of
# values, and their mean (the assistant's latency per turn), all computed here.
_ROLLUP_SQL = """
    SELECT metric, {point} AS point, sum(n), sum(total), sum(total) / NULLIF(sum(n), 0)
    FROM {rollup}
    WHERE grain = 60 AND metric = ANY(%(metrics)s) AND bucket >= %(start)s AND bucket < %(end)s
    GROUP BY GROUPING SETS ((metric, {point}), (metric))
"""
# Hour buckets are UTC hours: a day's point is the local date the hour starts on; an hour's is the
# bucket itself (in a zone offset by half an hour its label reads 09:30).
_POINT_SQL = {"day": "(bucket AT TIME ZONE %(zone)s)::date", "hour": "bucket"}


def range_bounds(*, business, range_key: str) -> tuple[date, date, datetime, datetime]:
    """First and last local day of the range and their bounds (local midnights)."""
    zone = zoneinfo.ZoneInfo(business.timezone)
    last = selectors.business_today(business)
    first = last - timedelta(days=RANGES[range_key] - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return first, last, start, end


def _points(grain: str, first: date, start: datetime, end: datetime, zone) -> list:
    if grain == "hour":
        hours = int((end - start).total_seconds() // 3600)  # 23 or 25 on a change of clocks
        utc_start = start.astimezone(zoneinfo.ZoneInfo("UTC"))
        return [utc_start + timedelta(hours=offset) for offset in range(hours)]
    days = (end.astimezone(zone).date() - first).days
    return [first + timedelta(days=offset) for offset in range(days)]


def _rollups(grain: str, start: datetime, end: datetime, zone_name: str) -> dict:
    sql = _ROLLUP_SQL.format(point=_POINT_SQL[grain], rollup=connection.ops.quote_name(MetricRollup._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, {"metrics": list(SERIES_METRICS), "start": start, "end": end, "zone": zone_name})
        return {(metric, point): (int(n), float(total), mean) for metric, point, n, total, mean in cursor.fetchall()}


def _recovered(grain: str, start: datetime, end: datetime, zone) -> dict:
    """Missed calls of the range whose caller texted back, per point (one query)."""
    replied = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"),
        direction=Message.Direction.INBOUND,
        created_at__gte=OuterRef("started_at"),
    )
    point = (
        TruncHour("started_at", tzinfo=zoneinfo.ZoneInfo("UTC"))
        if grain == "hour"
        else TruncDate("started_at", tzinfo=zone)
    )
    rows = (
        Call.objects.filter(started_at__gte=start, started_at__lt=end, status=Call.Status.MISSED)
        .filter(Exists(replied))
        .annotate(point=point)
        .values("point")
        .annotate(n=Count("id"))
    )
    return {row["point"]: row["n"] for row in rows}


def _latency(mean) -> float | None:
    return round(float(mean), 1) if mean is not None else None


def chart_series(*, business, range_key: str) -> dict:
    """Everything the analytics page draws for ``range_key`` (a key of ``RANGES``)."""
    zone = zoneinfo.ZoneInfo(business.timezone)
    first, last, start, end = range_bounds(business=business, range_key=range_key)
    grain = "hour" if RANGES[range_key] == 1 else "day"
    points = _points(grain, first, start, end, zone)
    rollups = _rollups(grain, start, end, business.timezone)
    recovered = _recovered(grain, start, end, zone)
    money = selectors.recovered_bookings(start=start, end=end).aggregate(jobs=Count("id"), value=Sum("estimated_value"))

    def figure(metric, point, index):
        return rollups.get((metric, point), (0, 0.0, None))[index]

    labels = [point.astimezone(zone).strftime("%H:%M") if grain == "hour" else point.isoformat() for point in points]
    series = {
        "calls": [figure("calls", point, 0) for point in points],
        "missed": [figure("calls_missed", point, 0) for point in points],
        "recovered": [recovered.get(point, 0) for point in points],
        "booked": [figure("bookings", point, 0) for point in points],
        "revenue": [round(figure("bookings", point, 1), 2) for point in points],
        "response_time_ms": [_latency(figure("ai_turns", point, 2)) for point in points],
    }
    return {
        "range": range_key,
        "grain": grain,
        "timezone": business.timezone,
        "date_from": first.isoformat(),
        "date_to": last.isoformat(),
        "labels": labels,
        "series": series,
        "totals": {
            "calls": figure("calls", None, 0),
            "missed": figure("calls_missed", None, 0),
            "recovered": sum(recovered.values()),
            "booked": figure("bookings", None, 0),
            "revenue": round(figure("bookings", None, 1), 2),
            "response_time_ms": _latency(figure("ai_turns", None, 2)),
        },
        "money": {
            "missed_calls_recovered": sum(recovered.values()),
            "jobs_booked": money["jobs"],
            "estimated_value": str(money["value"] or "0.00"),
        },
    }
