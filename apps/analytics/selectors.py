"""Dashboard figures, read from the other apps (analytics reads everyone; nobody imports it)."""

import zoneinfo
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.analytics.models import FeedEvent
from apps.analytics.usage import call_counts
from apps.conversations.models import Conversation, Message
from apps.crm.models import Appointment
from apps.telephony.models import Call

CHART_DAYS = 14
# The overview's periods: today, or the last 7 / 30 days (today included), in the business's zone.
PERIODS = {"today": 1, "7d": 7, "30d": 30}
FEED_HOURS = 24
FEED_LIMIT = 50


def _day_bounds(day: date, tz: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def day_bounds(*, day: date, business) -> tuple[datetime, datetime]:
    """Midnight to midnight of ``day`` in the business's time zone."""
    return _day_bounds(day, zoneinfo.ZoneInfo(business.timezone))


def business_today(business) -> date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(business.timezone)).date()


def period_bounds(*, business, period: str) -> tuple[date, date, datetime, datetime]:
    """First and last day of ``period`` (a key of ``PERIODS``) and their bounds in the business's zone."""
    tz = zoneinfo.ZoneInfo(business.timezone)
    last = business_today(business)
    first = last - timedelta(days=PERIODS[period] - 1)
    return first, last, _day_bounds(first, tz)[0], _day_bounds(last, tz)[1]


def _caller_replied():
    """A missed call is recovered when its conversation got an inbound message after the call."""
    return Message.objects.filter(
        conversation_id=OuterRef("conversation_id"),
        direction=Message.Direction.INBOUND,
        created_at__gte=OuterRef("started_at"),
    )


def recovered_by_day(*, start: datetime, end: datetime, tz: zoneinfo.ZoneInfo) -> dict[date, int]:
    """Missed calls recovered (the caller texted back) per local day of the call: one query."""
    rows = (
        Call.objects.filter(started_at__gte=start, started_at__lt=end, status=Call.Status.MISSED)
        .filter(Exists(_caller_replied()))
        .annotate(day=TruncDate("started_at", tzinfo=tz))
        .values("day")
        .annotate(recovered=Count("id"))
    )
    return {row["day"]: row["recovered"] for row in rows}


def overview_kpis(
    *, business, day: date | None = None, start: datetime | None = None, end=None, rollups: bool = False
) -> dict:
    """Calls, missed calls, missed calls recovered by SMS, bookings and their value, for one day
    (today by default) or the range ``start``–``end``.

    A missed call counts as recovered when its caller texted back (the conversation got an
    inbound message after the call). Three queries, each bounded by the range's index range. With
    ``rollups`` the calls, answered and missed come from the metric rollups (``usage.call_counts``:
    work by buckets, not calls); recovered and bookings stay on rows (no rollup holds them: a
    recovery is known only when the caller texts back, and a cancelled booking leaves its rollup).
    """
    tz = zoneinfo.ZoneInfo(business.timezone)
    if start is None or end is None:
        start, end = _day_bounds(day or business_today(business), tz)
    if rollups:
        calls = call_counts(start=start, end=end)
    else:
        calls = Call.objects.filter(started_at__gte=start, started_at__lt=end).aggregate(
            calls=Count("id"),
            missed=Count("id", filter=Q(status=Call.Status.MISSED)),
            answered=Count("id", filter=Q(status=Call.Status.ANSWERED)),
        )
    recovered = (
        Call.objects.filter(started_at__gte=start, started_at__lt=end, status=Call.Status.MISSED)
        .filter(Exists(_caller_replied()))
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


def _from_missed_calls():
    """Appointments the assistant booked in a conversation that a missed call opened (the lead record:
    ``Conversation.appointment_id``, the call: ``Call.conversation``)."""
    return Conversation.objects.filter(calls__status=Call.Status.MISSED, appointment_id__isnull=False).values(
        "appointment_id"
    )


def recovered_bookings(*, start: datetime, end: datetime):
    """Bookings made between ``start`` and ``end`` that came from missed calls, not cancelled."""
    return (
        Appointment.objects.filter(created_at__gte=start, created_at__lt=end, id__in=_from_missed_calls())
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("customer")
    )


def money_recovered(*, business) -> dict:
    """The money figure: jobs booked this calendar month (the business's zone) from missed calls, and
    their estimated revenue (the appointments' ``estimated_value``; unpriced ones count as jobs, $0).
    One query."""
    tz = zoneinfo.ZoneInfo(business.timezone)
    today = business_today(business)
    month_start = datetime.combine(today.replace(day=1), time.min, tzinfo=tz)
    next_month = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    month_end = datetime.combine(next_month, time.min, tzinfo=tz)
    figures = recovered_bookings(start=month_start, end=month_end).aggregate(
        jobs=Count("id"), revenue=Sum("estimated_value")
    )
    return {
        "jobs": figures["jobs"],
        "revenue": figures["revenue"] or Decimal("0"),
        "month": today.replace(day=1),
        "date_from": month_start.date(),
        "date_to": (month_end - timedelta(days=1)).date(),
    }


def booking_list(*, start: datetime, end: datetime, from_missed_call: bool = False):
    """Bookings made between ``start`` and ``end`` (not cancelled), newest first."""
    if from_missed_call:
        queryset = recovered_bookings(start=start, end=end)
    else:
        queryset = (
            Appointment.objects.filter(created_at__gte=start, created_at__lt=end)
            .exclude(status=Appointment.Status.CANCELLED)
            .select_related("customer")
        )
    return queryset.order_by("-created_at", "-id")


def feed_recent(*, hours: int = FEED_HOURS, limit: int = FEED_LIMIT) -> list[FeedEvent]:
    """The stored activity feed of the current business: the last ``hours``, newest first."""
    since = timezone.now() - timedelta(hours=hours)
    return list(FeedEvent.objects.filter(created_at__gte=since).order_by("-created_at", "-id")[:limit])
