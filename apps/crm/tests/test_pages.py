"""Dashboard pages: customers (search, detail with timeline), the week calendar's move (texts the
customer; a conflict changes nothing), the technician's day; Charlie never sees Alpha's."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from apps.accounts.services import user_create
from apps.crm.models import Appointment
from apps.crm.services import appointment_book, customer_get_or_create_by_phone
from apps.outbox.models import Delivery

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def booked(alpha):
    """Two of Alpha's appointments on Tue 1 Dec 2026 (Chicago): 9:00 and 11:00."""
    connection.set_tenant(alpha)
    maria, _ = customer_get_or_create_by_phone(phone="+13125550141", name="Maria Lopez", language="es")
    other, _ = customer_get_or_create_by_phone(phone="+13125550142", name="Otto")
    nine = datetime(2026, 12, 1, 9, tzinfo=CHICAGO)
    first = appointment_book(customer=maria, start=nine, end=nine + timedelta(hours=1), job_type="Leak")
    second = appointment_book(customer=other, start=nine + timedelta(hours=2), end=nine + timedelta(hours=3))
    connection.set_schema_to_public()
    return first, second


def test_customer_search_and_detail_with_timeline(owner_client, booked):
    first, _ = booked
    page = owner_client.get("/customers/", {"q": "(312) 555-0141"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Maria Lopez" in html and "Otto" not in html
    detail = owner_client.get(f"/customers/{first.customer_id}/")
    assert detail.status_code == 200
    assert 'data-kind="appointment"' in detail.content.decode() and "Leak" in detail.content.decode()
    assert owner_client.get(f"/customers/{first.customer_id}/", {"cursor": "junk"}).status_code == 400


def test_week_calendar_shows_draggable_appointments_in_business_time(owner_client, booked):
    first, _ = booked
    html = owner_client.get("/appointments/", {"week": "2026-12-01"}).content.decode()
    assert f'data-move-url="/appointments/{first.pk}/move/"' in html
    assert 'data-slot="2026-12-01T09:00"' in html and 'data-slot="2026-12-06T19:00"' in html


def test_moving_reschedules_and_texts_the_customer_in_their_language(owner_client, alpha, booked):
    first, _ = booked
    response = owner_client.post(
        f"/appointments/{first.pk}/move/", {"start": "2026-12-02T14:00"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "The customer gets a text" in response.content.decode()
    connection.set_tenant(alpha)
    first.refresh_from_db()
    assert first.start == datetime(2026, 12, 2, 14, tzinfo=CHICAGO) and first.end - first.start == timedelta(hours=1)
    connection.set_schema_to_public()
    delivery = Delivery.objects.get(business=alpha, cause_type="appointment", cause_id=str(first.pk))
    assert delivery.recipient == "+13125550141" and delivery.purpose == "appointment_rescheduled"
    assert delivery.payload["body"] == (
        f"{alpha.name}: su cita se cambió al miércoles 2 diciembre, 14:00. "
        "Responda a este mensaje si tiene alguna pregunta."
    )


def test_moving_onto_a_taken_slot_says_so_and_changes_nothing(owner_client, alpha, booked):
    first, second = booked
    response = owner_client.post(
        f"/appointments/{first.pk}/move/", {"start": "2026-12-01T11:00"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "That time is taken by another appointment; nothing was changed." in response.content.decode()
    connection.set_tenant(alpha)
    first.refresh_from_db()
    assert first.start == datetime(2026, 12, 1, 9, tzinfo=CHICAGO)
    connection.set_schema_to_public()
    assert not Delivery.objects.filter(business=alpha, cause_type="appointment", cause_id=str(first.pk)).exists()
    # Without JavaScript: a redirect back to the week, the message flashed.
    plain = owner_client.post(f"/appointments/{first.pk}/move/", {"start": "2026-12-01T11:30"})
    assert plain.status_code == 302 and "week=2026-12-01" in plain["Location"]


def test_technician_sees_their_own_day(client, alpha, booked):
    first, second = booked
    connection.set_tenant(alpha)
    tech = user_create(email="tina@alpha.test", password=PASSWORD, business=alpha, role="technician", first_name="Tina")
    Appointment.objects.filter(pk=first.pk).update(technician_id=tech.pk)
    connection.set_schema_to_public()
    alpha.onboarding_completed_at = timezone.now()
    alpha.save(update_fields=["onboarding_completed_at"])
    assert client.login(username=tech.email, password=PASSWORD)
    html = client.get("/appointments/day/", {"date": "2026-12-01"}).content.decode()
    assert "Maria Lopez" in html and "Otto" not in html
    assert client.get("/customers/").status_code == 404  # technicians do not read the customer book
    assert client.post(f"/appointments/{first.pk}/move/", {"start": "2026-12-01T15:00"}).status_code == 404


def test_charlie_cannot_see_or_move_alphas(client, beta, charlie, booked):
    first, _ = booked
    beta.onboarding_completed_at = timezone.now()
    beta.save(update_fields=["onboarding_completed_at"])
    assert client.login(username=charlie.email, password=PASSWORD)
    assert client.get(f"/customers/{first.customer_id}/").status_code == 404
    assert client.post(f"/appointments/{first.pk}/move/", {"start": "2026-12-01T15:00"}).status_code == 404
    assert "Maria Lopez" not in client.get("/customers/", {"q": "Maria"}).content.decode()
    assert (
        f"/appointments/{first.pk}/move/" not in client.get("/appointments/", {"week": "2026-12-01"}).content.decode()
    )


def test_merging_from_the_customer_page_asks_first_then_keeps_everything(owner_client, alpha, booked):
    first, second = booked
    url = f"/customers/{first.customer_id}/merge/"
    asked = owner_client.post(url, {"duplicate_phone": "312.555.0142"})
    assert asked.status_code == 200 and "will be merged into" in asked.content.decode()
    connection.set_tenant(alpha)
    assert Appointment.objects.get(pk=second.pk).customer_id == second.customer_id  # nothing yet
    connection.set_schema_to_public()
    done = owner_client.post(url, {"duplicate_phone": "312.555.0142", "confirm": "yes"})
    assert done.status_code == 302
    connection.set_tenant(alpha)
    assert Appointment.objects.get(pk=second.pk).customer_id == first.customer_id
    connection.set_schema_to_public()
    detail = owner_client.get(f"/customers/{first.customer_id}/").content.decode()
    assert "+13125550142" in detail and "merged into this customer" in detail
    unknown = owner_client.post(url, {"duplicate_phone": "312 555 0199"}, follow=True)
    assert "No customer has the number" in unknown.content.decode()
