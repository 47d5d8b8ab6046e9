"""Business hours as businesses have them, holiday closures, the emergency policy and the pricing
note: every shape the config API accepts is stored and read back identically, and anything it
cannot store is a 400 naming the field, with nothing changed."""

import pytest
from django_tenants.utils import tenant_context

from apps.tenants.config.models import BusinessConfig
from conftest import PASSWORD
from nevermisscall.testing import assert_envelope_error

pytestmark = pytest.mark.django_db

HOURS_SHAPES = {
    "lunch break": {
        "closed": False,
        "intervals": [{"open": "08:00", "close": "12:00"}, {"open": "13:00", "close": "17:00"}],
    },
    "split shift": {
        "closed": False,
        "intervals": [
            {"open": "06:00", "close": "10:00"},
            {"open": "15:00", "close": "19:00"},
            {"open": "20:00", "close": "22:00"},
        ],
    },
    "24 hours": {"closed": False, "intervals": [{"open": "00:00", "close": "24:00"}]},
    "until midnight": {"open": "16:00", "close": "24:00", "closed": False},
    "one interval (seed 000)": {"open": "08:00", "close": "17:00", "closed": False},
    "closed": {"open": None, "close": None, "closed": True},
}


@pytest.mark.parametrize("shape", HOURS_SHAPES)
def test_every_hours_shape_round_trips(alice, alpha, client_for, shape):
    client = client_for(alice)
    day = HOURS_SHAPES[shape]
    response = client.put(f"/config/{alpha.id}", {"business_hours": {"wednesday": day}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["data"]["business_hours"]["wednesday"] == day
    assert client.get(f"/config/{alpha.id}").json()["data"]["business_hours"]["wednesday"] == day
    with tenant_context(alpha):
        assert BusinessConfig.objects.get().business_hours["wednesday"] == day


def test_job_estimates_with_labels_and_synonyms_round_trip(alice, alpha, client_for):
    client = client_for(alice)
    original = client.get(f"/config/{alpha.id}").json()["data"]["job_estimates"]
    estimates = [
        {
            "job_type": "hydro_jetting",
            "label": "Hydro jetting",
            "synonyms": ["roots in the sewer", "raíces en la tubería"],
            "trade": "plumbing",
            "min_price": 350.0,
            "max_price": 700.0,
            "duration_minutes": 120,
            "description": "Sewer line cleared with high-pressure water",
        }
    ]
    try:
        response = client.put(f"/config/{alpha.id}", {"job_estimates": estimates}, format="json")
        assert response.status_code == 200, response.content
        for read in (response.json()["data"], client.get(f"/config/{alpha.id}").json()["data"]):
            assert read["job_estimates"] == estimates
        too_many = {**estimates[0], "synonyms": ["x"] * 31}
        response = client.put(f"/config/{alpha.id}", {"job_estimates": [too_many]}, format="json")
        assert response.status_code == 400 and "synonyms" in response.content.decode()
    finally:
        client.put(f"/config/{alpha.id}", {"job_estimates": original}, format="json")


def test_intervals_are_stored_in_order(alice, alpha, client_for):
    day = {"intervals": [{"open": "13:00", "close": "17:00"}, {"open": "08:00", "close": "12:00"}]}
    response = client_for(alice).put(f"/config/{alpha.id}", {"business_hours": {"friday": day}}, format="json")
    assert response.json()["data"]["business_hours"]["friday"]["intervals"] == [
        {"open": "08:00", "close": "12:00"},
        {"open": "13:00", "close": "17:00"},
    ]


def test_closures_calendar_multiplier_and_note_round_trip(alice, alpha, client_for):
    client = client_for(alice)
    body = {
        "holiday_closures": [
            {"start_date": "2026-12-24", "end_date": "2026-12-26", "name": "Christmas break"},
            {"start_date": "2027-01-01", "end_date": "2027-01-01", "name": ""},
        ],
        "holiday_calendar": {"country": "US", "subdivision": "IL"},
        "emergency_multiplier": 1.75,
        "pricing_note": "Parts are extra.",
        "referral_note": "For locks, try Ace Locksmith.",
        "ai_settings": {"emergency_service": True, "after_hours_emergency": "next_open_day"},
    }
    response = client.put(f"/config/{alpha.id}", body, format="json")
    assert response.status_code == 200, response.content
    for read in (response.json()["data"], client.get(f"/config/{alpha.id}").json()["data"]):
        assert read["holiday_closures"] == body["holiday_closures"]
        assert read["holiday_calendar"] == {"country": "US", "subdivision": "IL"}
        assert read["emergency_multiplier"] == 1.75
        assert read["pricing_note"] == "Parts are extra."
        assert read["referral_note"] == "For locks, try Ace Locksmith."
        assert read["ai_settings"]["after_hours_emergency"] == "next_open_day"
        assert read["ai_settings"]["emergency_service"] is True
    # A closure without an end date is one day; null removes the calendar and the multiplier.
    response = client.put(
        f"/config/{alpha.id}",
        {"holiday_closures": [{"start_date": "2026-07-03"}], "holiday_calendar": None, "emergency_multiplier": None},
        format="json",
    )
    read = response.json()["data"]
    assert read["holiday_closures"] == [{"start_date": "2026-07-03", "end_date": "2026-07-03", "name": ""}]
    assert read["holiday_calendar"] is None
    assert read["emergency_multiplier"] is None


UNSTORABLE = [
    ({"ai_settings": {"emergency_servce": True}}, "emergency_servce"),
    ({"ai_settings": {"after_hours_emergency": "whenever"}}, "after_hours_emergency"),
    ({"service_area": {"radius": 10}}, "radius"),
    ({"business_hours": {"monday": {"open": "08:00", "close": "17:00", "lunch": "12:00"}}}, "lunch"),
    ({"business_hours": {"monday": {"intervals": [{"open": "08:00", "close": "12:00", "note": "x"}]}}}, "note"),
    (
        {
            "business_hours": {
                "monday": {"intervals": [{"open": "08:00", "close": "13:00"}, {"open": "12:00", "close": "17:00"}]}
            }
        },
        "intervals",
    ),
    ({"business_hours": {"monday": {"intervals": []}}}, "intervals"),
    ({"business_hours": {"monday": {"open": "08:00", "close": "24:30"}}}, "close"),
    ({"business_hours": {"monday": {"open": "24:00", "close": "24:00"}}}, "open"),
    (
        {
            "business_hours": {
                "monday": {"open": "08:00", "close": "17:00", "intervals": [{"open": "08:00", "close": "9:00"}]}
            }
        },
        "intervals",
    ),
    (
        {"job_estimates": [{"job_type": "x", "min_price": 1, "max_price": 2, "duration_minutes": 60, "colour": "red"}]},
        "colour",
    ),
    ({"holiday_closures": [{"start_date": "2026-12-26", "end_date": "2026-12-24"}]}, "end_date"),
    ({"holiday_closures": [{"start_date": "Christmas"}]}, "start_date"),
    ({"holiday_calendar": {"country": "ZZ"}}, "country"),
    ({"holiday_calendar": {"country": "US", "subdivision": "XX"}}, "subdivision"),
    ({"emergency_multiplier": 0.5}, "emergency_multiplier"),
    ({"emergency_multiplier": 9}, "emergency_multiplier"),
    ({"pricing_note": "x" * 501}, "pricing_note"),
    ({"referral_note": "x" * 301}, "referral_note"),
]


@pytest.mark.parametrize(("body", "field"), UNSTORABLE, ids=[field for _, field in UNSTORABLE])
def test_a_setting_that_cannot_be_stored_is_a_400_naming_it(alice, alpha, client_for, body, field):
    client = client_for(alice)
    before = client.get(f"/config/{alpha.id}").json()["data"]
    response = client.put(f"/config/{alpha.id}", body, format="json")
    assert_envelope_error(response, 400)
    assert field in response.content.decode()
    assert client.get(f"/config/{alpha.id}").json()["data"] == before


def test_settings_page_saves_intervals_closures_and_the_holiday_calendar(alice, alpha, client):
    assert client.login(username=alice.email, password=PASSWORD)
    form = {
        "timezone": "America/Chicago",
        "closures": "2026-12-24 – 2026-12-26 Christmas break\n2027-01-01",
        "holiday_country": "US",
        "holiday_subdivision": "",
    }
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday"):
        form.update(
            {
                f"{day}_interval_count": "3",
                f"{day}_open_0": "08:00",
                f"{day}_close_0": "12:00",
                f"{day}_open_1": "13:00",
                f"{day}_close_1": "17:00",
            }
        )
    form.update(
        {"saturday_interval_count": "3", "saturday_all_day": "on", "sunday_interval_count": "3", "sunday_closed": "on"}
    )
    response = client.post("/settings/hours/", form)
    assert response.status_code == 302, response.content[:500]
    with tenant_context(alpha):
        config = BusinessConfig.objects.get()
    assert config.business_hours["monday"] == {
        "closed": False,
        "intervals": [{"open": "08:00", "close": "12:00"}, {"open": "13:00", "close": "17:00"}],
    }
    assert config.business_hours["saturday"] == {"closed": False, "intervals": [{"open": "00:00", "close": "24:00"}]}
    assert config.business_hours["sunday"]["closed"] is True
    assert config.holiday_closures[0] == {
        "start_date": "2026-12-24",
        "end_date": "2026-12-26",
        "name": "Christmas break",
    }
    assert config.holiday_country == "US"
    page = client.get("/settings/hours/").content.decode()
    assert "Christmas break" in page and 'value="13:00"' in page


def test_the_missed_call_text_fills_the_callers_name_or_drops_the_placeholder():
    from types import SimpleNamespace

    from apps.tenants.config.models import BusinessConfig
    from apps.tenants.config.selectors import missed_call_text

    config = BusinessConfig(auto_reply_template="Hi {customer_name}, thanks for calling {business_name}!")
    business = SimpleNamespace(name="Alpha Plumbing", phone="")
    known = missed_call_text(config=config, business=business, disclose=False, customer_name="Maria Lopez")
    assert known == "Hi Maria, thanks for calling Alpha Plumbing!"
    assert missed_call_text(config=config, business=business, disclose=False) == (
        "Hi, thanks for calling Alpha Plumbing!"
    )
