"""Customers by phone, and bookings the database refuses to double up."""

import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction

from apps.crm.models import Appointment, Customer
from apps.crm.services import appointment_book, appointment_update, customer_get_or_create_by_phone
from nevermisscall.errors import Conflict
from nevermisscall.phone import InvalidPhoneNumber

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
NINE = datetime(2026, 12, 1, 9, tzinfo=CHICAGO)
HOUR = timedelta(hours=1)


@pytest.fixture
def in_alpha(alpha):
    connection.set_tenant(alpha)
    return alpha


def test_customer_is_matched_by_phone_in_any_format_and_details_are_filled_not_overwritten(in_alpha):
    first, created = customer_get_or_create_by_phone(phone="(312) 555-0187", name="Maria Lopez", language="es")
    assert created and first.phone == "+13125550187" and first.language == "es"
    again, created = customer_get_or_create_by_phone(
        phone="+1 312 555 0187", name="M. L.", address="1420 W Fullerton Ave"
    )
    assert not created and again.pk == first.pk
    again.refresh_from_db()
    assert (again.name, again.address) == ("Maria Lopez", "1420 W Fullerton Ave")
    with pytest.raises(InvalidPhoneNumber):
        customer_get_or_create_by_phone(phone="not a phone")


def test_overlapping_bookings_conflict_adjacent_ones_do_not_and_cancelling_frees_the_slot(
    in_alpha, django_capture_on_commit_callbacks
):
    customer, _ = customer_get_or_create_by_phone(phone="+13125550101")
    with django_capture_on_commit_callbacks() as callbacks:
        first = appointment_book(
            customer=customer, start=NINE, end=NINE + HOUR, job_type="drain_cleaning", estimated_value=Decimal("200")
        )
    assert len(callbacks) == 1  # the dashboard_update event, sent on commit
    with pytest.raises(Conflict) as raised:
        appointment_book(customer=customer, start=NINE + timedelta(minutes=30), end=NINE + 2 * HOUR)
    assert raised.value.http_status == 409 and raised.value.code == "RESOURCE_ALREADY_EXISTS"
    # [09:00, 10:00) and [10:00, 11:00) touch but do not overlap.
    appointment_book(customer=customer, start=NINE + HOUR, end=NINE + 2 * HOUR)
    appointment_update(appointment=first, status=Appointment.Status.CANCELLED)
    replacement = appointment_book(customer=customer, start=NINE, end=NINE + HOUR)
    with pytest.raises(Conflict):
        appointment_update(appointment=first, status=Appointment.Status.SCHEDULED)
    assert Appointment.objects.filter(status=Appointment.Status.SCHEDULED).count() == 2
    assert replacement.address == ""


def test_the_constraint_lives_in_the_database(in_alpha):
    customer, _ = customer_get_or_create_by_phone(phone="+13125550102")
    Appointment.objects.create(customer=customer, start=NINE, end=NINE + HOUR)
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.bulk_create([Appointment(customer=customer, start=NINE, end=NINE + HOUR)])


def test_each_business_has_its_own_calendar(alpha, beta):
    connection.set_tenant(alpha)
    alpha_customer, _ = customer_get_or_create_by_phone(phone="+13125550103")
    appointment_book(customer=alpha_customer, start=NINE, end=NINE + HOUR)
    connection.set_tenant(beta)
    assert not Appointment.objects.exists() and not Customer.objects.exists()
    beta_customer, _ = customer_get_or_create_by_phone(phone="+13125550103")  # same phone, other business
    appointment_book(customer=beta_customer, start=NINE, end=NINE + HOUR)  # same time, other calendar


RACE_PHONES = ["+13125550191", "+13125550192"]


def _in_own_connection(alpha, work):
    """Run ``work`` in a thread with its own database connection, committing for real."""
    outcome = {}

    def target():
        try:
            connection.set_tenant(alpha)
            outcome["value"] = work()
        except Exception as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def _cleanup(alpha):
    def work():
        with transaction.atomic():
            Appointment.objects.filter(customer__phone__in=RACE_PHONES).delete()
            Customer.objects.filter(phone__in=RACE_PHONES).delete()

    thread, outcome = _in_own_connection(alpha, work)
    thread.join()
    assert "error" not in outcome, outcome


def test_two_connections_booking_the_same_slot_at_once_yield_exactly_one_booking(alpha, db):
    """Two real connections commit concurrently; the exclusion constraint lets exactly one win.

    The test database transaction of this test cannot see or undo their commits, so the rows they
    create are removed explicitly (never by ``transaction=True``, which flushes the public schema).
    """
    barrier = threading.Barrier(2)

    def book(phone):
        def work():
            customer, _ = customer_get_or_create_by_phone(phone=phone)
            barrier.wait(timeout=10)
            with transaction.atomic():
                appointment = appointment_book(customer=customer, start=NINE, end=NINE + HOUR)
                time.sleep(0.2)  # hold the row uncommitted: the other insert must wait for us
            return appointment

        return work

    _cleanup(alpha)
    try:
        runs = [_in_own_connection(alpha, book(phone)) for phone in RACE_PHONES]
        for thread, _ in runs:
            thread.join(timeout=30)
        outcomes = [outcome for _, outcome in runs]
        winners = [o["value"] for o in outcomes if "value" in o]
        losers = [o["error"] for o in outcomes if "error" in o]
        assert len(winners) == 1 and len(losers) == 1, outcomes
        assert isinstance(losers[0], Conflict)

        def count():
            return Appointment.objects.filter(start=NINE, customer__phone__in=RACE_PHONES).count()

        thread, outcome = _in_own_connection(alpha, count)
        thread.join()
        assert outcome["value"] == 1
    finally:
        _cleanup(alpha)
