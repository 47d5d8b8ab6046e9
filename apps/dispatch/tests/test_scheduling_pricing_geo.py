"""Slots around the calendar, business-hours edges, weekends, DST; emergency pricing; offline geocoding."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from apps.dispatch import catalogue, pricing, scheduling
from apps.dispatch.geo import check_service_area, haversine_miles
from apps.dispatch.providers.zipcodes_offline import ZipCentroidGeocoder
from apps.dispatch.rules import parse_time_preference
from apps.tenants.config.models import default_business_hours

CHICAGO = ZoneInfo("America/Chicago")
HOURS = default_business_hours()  # Mon-Fri 08-17, Sat 09-13, Sun closed
HOUR = timedelta(hours=1)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=CHICAGO)


def busy(start: datetime, end: datetime) -> scheduling.Busy:
    return scheduling.Busy(start.astimezone(UTC), end.astimezone(UTC))


def find(now, *, busy_blocks=(), duration=HOUR, buffer=timedelta(minutes=30), preference=None, hours=HOURS):
    return scheduling.find_slots(
        business_hours=hours,
        tz=CHICAGO,
        busy=list(busy_blocks),
        duration=duration,
        buffer=buffer,
        now=now,
        preference=preference,
    )


def starts(slots):
    return [slot.start.astimezone(CHICAGO).strftime("%a %m-%d %H:%M") for slot in slots]


def test_slots_go_around_existing_appointments_with_buffers():
    # Monday 2026-11-23 07:00; a job 09:00-10:00 and another 11:30-12:00.
    blocks = [
        busy(local(2026, 11, 23, 9), local(2026, 11, 23, 10)),
        busy(local(2026, 11, 23, 11, 30), local(2026, 11, 23, 12)),
    ]
    slots, satisfied = find(local(2026, 11, 23, 7), busy_blocks=blocks)
    # 08:00 would end at 09:00 with no travel time; 10:30 would end at 11:30, touching the next job.
    assert starts(slots) == ["Mon 11-23 12:30", "Mon 11-23 13:30", "Mon 11-23 14:30"]
    assert satisfied
    for slot in slots:
        assert all(
            slot.start >= b.end + timedelta(minutes=30) or slot.end + timedelta(minutes=30) <= b.start for b in blocks
        )


def test_no_buffer_allows_back_to_back():
    blocks = [busy(local(2026, 11, 23, 9), local(2026, 11, 23, 10))]
    slots, _ = find(local(2026, 11, 23, 7), busy_blocks=blocks, buffer=timedelta(0))
    assert starts(slots)[:2] == ["Mon 11-23 08:00", "Mon 11-23 10:00"]


def test_a_job_that_does_not_fit_before_closing_moves_to_the_next_business_day():
    slots, _ = find(local(2026, 11, 23, 15, 30), duration=timedelta(hours=2))
    assert starts(slots)[0] == "Tue 11-24 08:00"
    # 14:55 + 1 h lead = 15:55 -> 16:00; 16:00-17:00 fits exactly at closing.
    slots, _ = find(local(2026, 11, 23, 14, 55))
    assert starts(slots)[0] == "Mon 11-23 16:00"
    assert slots[0].end.astimezone(CHICAGO).time() == time(17)


def test_weekends_saturday_short_day_and_closed_sunday():
    # Friday 16:30: nothing left today; Saturday opens 09:00-13:00; Sunday is closed.
    slots, _ = find(local(2026, 11, 27, 16, 30))
    assert starts(slots) == ["Sat 11-28 09:00", "Sat 11-28 10:00", "Sat 11-28 11:00"]
    sunday = parse_time_preference("Sunday", now=local(2026, 11, 27, 16, 30))
    slots, satisfied = find(local(2026, 11, 27, 16, 30), preference=sunday)
    assert not satisfied and starts(slots)[0] == "Sat 11-28 09:00"
    saturday_late = parse_time_preference("Saturday after 2pm", now=local(2026, 11, 27, 16, 30))
    assert not find(local(2026, 11, 27, 16, 30), preference=saturday_late)[1]


def test_preferences_pick_the_slot():
    now = local(2026, 11, 23, 10)
    after_three = find(now, preference=parse_time_preference("after 3pm", now=now))[0]
    assert starts(after_three)[0] == "Mon 11-23 15:00"
    tomorrow_morning = find(now, preference=parse_time_preference("tomorrow morning", now=now))[0]
    assert starts(tomorrow_morning) == ["Tue 11-24 08:00", "Tue 11-24 09:00", "Tue 11-24 10:00"]
    at_ten = find(now, preference=parse_time_preference("next Tuesday at 10", now=now))[0]
    assert starts(at_ten)[0] == "Tue 11-24 10:00"
    saturday = find(now, preference=parse_time_preference("Saturday", now=now))[0]
    assert starts(saturday)[0] == "Sat 11-28 09:00"


def test_dst_spring_forward_2026_03_08():
    # A business open 01:00-05:00 on Sundays: on 2026-03-08 02:00-03:00 does not exist.
    hours = {**HOURS, "sunday": {"open": "01:00", "close": "05:00", "closed": False}}
    (window,) = scheduling.opening_windows(datetime(2026, 3, 8).date(), hours, CHICAGO)
    assert window[1] - window[0] == timedelta(hours=3)  # three real hours, not four
    slots = list(
        scheduling.candidate_slots(
            business_hours=hours,
            tz=CHICAGO,
            busy=[],
            duration=HOUR,
            buffer=timedelta(0),
            now=local(2026, 3, 7, 20),
            horizon_days=0,
        )
    ) + list(
        scheduling.candidate_slots(
            business_hours=hours,
            tz=CHICAGO,
            busy=[],
            duration=HOUR,
            buffer=timedelta(0),
            now=local(2026, 3, 8, 0),
            horizon_days=0,
        )
    )
    local_starts = [slot.start.astimezone(CHICAGO).strftime("%H:%M %Z") for slot in slots]
    assert local_starts == ["01:00 CST", "01:30 CST", "03:00 CDT", "03:30 CDT", "04:00 CDT"]
    assert all(slot.end - slot.start == HOUR for slot in slots)
    # Monday after the change opens at 08:00 CDT = 13:00 UTC (it was 14:00 UTC the Monday before).
    monday, _ = find(local(2026, 3, 8, 12))
    assert monday[0].start == datetime(2026, 3, 9, 13, tzinfo=UTC)
    before, _ = find(local(2026, 3, 1, 12))
    assert before[0].start == datetime(2026, 3, 2, 14, tzinfo=UTC)


def test_dst_fall_back_2026_11_01():
    # Open 00:30-03:30 on Sunday 2026-11-01: 01:00-02:00 happens twice, so the day is four hours long.
    hours = {**HOURS, "sunday": {"open": "00:30", "close": "03:30", "closed": False}}
    slots = list(
        scheduling.candidate_slots(
            business_hours=hours,
            tz=CHICAGO,
            busy=[],
            duration=HOUR,
            buffer=timedelta(0),
            now=local(2026, 10, 31, 20),
            horizon_days=1,
        )
    )
    sunday = [slot for slot in slots if slot.start.astimezone(CHICAGO).date().isoformat() == "2026-11-01"]
    assert len(sunday) == 7
    assert [s.start.astimezone(CHICAGO).strftime("%H:%M %Z") for s in sunday] == [
        "00:30 CDT",
        "01:00 CDT",
        "01:30 CDT",
        "01:00 CST",
        "01:30 CST",
        "02:00 CST",
        "02:30 CST",
    ]
    # A job booked 01:00-02:00 CDT blocks the first 01:00 only, not the repeated 01:00 CST hour.
    first_one_am = datetime(2026, 11, 1, 6, tzinfo=UTC)
    blocked = list(
        scheduling.candidate_slots(
            business_hours=hours,
            tz=CHICAGO,
            busy=[scheduling.Busy(first_one_am, first_one_am + HOUR)],
            duration=HOUR,
            buffer=timedelta(0),
            now=local(2026, 10, 31, 20),
            horizon_days=1,
        )
    )
    blocked_starts = [
        s.start.astimezone(CHICAGO).strftime("%H:%M %Z") for s in blocked if s.start.date().isoformat() == "2026-11-01"
    ]
    assert "01:00 CST" in blocked_starts and "01:00 CDT" not in blocked_starts
    # Regular weekday hours after the change: 08:00 CST = 14:00 UTC.
    monday, _ = find(local(2026, 11, 1, 12))
    assert monday[0].start == datetime(2026, 11, 2, 14, tzinfo=UTC)


def test_business_hours_compliance_in_business_timezone():
    assert scheduling.is_within_business_hours(local(2026, 11, 23, 8), HOURS, CHICAGO)
    assert not scheduling.is_within_business_hours(local(2026, 11, 23, 7, 59), HOURS, CHICAGO)
    assert not scheduling.is_within_business_hours(local(2026, 11, 29, 10), HOURS, CHICAGO)  # Sunday
    # 16:30-17:30 runs past closing.
    assert not scheduling.is_within_business_hours(
        local(2026, 11, 23, 16, 30), HOURS, CHICAGO, end=local(2026, 11, 23, 17, 30)
    )
    # 14:30 UTC is 08:30 in Chicago, inside; the same instant is 09:30 in New York, also inside, but
    # 13:30 UTC is 07:30 in Chicago: closed.
    assert scheduling.is_within_business_hours(datetime(2026, 11, 23, 14, 30, tzinfo=UTC), HOURS, CHICAGO)
    assert not scheduling.is_within_business_hours(datetime(2026, 11, 23, 13, 30, tzinfo=UTC), HOURS, CHICAGO)


def test_emergency_slot_ignores_business_hours_but_not_the_calendar():
    now = local(2026, 11, 23, 21, 10)  # Monday night
    blocks = [busy(local(2026, 11, 23, 22, 15), local(2026, 11, 23, 23, 15))]
    slot = scheduling.emergency_slot(
        business_hours=HOURS, tz=CHICAGO, busy=blocks, duration=HOUR, buffer=timedelta(minutes=15), now=now
    )
    assert slot.start.astimezone(CHICAGO) == local(2026, 11, 23, 23, 30)
    assert not slot.within_business_hours


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(2026, 11, 23, 10), "1.50"),  # Monday daytime
        (local(2026, 11, 23, 19), "2.00"),  # Monday evening
        (local(2026, 11, 23, 23), "2.50"),  # Monday night
        (local(2026, 11, 24, 3), "2.50"),  # Tuesday 03:00 is Monday night
        (local(2026, 11, 28, 10), "1.75"),  # Saturday daytime
        (local(2026, 11, 28, 20), "2.25"),  # Saturday evening
        (local(2026, 11, 29, 2), "2.75"),  # Sunday 02:00 is Saturday night
        (local(2026, 11, 29, 11), "2.00"),  # Sunday daytime
        (local(2026, 11, 29, 23), "2.75"),  # Sunday night
        (local(2026, 11, 30, 6, 59), "2.75"),  # Monday before 07:00 is still Sunday night
        (local(2026, 11, 30, 7), "1.50"),
    ],
)
def test_emergency_multiplier_by_time_and_day(moment, expected):
    multiplier = pricing.emergency_multiplier(moment, CHICAGO)
    assert multiplier == Decimal(expected)
    assert pricing.MIN_MULTIPLIER <= multiplier <= pricing.MAX_MULTIPLIER


def test_multiplier_reads_the_business_timezone():
    # 01:00 UTC Tuesday is Monday 19:00 in Chicago (evening), but Tuesday 10:00 in Tokyo (day).
    moment = datetime(2026, 11, 24, 1, tzinfo=UTC)
    assert pricing.emergency_multiplier(moment, CHICAGO) == Decimal("2.00")
    assert pricing.emergency_multiplier(moment, ZoneInfo("Asia/Tokyo")) == Decimal("1.50")


ESTIMATES = [
    {"job_type": "Drain cleaning", "trade": "plumbing", "min_price": 150, "max_price": 250, "duration_minutes": 90},
    {"job_type": "water_heater", "trade": "plumbing", "min_price": 900, "max_price": 1800, "duration_minutes": 180},
    {"job_type": "Leak repair", "trade": "plumbing", "min_price": 120, "max_price": 300, "duration_minutes": 60},
]


def test_estimates_match_by_key_then_words_then_trade_and_quote_applies_multiplier():
    heater = catalogue.match(ESTIMATES, texts=["anything"], job_type="water_heater", trade="plumbing")
    assert heater.duration_minutes == 180
    drain = catalogue.match(ESTIMATES, texts=["the kitchen drain is clogged"])
    assert (drain.job_type, drain.min_price, drain.max_price) == (
        "Drain cleaning",
        Decimal("150.00"),
        Decimal("250.00"),
    )
    assert catalogue.fallback(ESTIMATES, trade="plumbing").job_type == "Drain cleaning"
    assert catalogue.fallback(ESTIMATES, trade="plumbing").matched is False
    assert catalogue.match(ESTIMATES, texts=["I'm locked out"], trade="locksmith") is None
    assert catalogue.match([], texts=["x"], job_type="x") is None
    night = pricing.quote(drain, emergency=True, start=local(2026, 11, 28, 23), tz=CHICAGO)
    assert (night.multiplier, night.min_price, night.max_price, night.midpoint) == (
        Decimal("2.75"),
        Decimal("412.50"),
        Decimal("687.50"),
        Decimal("550.00"),
    )
    normal = pricing.quote(drain, emergency=False, start=local(2026, 11, 28, 23), tz=CHICAGO)
    assert (normal.multiplier, normal.min_price) == (Decimal("1.00"), Decimal("150.00"))


def test_offline_geocoding_and_service_area():
    geocoder = ZipCentroidGeocoder()
    lincoln_park = geocoder.geocode("1420 W Fullerton Ave, Chicago IL 60614")
    assert lincoln_park.source == "zipcodes" and lincoln_park.precision == "zip_centroid"
    assert lincoln_park.latitude == pytest.approx(41.92, abs=0.05) and lincoln_park.longitude == pytest.approx(
        -87.65, abs=0.05
    )
    assert geocoder.geocode("55 Oak Street") is None  # no ZIP, nothing to look up offline
    assert geocoder.geocode("zip 00000") is None
    loop = (41.8858, -87.6181)  # 60601
    assert check_service_area(lincoln_park, center=loop, radius_miles=10).valid is True
    milwaukee = geocoder.geocode("Milwaukee WI 53202")
    far = check_service_area(milwaukee, center=loop, radius_miles=25)
    assert far.valid is False and 75 < far.distance_miles < 90
    assert check_service_area(None, center=loop, radius_miles=25).valid is None
    # New York to Los Angeles is about 2,450 miles.
    assert haversine_miles(40.7128, -74.0060, 34.0522, -118.2437) == pytest.approx(2445, rel=0.01)


def test_a_job_longer_than_the_part_of_the_day_starts_in_it():
    now = local(2026, 12, 2, 11)
    mornings = parse_time_preference("any weekday next week, mornings are best", now=now)
    slots, satisfied = find(now, duration=timedelta(hours=8), preference=mornings)
    assert satisfied
    assert starts(slots)[0] == "Mon 12-07 08:00"
    short, _ = find(now, duration=HOUR, preference=mornings)
    assert all(slot.end.astimezone(CHICAGO).time() <= time(12) for slot in short)


def test_a_window_of_starts_offers_the_earliest_free_start_inside_it():
    """ "9 or 10" on a Saturday (open 09-13): 9:00 when free, else a start up to 10:00, never later."""
    now = local(2026, 12, 3, 8)
    preference = parse_time_preference("saturday at 9 or 10", now=now)
    slots, satisfied = find(now, preference=preference, buffer=timedelta(0))
    assert satisfied and starts(slots)[0] == "Sat 12-05 09:00"
    slots, satisfied = find(
        now,
        busy_blocks=[busy(local(2026, 12, 5, 9), local(2026, 12, 5, 10))],
        preference=preference,
        buffer=timedelta(0),
    )
    assert satisfied and starts(slots) == ["Sat 12-05 10:00"]
    slots, satisfied = find(
        now,
        busy_blocks=[busy(local(2026, 12, 5, 9), local(2026, 12, 5, 11))],
        preference=preference,
        buffer=timedelta(0),
    )
    assert not satisfied
