"""Business hours and free slots, in the business's time zone.

All arithmetic and comparisons happen in UTC: Python compares two datetimes that share one
``ZoneInfo`` by wall-clock time and adds timedeltas in wall-clock time, which is wrong across DST
changes. Local time is used only to find a day's opening hours and to read a slot back to a person.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apps.dispatch.rules import DAY_PARTS, TimePreference

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SLOT_STEP = timedelta(minutes=30)
# When a routine (not emergency) visit may start and end, in the business's zone, if it is open then.
ROUTINE_HOURS = (time(7), time(21))


@dataclass(frozen=True)
class Busy:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime  # UTC
    within_business_hours: bool

    def local(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        return self.start.astimezone(tz), self.end.astimezone(tz)


def _clock(value: str) -> timedelta:
    """``HH:MM`` as time since midnight ("24:00" is the midnight that ends the day)."""
    hours, minutes = str(value).split(":")[:2]
    return timedelta(hours=int(hours), minutes=int(minutes))


def day_intervals(hours: dict) -> list[tuple[str, str]]:
    """One weekday's opening intervals as ``(open, close)`` strings: several when the business has a
    lunch break or a split shift, none when it is closed."""
    if not hours or hours.get("closed"):
        return []
    if "intervals" in hours:
        return [(interval["open"], interval["close"]) for interval in hours["intervals"]]
    if hours.get("open") and hours.get("close"):
        return [(hours["open"], hours["close"])]
    return []


def closed_on(day: date, business_hours: dict) -> str | None:
    """The name of the closure (a holiday, a vacation) on local ``day``, "" if unnamed; None if open."""
    for closure in business_hours.get("closed_dates") or ():
        if closure["date"] == day.isoformat():
            return closure.get("name") or ""
    return None


def opening_windows(day: date, business_hours: dict, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The UTC instants the business opens and closes on local ``day``, one pair per interval;
    empty when it is closed (its weekday, or a holiday closure). Local times are resolved in the
    zone first, so a DST change inside an interval makes it an hour longer or shorter."""
    if closed_on(day, business_hours) is not None:
        return []
    midnight = datetime.combine(day, time(0))
    windows = []
    for opening, closing in day_intervals(business_hours.get(WEEKDAYS[day.weekday()]) or {}):
        start = (midnight + _clock(opening)).replace(tzinfo=tz).astimezone(UTC)
        end = (midnight + _clock(closing)).replace(tzinfo=tz).astimezone(UTC)
        if start < end:
            windows.append((start, end))
    return windows


def is_within_business_hours(
    moment: datetime, business_hours: dict, tz: ZoneInfo, *, end: datetime | None = None
) -> bool:
    """Whether ``moment`` (and ``end``, if given) falls inside one opening interval."""
    start_utc, end_utc = moment.astimezone(UTC), (end or moment).astimezone(UTC)
    local_day = moment.astimezone(tz).date()
    # An interval that closes at 24:00 belongs to the day before the instant that ends it.
    for day in (local_day, local_day - timedelta(days=1)):
        for opening, closing in opening_windows(day, business_hours, tz):
            if opening <= start_utc and end_utc <= closing:
                return True
    return False


def _overlaps(start: datetime, end: datetime, busy: list[Busy], buffer: timedelta) -> bool:
    return any(start < b.end + buffer and b.start < end + buffer for b in busy)


def _ceil_to_step(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    steps = -(-(moment - epoch) // step)
    return epoch + steps * step


def _longer_than_the_day_part(preference: TimePreference, duration: timedelta) -> bool:
    bounds = DAY_PARTS.get(preference.day_part or "")
    if bounds is None or (preference.after, preference.before) != bounds:
        return False
    opens, closes = (datetime.combine(date.min, edge) for edge in bounds)
    return duration > closes - opens


def matches(slot_start: datetime, slot_end: datetime, tz: ZoneInfo, preference: TimePreference | None) -> bool:
    if preference is None or preference.is_empty:
        return True
    local_start, local_end = slot_start.astimezone(tz), slot_end.astimezone(tz)
    if preference.date and local_start.date() != preference.date:
        return False
    if preference.earliest_date and local_start.date() < preference.earliest_date:
        return False
    if preference.weekday is not None and local_start.weekday() != preference.weekday:
        return False
    if local_start.weekday() in preference.excluded_weekdays:
        return False
    if preference.after and local_start.time() < preference.after:
        return False
    if preference.latest_start and local_start.time() > preference.latest_start:
        return False
    if _longer_than_the_day_part(preference, slot_end - slot_start):
        # "Mornings are best" for an 8-hour install: it starts in the morning.
        return local_start.time() < preference.before
    ends_too_late = (
        preference.before and local_end.date() == local_start.date() and local_end.time() > preference.before
    )
    return not ends_too_late


def candidate_slots(
    *,
    business_hours: dict,
    tz: ZoneInfo,
    busy: list[Busy],
    duration: timedelta,
    buffer: timedelta,
    now: datetime,
    horizon_days: int = 14,
    min_lead: timedelta = timedelta(hours=1),
    step: timedelta = SLOT_STEP,
):
    """Every free start inside business hours, earliest first, from ``now + min_lead`` on.

    A slot is free when it keeps ``buffer`` clear on both sides of every busy block (travel and
    clean-up time), and fits inside one opening interval (a job does not run through lunch).
    """
    earliest = _ceil_to_step(now.astimezone(UTC) + min_lead, step)
    first_day = now.astimezone(tz).date()
    for offset in range(horizon_days + 1):
        for opening, closing in opening_windows(first_day + timedelta(days=offset), business_hours, tz):
            start = _align(max(opening, earliest), opening, step)
            while start + duration <= closing:
                end = start + duration
                if not _overlaps(start, end, busy, buffer):
                    yield Slot(start, end, True)
                start += step


def _align(moment: datetime, anchor: datetime, step: timedelta) -> datetime:
    """The first instant at or after ``moment`` on the grid that starts at ``anchor``."""
    steps = -(-(moment - anchor) // step)
    return anchor + steps * step


def find_slots(
    *,
    business_hours: dict,
    tz: ZoneInfo,
    busy: list[Busy],
    duration: timedelta,
    buffer: timedelta,
    now: datetime,
    preference: TimePreference | None = None,
    horizon_days: int = 14,
    min_lead: timedelta = timedelta(hours=1),
    limit: int = 3,
    waking_hours: tuple[time, time] | None = None,
) -> tuple[list[Slot], bool]:
    """Up to ``limit`` free slots and whether they honour ``preference``.

    ``waking_hours`` keeps a routine visit at a business open around the clock out of the small
    hours ("tomorrow after lunch" is not midnight): slots outside them are offered only when no slot
    inside them is free.

    The slots honour the preference when any do; otherwise they are the earliest free ones and the
    flag is False, so the reply can say "Saturday is full, the earliest is Monday 8 AM".
    A preferred clock time ("at 10") ranks slots by their distance from it.
    """
    slots = list(
        candidate_slots(
            business_hours=business_hours,
            tz=tz,
            busy=busy,
            duration=duration,
            buffer=buffer,
            now=now,
            horizon_days=horizon_days,
            min_lead=min_lead,
        )
    )
    if waking_hours is not None:
        awake = [slot for slot in slots if _within_local(slot, tz, waking_hours)]
        slots = awake or slots
    preferred = [slot for slot in slots if matches(slot.start, slot.end, tz, preference)]
    if preference is not None and preference.at is not None and preferred:
        target = preference.at.hour * 60 + preference.at.minute

        def distance(slot: Slot) -> tuple:
            local = slot.start.astimezone(tz)
            return (local.date(), abs(local.hour * 60 + local.minute - target))

        first_day = min(slot.start.astimezone(tz).date() for slot in preferred)
        same_day = [slot for slot in preferred if slot.start.astimezone(tz).date() == first_day]
        preferred = sorted(same_day, key=distance) + [slot for slot in preferred if slot not in same_day]
    if preferred:
        return _spread(preferred, limit), True
    return _spread(slots, limit), False


def _within_local(slot: Slot, tz: ZoneInfo, window: tuple[time, time]) -> bool:
    start, end = slot.local(tz)
    return start.date() == end.date() and window[0] <= start.time() and end.time() <= window[1]


def _spread(slots: list[Slot], limit: int) -> list[Slot]:
    """The first slot and alternatives that do not overlap it (offering 8:00, 8:30 and 9:00 is noise)."""
    chosen: list[Slot] = []
    for slot in slots:
        if all(slot.start >= other.end or slot.end <= other.start for other in chosen):
            chosen.append(slot)
        if len(chosen) == limit:
            break
    return chosen


def emergency_slot(
    *,
    business_hours: dict,
    tz: ZoneInfo,
    busy: list[Busy],
    duration: timedelta,
    buffer: timedelta,
    now: datetime,
    response_time: timedelta = timedelta(minutes=60),
    step: timedelta = timedelta(minutes=15),
    horizon: timedelta = timedelta(days=2),
) -> Slot | None:
    """The earliest free start at any hour (emergencies are served outside business hours)."""
    start = _ceil_to_step(now.astimezone(UTC) + response_time, step)
    limit = start + horizon
    while start < limit:
        end = start + duration
        if not _overlaps(start, end, busy, buffer):
            return Slot(start, end, is_within_business_hours(start, business_hours, tz, end=end))
        start += step
    return None
