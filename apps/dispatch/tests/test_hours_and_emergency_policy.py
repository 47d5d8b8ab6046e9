"""Business hours as businesses have them (several intervals a day, 24-hour days, holiday
closures) and the business's own emergency policy, multiplier and pricing note, through the engine
and through the request a business's settings build."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import tenant_context

from apps.dispatch import scheduling
from apps.dispatch.selectors import business_context
from apps.dispatch.tests.test_engine import run
from apps.tenants.config.services import config_update

CHICAGO = ZoneInfo("America/Chicago")
LUNCH = {"closed": False, "intervals": [{"open": "08:00", "close": "12:00"}, {"open": "13:00", "close": "17:00"}]}
ALL_DAY = {"closed": False, "intervals": [{"open": "00:00", "close": "24:00"}]}
ADDRESS = "I'm Maria Lopez, 1420 W Fullerton Ave, Chicago IL 60614."


def local(*args) -> datetime:
    return datetime(*args, tzinfo=CHICAGO)


def slot_starts(hours: dict, *, now: datetime, duration=timedelta(hours=1), days=1) -> list[str]:
    slots = scheduling.candidate_slots(
        business_hours=hours, tz=CHICAGO, busy=[], duration=duration, buffer=timedelta(0), now=now, horizon_days=days
    )
    return [slot.start.astimezone(CHICAGO).strftime("%a %H:%M") for slot in slots]


def test_a_lunch_break_is_never_booked_across():
    hours = {"timezone": "America/Chicago", "tuesday": LUNCH}
    starts = slot_starts(hours, now=local(2026, 11, 24, 6), duration=timedelta(minutes=90), days=0)
    assert starts == ["Tue 08:00", "Tue 08:30", "Tue 09:00", "Tue 09:30", "Tue 10:00", "Tue 10:30",
                      "Tue 13:00", "Tue 13:30", "Tue 14:00", "Tue 14:30", "Tue 15:00", "Tue 15:30"]  # fmt: skip
    assert not scheduling.is_within_business_hours(
        local(2026, 11, 24, 11, 30), hours, CHICAGO, end=local(2026, 11, 24, 12, 30)
    )
    assert scheduling.is_within_business_hours(local(2026, 11, 24, 13), hours, CHICAGO)


def test_a_24_hour_day_runs_to_midnight_and_across_dst():
    hours = {"timezone": "America/Chicago", "sunday": ALL_DAY}
    # 2026-11-01 has 25 hours in Chicago: the 24-hour day is 25 real hours long.
    (window,) = scheduling.opening_windows(date(2026, 11, 1), hours, CHICAGO)
    assert window[1] - window[0] == timedelta(hours=25)
    starts = slot_starts(hours, now=local(2026, 10, 31, 20), days=1)
    assert starts[0] == "Sun 00:00" and starts[-1] == "Sun 23:00"
    assert scheduling.is_within_business_hours(local(2026, 11, 1, 23, 30), hours, CHICAGO, end=local(2026, 11, 2, 0))


def test_no_slot_on_a_holiday_closure():
    hours = {"timezone": "America/Chicago", "friday": LUNCH, "saturday": LUNCH,
             "closed_dates": [{"date": "2026-12-25", "name": "Christmas Day"}]}  # fmt: skip
    starts = slot_starts(hours, now=local(2026, 12, 24, 20), days=2)
    assert starts and all(start.startswith("Sat") for start in starts)


def test_a_customer_asking_for_a_closed_day_is_told_why(request_payload):
    hours = {"timezone": "America/Chicago", **{day: LUNCH for day in ("monday", "tuesday", "wednesday", "thursday", "friday")},
             "closed_dates": [{"date": "2026-11-26", "name": "Thanksgiving Day"}]}  # fmt: skip
    response = run(
        request_payload(f"My kitchen sink is clogged. {ADDRESS} Thursday morning please", business_hours=hours),
        now=local(2026, 11, 23, 10),
    )
    assert response["next_action"]["action"] == "propose_slot"
    assert "closed_that_day" in response["validation"]["issues"]
    assert response["next_action"]["message"] == (
        "We're closed on Thursday, November 26 (Thanksgiving Day). The closest we can come is "
        "Friday, November 27, 8:00 AM. Does that work? Reply YES to book."
    )  # The morning they asked for, on the next open day.
    assert response["proposed_slot"]["start_datetime"] == "2026-11-27T08:00:00-06:00"


BURST = f"A pipe burst in my basement and water is everywhere! {ADDRESS}"


def test_after_hours_emergency_dispatches_now_by_default(request_payload):
    response = run(request_payload(BURST), now=local(2026, 11, 24, 23))  # Tuesday 11 PM, closed
    slot = response["proposed_slot"]
    assert response["validation"]["is_emergency"] and response["next_action"]["notify_owner"]
    assert slot["start_datetime"] == "2026-11-25T00:00:00-06:00" and slot["pricing_multiplier"] == 2.5


def test_after_hours_emergency_waits_for_the_next_open_day_when_the_business_says_so(request_payload):
    settings = {"after_hours_emergency": "next_open_day"}
    response = run(request_payload(BURST, business_settings=settings), now=local(2026, 11, 24, 23))
    slot = response["proposed_slot"]
    assert response["next_action"]["notify_owner"] is True  # the owner hears about it tonight
    assert "emergency_waits_for_opening" in response["validation"]["issues"]
    assert slot["start_datetime"] == "2026-11-25T08:00:00-06:00" and slot["within_business_hours"] is True
    # During business hours it is still dispatched at once.
    response = run(request_payload(BURST, business_settings=settings), now=local(2026, 11, 24, 10))
    assert "emergency_waits_for_opening" not in response["validation"]["issues"]
    assert response["proposed_slot"]["start_datetime"] == "2026-11-24T11:00:00-06:00"


def test_the_business_multiplier_replaces_the_time_of_day_table(request_payload):
    settings = {"emergency_multiplier": 1.25}
    response = run(request_payload(BURST, business_settings=settings), now=local(2026, 11, 24, 23))
    slot = response["proposed_slot"]
    assert (slot["pricing_multiplier"], slot["estimated_min"], slot["estimated_max"]) == (1.25, 375.0, 750.0)
    assert "$375–$750" in response["next_action"]["message"]


def test_the_pricing_note_is_quoted_with_a_price(request_payload):
    settings = {"pricing_note": "Parts are extra; no trip fee if you book."}
    response = run(request_payload("How much do you charge for drain cleaning?", business_settings=settings))
    assert response["next_action"]["message"] == (
        "A drain cleaning job usually runs $150–$250. Parts are extra; no trip fee if you book. "
        "Would you like us to schedule a visit?"
    )


@pytest.mark.django_db
def test_the_business_settings_reach_the_engine(alpha):
    with tenant_context(alpha):
        config_update(
            business=alpha,
            data={
                "business_hours": {"monday": LUNCH, "sunday": ALL_DAY},
                "holiday_closures": [{"start_date": "2026-11-27", "end_date": "2026-11-28", "name": "Family trip"}],
                "holiday_calendar": {"country": "US", "subdivision": None},
                "emergency_multiplier": 2,
                "pricing_note": "Parts extra.",
                "ai_settings": {"after_hours_emergency": "next_open_day"},
            },
        )
        context = business_context(business=alpha, now=local(2026, 11, 20, 9))
    hours, settings = context["business_hours"], context["business_settings"]
    assert hours["monday"] == LUNCH and hours["sunday"] == ALL_DAY
    closed = {item["date"]: item["name"] for item in hours["closed_dates"]}
    assert closed["2026-11-26"] == "Thanksgiving Day"
    assert closed["2026-11-27"] == closed["2026-11-28"] == "Family trip"
    assert "2026-12-25" not in closed  # beyond the booking horizon
    assert (settings["emergency_multiplier"], settings["pricing_note"], settings["after_hours_emergency"]) == (
        2.0,
        "Parts extra.",
        "next_open_day",
    )


CATALOGUE = [
    {"job_type": "water_heater", "trade": "plumbing", "min_price": 150, "max_price": 400, "duration_minutes": 90},
    {"job_type": "Water heater replacement", "trade": "plumbing", "min_price": 1200, "max_price": 2400, "duration_minutes": 240},
    {"job_type": "Faucet repair", "trade": "plumbing", "min_price": 90, "max_price": 180, "duration_minutes": 60},
    {"job_type": "Faucet install", "trade": "plumbing", "min_price": 150, "max_price": 300, "duration_minutes": 90},
]  # fmt: skip


@pytest.mark.parametrize(
    ("message", "job"),
    [
        ("Our water heater is leaking all over the garage", "water_heater"),
        ("We need a new water heater installed, the old one is 15 years old", "Water heater replacement"),
        ("Can you replace my water heater?", "Water heater replacement"),
        ("Quiero cambiar el calentador por uno nuevo", "Water heater replacement"),
        ("My kitchen faucet keeps dripping, can you fix it?", "Faucet repair"),
        ("I bought a faucet and need it installed", "Faucet install"),
    ],
)
def test_the_business_catalogue_prices_and_times_the_kind_of_work_asked_for(request_payload, message, job):
    response = run(request_payload(f"{message}. {ADDRESS}", job_estimates=CATALOGUE))
    assert response["validation"]["estimate_job_type"] == job
    estimate = next(item for item in CATALOGUE if item["job_type"] == job)
    slot = response["proposed_slot"]
    duration = datetime.fromisoformat(slot["end_datetime"]) - datetime.fromisoformat(slot["start_datetime"])
    assert duration == timedelta(minutes=estimate["duration_minutes"])
    assert (slot["estimated_min"], slot["estimated_max"]) == (estimate["min_price"], estimate["max_price"])


HVAC = [{"job_type": "Furnace repair", "trade": "hvac", "min_price": 150, "max_price": 450, "duration_minutes": 90}]


@pytest.mark.parametrize(
    ("message", "trade", "hour", "reason"),
    [
        ("Furnace died, no heat at all, and my 88 year old mother lives with us", "hvac", 21, "vulnerable"),
        ("Heat stopped working and we have a 3 month old baby, house is at 55", "hvac", 6, "vulnerable"),
        ("It's 104 degrees today and our AC just quit", "hvac", 15, "extreme"),
        ("No tenemos calefacción y mi abuela de 90 años está aquí", "hvac", 22, "vulnerable"),
        ("I locked myself out and my toddler is inside alone!!", "locksmith", 16, "child"),
        ("Our front door won't lock and I don't feel safe leaving it like this", "locksmith", 23, "secured"),
        ("La puerta de entrada no cierra y ya es de noche", "locksmith", 22, "secured"),
    ],
)
def test_an_emergency_told_by_the_situation_is_flagged_with_why(request_payload, message, trade, hour, reason):
    response = run(request_payload(message, trade_type=trade, job_estimates=HVAC), now=local(2026, 12, 8, hour))
    assert response["validation"]["is_emergency"] and response["next_action"]["notify_owner"]
    assert reason in response["extracted_info"]["urgency_reason"]


@pytest.mark.parametrize(
    ("message", "trade"),
    [
        ("My AC isn't cooling well, can someone come this week?", "hvac"),
        ("Heater not working, it's 60 degrees out", "hvac"),
        ("Locked out of my car at the mall", "locksmith"),
        ("The garage door won't close all the way, it's been like that for a month", "garage_door"),
        ("No heat and my 90 year old dad is here, but it's not an emergency, tomorrow is fine", "hvac"),
    ],
)
def test_the_same_words_without_the_danger_are_not_an_emergency(request_payload, message, trade):
    response = run(request_payload(message, trade_type=trade, job_estimates=HVAC), now=local(2026, 12, 8, 13))
    assert not response["validation"]["is_emergency"]


def test_a_gas_smell_is_told_what_to_do_first(request_payload):
    response = run(request_payload("I smell gas in the kitchen near the stove"), now=local(2026, 11, 25, 18))
    assert response["next_action"]["message"].startswith("If you smell gas, leave the house now")
    assert response["next_action"]["notify_owner"]
