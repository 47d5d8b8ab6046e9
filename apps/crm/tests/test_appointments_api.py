"""Seed 001's ``/appointments``: shapes, conflicts, validation, and Charlie never touching Alpha's calendar."""

from datetime import datetime

import pytest
from django.db import connection

from apps.crm.models import Appointment
from apps.crm.services import appointment_book, customer_get_or_create_by_phone
from apps.tenants.services import credential_create

pytestmark = pytest.mark.django_db
NINE_UTC = "2026-12-01T15:00:00Z"  # 09:00 in Chicago


@pytest.fixture
def alpha_appointment(alpha):
    connection.set_tenant(alpha)
    customer, _ = customer_get_or_create_by_phone(phone="+13125550111", name="John Smith")
    appointment = appointment_book(
        customer=customer, start=datetime.fromisoformat(NINE_UTC), end=datetime.fromisoformat("2026-12-01T15:30:00Z")
    )
    connection.set_schema_to_public()
    return appointment


def test_create_with_api_key_in_seed_shape_and_conflict_is_409(alpha, client_for):
    _, secret = credential_create(business=alpha, kind="api_key", name="bella")
    client = client_for(HTTP_X_API_KEY=secret)
    body = {
        "mobile": "(312) 555-0112",
        "full_name": "Jane Doe",
        "starts_at": NINE_UTC,
        "duration_min": 30,
        "notes": "Follow-up appointment",
    }
    response = client.post("/appointments", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["starts_at"] == NINE_UTC and data["duration_min"] == 30 and data["status"] == "scheduled"
    assert (data["full_name"], data["mobile"], data["notes"], data["source"]) == (
        "Jane Doe",
        "+13125550112",
        "Follow-up appointment",
        "api",
    )
    again = client.post("/appointments", {**body, "starts_at": "2026-12-01T15:15:00Z"}, format="json")
    assert again.status_code == 409
    error = again.json()
    assert (
        error["error_code"] == "RESOURCE_ALREADY_EXISTS"
        and error["detail"]
        and error["correlation_id"] == again["X-Request-ID"]
    )
    listed = client.get("/appointments?limit=10").json()
    assert [item["id"] for item in listed] == [data["id"]]


def test_invalid_appointment_is_422_in_fastapi_shape(alice, client_for):
    response = client_for(alice).post("/appointments", {"invalid": "data"}, format="json")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert {"loc": ["body", "starts_at"], "msg": "This field is required.", "type": "required"} in detail


def test_update_reschedules_and_changes_status(alice, client_for, alpha_appointment):
    client = client_for(alice)
    response = client.put(
        f"/appointments/{alpha_appointment.id}",
        {"starts_at": "2026-12-01T16:00:00Z", "status": "confirmed"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["starts_at"], response.json()["duration_min"], response.json()["status"]) == (
        "2026-12-01T16:00:00Z",
        30,
        "confirmed",
    )


def test_charlie_cannot_read_or_book_into_or_change_alphas_calendar(alpha, charlie, client_for, alpha_appointment):
    client = client_for(charlie)
    assert client.get("/appointments").json() == []
    assert (
        client.put(f"/appointments/{alpha_appointment.id}", {"status": "cancelled"}, format="json").status_code == 404
    )
    # Alpha's customer id means nothing in Beta's schema.
    booking = client.post(
        "/appointments", {"user_id": str(alpha_appointment.customer_id), "starts_at": NINE_UTC}, format="json"
    )
    assert booking.status_code == 404
    # The same time in Beta's own calendar is free: calendars are per business.
    mine = client.post("/appointments", {"mobile": "+13125550113", "starts_at": NINE_UTC}, format="json")
    assert mine.status_code == 201
    # Charlie's token with Alpha named in a header is refused outright.
    assert client_for(charlie, HTTP_X_BUSINESS_ID=str(alpha.id)).get("/appointments").status_code == 403
    connection.set_tenant(alpha)
    alpha_appointment.refresh_from_db()
    assert alpha_appointment.status == "scheduled" and Appointment.objects.count() == 1


def test_anonymous_and_technicians(alpha, client_for, alpha_appointment):
    from apps.accounts.services import user_create

    assert client_for().get("/appointments").status_code == 401
    tech = user_create(
        email="tom@alpha.test", password="correct-horse-battery-9", business=alpha, role="technician", first_name="Tom"
    )
    assert client_for(tech).get("/appointments").status_code == 200  # appointments:read
    assert (
        client_for(tech)
        .post("/appointments", {"mobile": "+13125550114", "starts_at": NINE_UTC}, format="json")
        .status_code
        == 403
    )


def test_listing_costs_the_same_queries_for_one_or_many(alice, alpha, client_for, django_assert_max_num_queries):
    from datetime import timedelta

    client = client_for(alice)
    connection.set_tenant(alpha)
    start = datetime.fromisoformat("2026-12-03T15:00:00Z")
    customer, _ = customer_get_or_create_by_phone(phone="+13125550131", name="One")
    appointment_book(customer=customer, start=start, end=start + timedelta(minutes=30))
    connection.set_schema_to_public()
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(conn) as one:
        assert len(client.get("/appointments").json()) == 1
    connection.set_tenant(alpha)
    for n in range(5):
        other, _ = customer_get_or_create_by_phone(phone=f"+1312555014{n}", name=f"Many {n}")
        appointment_book(
            customer=other, start=start + timedelta(hours=n + 1), end=start + timedelta(hours=n + 1, minutes=30)
        )
    connection.set_schema_to_public()
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(client.get("/appointments").json()) == 6
