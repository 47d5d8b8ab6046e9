"""Dashboard figures, read from the other apps (analytics reads everyone; nobody imports it)."""

import zoneinfo
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.conversations.models import Message
from apps.crm.models import Appointment
from apps.telephony.models import Call

CHART_DAYS = 14


def _day_bounds(day: date, tz: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def business_today(business) -> date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(business.timezone)).date()


def overview_kpis(*, business, day: date | None = None) -> dict:
    """Today's calls, missed calls, missed calls recovered by SMS, bookings and their value.

    A missed call counts as recovered when its caller texted back (the conversation got an
    inbound message after the call). Three queries, each bounded by the day's index range.
    """
    tz = zoneinfo.ZoneInfo(business.timezone)
    start, end = _day_bounds(day or business_today(business), tz)
    replied = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"),
        direction=Message.Direction.INBOUND,
        created_at__gte=OuterRef("started_at"),
    )
    calls = Call.objects.filter(started_at__gte=start, started_at__lt=end).aggregate(
        calls=Count("id"),
        missed=Count("id", filter=Q(status=Call.Status.MISSED)),
        answered=Count("id", filter=Q(status=Call.Status.ANSWERED)),
    )
    recovered = (
        Call.objects.filter(started_at__gte=start, started_at__lt=end, status=Call.Status.MISSED)
        .filter(Exists(replied))
        .count()
    )
    bookings = (
        Appointment.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(status=Appointment.Status.CANCELLED)
        .aggregate(booked=Count("id"), revenue=Sum("estimated_value"))
    )
    return {
        **calls,
        "recovered": recovered,
        "booked": bookings["booked"],
        "revenue": bookings["revenue"] or Decimal("0"),
    }


def calls_by_day(*, business, days: int = CHART_DAYS) -> list[dict]:
    """Calls and missed calls per day (in the business's time zone) for the last ``days`` days."""
    tz = zoneinfo.ZoneInfo(business.timezone)
    today = business_today(business)
    first = today - timedelta(days=days - 1)
    start, _ = _day_bounds(first, tz)
    rows = (
        Call.objects.filter(started_at__gte=start)
        .annotate(day=TruncDate("started_at", tzinfo=tz))
        .values("day")
        .annotate(calls=Count("id"), missed=Count("id", filter=Q(status=Call.Status.MISSED)))
    )
    by_day = {row["day"]: row for row in rows}
    series = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = by_day.get(day, {})
        series.append({"day": day, "calls": row.get("calls", 0), "missed": row.get("missed", 0)})
    return series


def chart_bars(series: list[dict], *, height: int = 120, bar_width: int = 16, gap: int = 6) -> dict:
    """Geometry for the server-rendered SVG bar chart (no JavaScript needed to draw it)."""
    peak = max([point["calls"] for point in series] + [1])
    bars = []
    for index, point in enumerate(series):
        x = index * (bar_width + gap)
        calls_h = round(point["calls"] / peak * height)
        missed_h = round(point["missed"] / peak * height)
        bars.append(
            {
                **point,
                "x": x,
                "calls_y": height - calls_h,
                "calls_h": calls_h,
                "missed_y": height - missed_h,
                "missed_h": missed_h,
            }
        )
    return {"bars": bars, "width": len(series) * (bar_width + gap), "height": height, "bar_width": bar_width}
