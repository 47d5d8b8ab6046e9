"""Reschedule records: each way of moving an appointment writes exactly one ``Reschedule`` with the
times it moved from and to, in the move's own savepoint (a refused move writes none); a customer's
request is completed by the move that follows it; the timeline shows them; Charlie never sees
Alpha's. The customer's R to a reminder and the assistant's move are covered end to end in
apps/campaigns/tests/test_reminder_replies.py."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from apps.crm import selectors
from apps.crm.models import Appointment, Reschedule
from apps.crm.services import (
    appointment_book,
    appointment_update,
    customer_get_or_create_by_phone,
    reschedule_request,
)
from apps.tenants.services import credential_create
from nevermisscall.errors import Conflict

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
NINE = datetime(2026, 12, 1, 9, tzinfo=CHICAGO)
HOUR = timedelta(hours=1)


@pytest.fixture
def booked(alpha):
    """Alpha's appointments on Tue 1 Dec 2026 (Chicago): Maria's at 9:00, Otto's at 11:00."""
    connection.set_tenant(alpha)
    maria, _ = customer_get_or_create_by_phone(phone="+13125550171", name="Maria Lopez")
    otto, _ = customer_get_or_create_by_phone(phone="+13125550172", name="Otto")
    first = appointment_book(customer=maria, start=NINE, end=NINE + HOUR, job_type="Leak")
    second = appointment_book(customer=otto, start=NINE + 2 * HOUR, end=NINE + 3 * HOUR)
    connection.set_schema_to_public()
    return first, second


def _records(business, appointment) -> list[Reschedule]:
    connection.set_tenant(business)
    records = list(Reschedule.objects.filter(appointment_id=appointment.pk))
    connection.set_schema_to_public()
    return records


def _moved(record: Reschedule, *, by: str, from_start, to_start, to_length=HOUR):
    assert (record.status, record.moved_by) == ("moved", by)
    assert (record.from_start, record.from_end) == (from_start, from_start + HOUR)
    assert (record.to_start, record.to_end) == (to_start, to_start + to_length)
    assert record.moved_at is not None and record.requested_at is None


def test_the_calendar_drag_records_the_owner_and_both_times(owner_client, alpha, alice, booked):
    first, _ = booked
    response = owner_client.post(f"/appointments/{first.pk}/move/", {"start": "2026-12-02T14:00"})
    assert response.status_code == 302
    [record] = _records(alpha, first)
    _moved(record, by="calendar", from_start=NINE, to_start=datetime(2026, 12, 2, 14, tzinfo=CHICAGO))
    assert record.actor_id == alice.pk and record.conversation_id is None


def test_a_crm_api_patch_records_one_move_and_a_status_change_none(alpha, alice, client_for, booked):
    first, _ = booked
    client = client_for(alice)
    url = f"/v1/crm/appointments/{first.pk}"
    assert client.patch(url, {"status": "confirmed", "notes": "gate 4512"}, format="json").status_code == 200
    assert _records(alpha, first) == []
    response = client.patch(url, {"start": "2026-12-01T20:00:00Z", "duration_min": 90}, format="json")
    assert response.status_code == 200, response.content
    [record] = _records(alpha, first)
    _moved(
        record,
        by="crm_api",
        from_start=NINE,
        to_start=datetime.fromisoformat("2026-12-01T20:00:00+00:00"),
        to_length=timedelta(minutes=90),
    )
    assert record.actor_id == alice.pk
    # The same times again move nothing: no record.
    assert client.patch(url, {"start": "2026-12-01T20:00:00Z"}, format="json").status_code == 200
    assert len(_records(alpha, first)) == 1


def test_bellas_put_records_one_move_without_a_person(alpha, client_for, booked):
    first, _ = booked
    _, secret = credential_create(business=alpha, kind="api_key", name="bella")
    response = client_for(HTTP_X_API_KEY=secret).put(
        f"/appointments/{first.pk}", {"starts_at": "2026-12-03T15:00:00Z"}, format="json"
    )
    assert response.status_code == 200, response.content
    [record] = _records(alpha, first)
    _moved(record, by="appointments_api", from_start=NINE, to_start=datetime.fromisoformat("2026-12-03T15:00:00+00:00"))
    assert record.actor_id is None


def test_a_move_onto_a_taken_slot_is_refused_and_records_nothing(owner_client, alpha, alice, client_for, booked):
    first, second = booked
    response = client_for(alice).patch(
        f"/v1/crm/appointments/{first.pk}", {"start": second.start.isoformat()}, format="json"
    )
    assert response.status_code == 409
    _, secret = credential_create(business=alpha, kind="api_key", name="bella")
    bella = client_for(HTTP_X_API_KEY=secret).put(
        f"/appointments/{first.pk}", {"starts_at": second.start.isoformat()}, format="json"
    )
    assert bella.status_code == 409
    owner_client.post(f"/appointments/{first.pk}/move/", {"start": "2026-12-01T11:00"})
    connection.set_tenant(alpha)
    first.refresh_from_db()
    assert first.start == NINE
    assert not Reschedule.objects.exists()
    connection.set_schema_to_public()


def test_moving_needs_its_source(alpha, booked):
    first, _ = booked
    connection.set_tenant(alpha)
    with pytest.raises(TypeError):
        appointment_update(appointment=first, starts_at=NINE + 5 * HOUR)
    first.refresh_from_db()
    assert first.start == NINE and not Reschedule.objects.exists()
    connection.set_schema_to_public()


def test_a_request_is_kept_once_and_completed_by_the_next_move(alpha, booked):
    first, second = booked
    connection.set_tenant(alpha)
    reschedule_request(appointment=first, moved_by=Reschedule.MovedBy.REMINDER_REPLY)
    reschedule_request(appointment=first, moved_by=Reschedule.MovedBy.REMINDER_REPLY)  # R twice: one request
    [request] = Reschedule.objects.filter(appointment=first)
    assert (request.status, request.to_start, request.from_start) == ("requested", None, NINE)
    with pytest.raises(Conflict):  # Refused: the request stays open.
        appointment_update(appointment=first, starts_at=second.start, moved_by=Reschedule.MovedBy.ASSISTANT)
    request.refresh_from_db()
    assert request.status == "requested"
    appointment_update(appointment=first, starts_at=NINE + 6 * HOUR, moved_by=Reschedule.MovedBy.ASSISTANT)
    [done] = Reschedule.objects.filter(appointment=first)
    assert done.pk == request.pk and done.requested_at == request.requested_at
    assert (done.status, done.moved_by, done.from_start, done.to_start) == ("moved", "assistant", NINE, NINE + 6 * HOUR)
    # A later move is a record of its own.
    appointment_update(appointment=first, starts_at=NINE + 7 * HOUR, moved_by=Reschedule.MovedBy.CRM_API)
    assert Reschedule.objects.filter(appointment=first).count() == 2
    connection.set_schema_to_public()


def test_the_timeline_shows_reschedules_and_another_business_sees_none(
    alpha, alice, charlie, client_for, owner_client, booked
):
    first, _ = booked
    client = client_for(alice)
    client.patch(f"/v1/crm/appointments/{first.pk}", {"start": "2026-12-01T20:00:00Z"}, format="json")
    items = client.get(f"/v1/crm/customers/{first.customer_id}/timeline").json()["items"]
    [item] = [i for i in items if i["kind"] == "reschedule"]
    assert item["data"]["status"] == "moved" and item["data"]["moved_by"] == "crm_api"
    assert datetime.fromisoformat(item["data"]["from_start"]) == NINE
    assert item["data"]["appointment_id"] == str(first.pk)
    page = owner_client.get(f"/customers/{first.customer_id}/").content.decode()
    assert 'data-kind="reschedule"' in page and "Tue 1 Dec" in page and "CRM API" in page
    # Charlie (Beta): Alpha's customer, appointment and reschedules are not there.
    other = client_for(charlie)
    assert other.get(f"/v1/crm/customers/{first.customer_id}/timeline").status_code == 404
    reschedules = other.get("/v1/owner/reschedules?days=365").json()
    assert (reschedules["total"], reschedules["requests"]) == (0, [])
    mine = client.get("/v1/owner/reschedules?days=365").json()
    assert mine["total"] == 1 and mine["requests"][0]["appointment_id"] == str(first.pk)


def test_the_timeline_lists_every_move(alpha, booked):
    first, _ = booked
    connection.set_tenant(alpha)
    for n in range(3):
        appointment_update(appointment=first, starts_at=NINE + (4 + n) * HOUR, moved_by=Reschedule.MovedBy.CRM_API)
    items, _ = selectors.customer_timeline(customer=first.customer)
    assert [i.kind for i in items].count("reschedule") == 3
    assert Appointment.objects.get(pk=first.pk).start == NINE + 6 * HOUR
    connection.set_schema_to_public()
