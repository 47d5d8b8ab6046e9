"""Minutes inside the business's opening hours: how long a lead in the recovery queue has waited
against the response target. The hours themselves are the dispatch engine's
(``apps.dispatch.scheduling.opening_windows``: weekday intervals, split shifts, holiday closures,
local times resolved in the zone so a DST change lengthens or shortens that day's interval)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apps.dispatch import scheduling


def _never_open(business_hours: dict) -> bool:
    return not any(scheduling.day_intervals(business_hours.get(day) or {}) for day in scheduling.WEEKDAYS)


def business_minutes(start: datetime, end: datetime, *, business_hours: dict, tz: ZoneInfo) -> int:
    """Whole minutes between ``start`` and ``end`` that fall inside opening hours. A business with
    no opening hours at all is counted by the wall clock (otherwise nobody would ever be alerted)."""
    if end <= start:
        return 0
    if _never_open(business_hours or {}):
        return int((end - start).total_seconds() // 60)
    total = timedelta()
    # The day before too: an interval closing at 24:00 (or later) belongs to the day it opened.
    day, last = start.astimezone(tz).date() - timedelta(days=1), end.astimezone(tz).date()
    while day <= last:
        for opening, closing in scheduling.opening_windows(day, business_hours, tz):
            low, high = max(opening, start), min(closing, end)
            if low < high:
                total += high - low
        day += timedelta(days=1)
    return int(total.total_seconds() // 60)
