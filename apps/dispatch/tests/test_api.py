"""``POST /dispatch/process`` end to end: auth, validation, the seed's response shape, usage records."""

from datetime import datetime

import pytest
from django.db import connection

from apps.dispatch.models import AiUsage
from apps.tenants.services import credential_create
from nevermisscall.testing import assert_envelope_error, assert_envelope_ok

pytestmark = pytest.mark.django_db
URL = "/dispatch/process"
SERVICE_KEY = "nmc-internal-services-auth-key-phase1"
REQUEST_FIELDS = {
    "caller_phone",
    "called_number",
    "conversation_history",
    "current_message",
    "business_name",
    "trade_type",
    "business_hours",
    "business_address",
    "job_estimates",
    "business_settings",
    "existing_calendar",
    "customer_history",
}


@pytest.fixture
def realistic(request_payload):
    """A customer's second text: the assistant has asked for the address; the calendar has two jobs."""
    return request_payload(
        "It's at 2210 Maple Dr, Evanston IL 60201. I'm Pat. Next Tuesday after 1 works",
        history=[
            {
                "role": "customer",
                "content": "hi, water heater is leaking from the bottom",
                "timestamp": "2026-11-23T15:58:00Z",
            },
            {
                "role": "assistant",
                "content": "Got it: Water heater repair. Could I get your name and the service address?",
                "timestamp": "2026-11-23T15:58:02Z",
                "proposed_slot": None,
            },
        ],
        existing_calendar=[
            {
                "summary": "Drain cleaning - Lee",
                "start_datetime": "2099-01-01T09:00:00-06:00",
                "end_datetime": "2099-01-01T10:30:00-06:00",
            },
            {
                "summary": "Leak repair - Ortiz",
                "start_datetime": "2099-01-02T13:00:00-06:00",
                "end_datetime": "2099-01-02T14:00:00-06:00",
                "description": "kitchen",
                "location": "12 Pine St",
            },
        ],
        customer_history={"name": "", "previous_appointments": 0},
        business_settings={"appointment_buffer_minutes": 30, "language": "en"},
    )


def test_business_jwt_gets_the_full_seed_response_and_usage_is_recorded(alice, alpha, client_for, realistic):
    assert set(realistic) == REQUEST_FIELDS
    data = assert_envelope_ok(client_for(alice).post(URL, realistic, format="json"))
    assert set(data) >= {
        "extracted_info",
        "validation",
        "next_action",
        "conversation_stage",
        "needs_geocoding",
        "confidence_scores",
        "proposed_slot",
    }
    info = data["extracted_info"]
    assert (info["job_type"], info["trade"], info["customer_name"], info["urgency_level"]) == (
        "water_heater",
        "plumbing",
        "Pat",
        "urgent",  # "leaking" is urgent: it is doing damage now
    )
    assert info["address_components"] == {
        "street": "2210 Maple Dr",
        "city": "Evanston",
        "state": "IL",
        "zip_code": "60201",
    }
    assert info["coordinates"]["source"] == "zipcodes"
    assert data["validation"]["service_area_valid"] is True and 10 < data["validation"]["distance_miles"] < 15
    assert data["next_action"]["action"] == "propose_slot" and data["conversation_stage"] == "awaiting_confirmation"
    assert data["needs_geocoding"] is False
    slot = data["proposed_slot"]
    assert slot["duration_minutes"] == 180 and slot["timezone"] == "America/Chicago"
    start = datetime.fromisoformat(slot["start_datetime"])
    assert start.weekday() == 1 and start.hour == 13 and start.minute == 0  # "next Tuesday after 1" (in Chicago)
    assert set(data["confidence_scores"]) == {"intent", "job_type", "urgency", "address", "time_preference", "overall"}
    connection.set_tenant(alpha)
    usage = AiUsage.objects.get()
    assert (usage.engine, usage.fallback_used, usage.conversation_ref) == ("rules", False, "+13125550187")


def test_staff_api_key_and_service_key_are_accepted(bob, alpha, client_for, request_payload):
    payload = request_payload("How much for drain cleaning?")
    assert (
        assert_envelope_ok(client_for(bob).post(URL, payload, format="json"))["next_action"]["action"]
        == "answer_question"
    )
    _, secret = credential_create(business=alpha, kind="api_key", name="integration")
    assert_envelope_ok(client_for(HTTP_X_API_KEY=secret).post(URL, payload, format="json"))
    internal = client_for(HTTP_X_SERVICE_KEY=SERVICE_KEY, HTTP_X_BUSINESS_ID=str(alpha.id))
    assert_envelope_ok(internal.post(URL, payload, format="json"))
    connection.set_tenant(alpha)
    assert AiUsage.objects.count() == 3


def test_refused_without_valid_credentials(alpha, charlie, client_for, request_payload):
    payload = request_payload("hello")
    assert_envelope_error(client_for().post(URL, payload, format="json"), 401, "AUTH_TOKEN_INVALID")
    assert_envelope_error(client_for(HTTP_X_SERVICE_KEY="wrong").post(URL, payload, format="json"), 401)
    # A wrong key resolves no business, so the X-Business-ID it carries names nobody's: refused.
    bad_key = client_for(HTTP_X_SERVICE_KEY="wrong", HTTP_X_BUSINESS_ID=str(alpha.id))
    assert_envelope_error(bad_key.post(URL, payload, format="json"), 403)
    no_business = client_for(HTTP_X_SERVICE_KEY=SERVICE_KEY)
    assert_envelope_error(no_business.post(URL, payload, format="json"), 401)
    # Charlie's token naming Alpha: the header must agree with the credential.
    assert_envelope_error(client_for(charlie, HTTP_X_BUSINESS_ID=str(alpha.id)).post(URL, payload, format="json"), 403)


def test_technicians_may_not_run_the_dispatcher(alpha, client_for, request_payload):
    from apps.accounts.services import user_create

    tech = user_create(
        email="tina@alpha.test",
        password="correct-horse-battery-9",
        business=alpha,
        role="technician",
        first_name="Tina",
    )
    assert_envelope_error(client_for(tech).post(URL, request_payload("hello"), format="json"), 403)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"caller_phone": "not a phone"}, "caller_phone"),
        ({"trade_type": "roofing"}, "trade_type"),
        ({"current_message": ""}, "current_message"),
        ({"business_hours": {"timezone": "Mars/Olympus"}}, "business_hours.timezone"),
        (
            {"business_hours": {"timezone": "America/Chicago", "monday": {"open": "18:00", "close": "08:00"}}},
            "business_hours.monday.close",
        ),
        (
            {"existing_calendar": [{"start_datetime": "2026-11-23T10:00:00Z", "end_datetime": "2026-11-23T09:00:00Z"}]},
            "existing_calendar.0.end_datetime",
        ),
        ({"conversation_history": [{"role": "robot", "content": "beep"}]}, "conversation_history.0.role"),
        (
            {"job_estimates": [{"job_type": "x", "min_price": 10, "max_price": 5, "duration_minutes": 60}]},
            "job_estimates.0.max_price",
        ),
    ],
)
def test_bad_input_is_a_400_envelope_naming_the_field(alice, client_for, request_payload, change, field):
    payload = {**request_payload("hello"), **change}
    error = assert_envelope_error(client_for(alice).post(URL, payload, format="json"), 400)
    assert field in {item["field"] for item in error["details"]["validation_errors"]}, error


def test_missing_fields_are_reported(alice, client_for):
    error = assert_envelope_error(
        client_for(alice).post(URL, {"current_message": "hi"}, format="json"), 400, "REQUIRED_FIELD_MISSING"
    )
    assert {item["field"] for item in error["details"]["validation_errors"]} == REQUEST_FIELDS - {
        "current_message",
        "customer_history",
    }


@pytest.mark.parametrize(
    "junk",
    [
        {"business_hours": "always"},
        {"business_hours": {"timezone": 5}},
        {"business_hours": {"timezone": "America/Chicago", "funday": {"open": "08:00", "close": "17:00"}}},
        {"conversation_history": "hello"},
        {"conversation_history": [{"role": "assistant", "content": "x", "proposed_slot": {"start_datetime": "soon"}}]},
        {
            "conversation_history": [
                {
                    "role": "assistant",
                    "content": "x",
                    "proposed_slot": {"start_datetime": "2026-11-23T10:00:00Z", "end_datetime": "2026-11-23T09:00:00Z"},
                }
            ]
        },
        {"existing_calendar": [1, 2]},
        {"existing_calendar": {"summary": "x"}},
        {"job_estimates": [{"job_type": "x", "min_price": "cheap", "max_price": 5, "duration_minutes": 60}]},
        {"job_estimates": [{"job_type": "x", "min_price": 1, "max_price": 5, "duration_minutes": 10**12}]},
        {"business_address": {"latitude": 91, "longitude": 0}},
        {"business_settings": {"appointment_buffer_minutes": -5}},
        {"business_settings": {"booking_horizon_days": 10**9}},
        {"customer_history": []},
        {"current_message": "x" * 5000},
        {"current_message": None},
        {"called_number": 12},
    ],
)
def test_junk_is_a_400_never_a_500(alice, client_for, request_payload, junk):
    assert_envelope_error(client_for(alice).post(URL, {**request_payload("hello"), **junk}, format="json"), 400)


def test_odd_but_valid_input_still_gets_an_answer(alice, client_for, request_payload):
    closed = {
        day: {"closed": True} for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    }
    payload = request_payload(
        "🙂 sink clogged!!! 1 Main St 99999",
        business_hours={"timezone": "Pacific/Kiritimati", **closed},
        job_estimates=[],
        business_address={},
    )
    data = assert_envelope_ok(client_for(alice).post(URL, payload, format="json"))
    assert data["next_action"]["action"] in {"ask_for_info", "escalate_to_owner"}
    assert data["validation"]["service_area_valid"] is None and data["needs_geocoding"] is True
