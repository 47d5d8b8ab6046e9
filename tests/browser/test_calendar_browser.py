"""The appointments calendar in a real browser: drag an appointment to another hour to reschedule
it (the customer is texted through the outbox); dropping it on a taken hour says so and changes
nothing."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from apps.accounts.models import User
from apps.crm.models import Appointment, Customer
from apps.crm.services import appointment_book, customer_get_or_create_by_phone
from apps.outbox.models import Delivery
from apps.tenants.services import business_register
from tests.browser.conftest import BROWSER_PASSWORD, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=False)
DENVER = ZoneInfo("America/Denver")
MONDAY = datetime(2027, 3, 1, tzinfo=DENVER)  # The week the test works in, far from any other test's.
PHONES = ("+17205550141", "+17205550142")


@pytest.fixture(scope="module")
def golf_owner(django_db_setup, django_db_blocker):
    """A business of its own (committed: the browser's server process must see it)."""
    with django_db_blocker.unblock():
        owner = User.objects.filter(email="gina@golf.test").first()
        if owner is None:
            business, owner = business_register(
                business_name="Golf Garage Doors",
                owner_email="gina@golf.test",
                owner_password=BROWSER_PASSWORD,
                owner_name="Gina Golf",
                trade="general",
                timezone_name="America/Denver",
                phone="+17205550100",
            )
            business.onboarding_completed_at = timezone.now()
            business.save(update_fields=["onboarding_completed_at"])
        connection.set_schema_to_public()
    return owner


@pytest.fixture(scope="module")
def two_bookings(golf_owner, django_db_blocker):
    """Module-scoped so that they are committed before the test's own transaction opens."""
    business = golf_owner.business

    def clean():
        with tenant_context(business):
            Appointment.objects.filter(customer__phone__in=PHONES).delete()
            Customer.objects.filter(phone__in=PHONES).delete()

    with django_db_blocker.unblock():
        clean()
        with tenant_context(business):
            gus, _ = customer_get_or_create_by_phone(phone=PHONES[0], name="Gus Moved")
            ivy, _ = customer_get_or_create_by_phone(phone=PHONES[1], name="Ivy Stays")
            nine = MONDAY.replace(hour=9)
            moving = appointment_book(customer=gus, start=nine, end=nine + timedelta(hours=1), job_type="Spring")
            staying = appointment_book(
                customer=ivy, start=nine + timedelta(hours=2), end=nine + timedelta(hours=3), job_type="Opener"
            )
        connection.set_schema_to_public()
    yield business, moving, staying
    with django_db_blocker.unblock():
        clean()
        connection.set_schema_to_public()


def _start_of(business, appointment, django_db_blocker):
    with django_db_blocker.unblock():
        with tenant_context(business):
            start = Appointment.objects.get(pk=appointment.pk).start
        connection.set_schema_to_public()
    return start.astimezone(DENVER)


def test_dragging_an_appointment_reschedules_it_and_a_taken_hour_is_refused(
    browser, live_app, golf_owner, two_bookings, django_db_blocker
):
    business, moving, staying = two_bookings
    context = browser.new_context(base_url=live_app, viewport={"width": 1400, "height": 1000}, locale="en-US")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    try:
        log_in(tab, golf_owner.email, BROWSER_PASSWORD)
        expect(tab).not_to_have_url(re.compile(r"/login/"))
        tab.goto("/appointments/?week=2027-03-01")
        card = tab.locator(f'[data-appointment="{moving.pk}"]')
        expect(card).to_contain_text("Gus Moved")
        tab.drag_and_drop(f'[data-appointment="{moving.pk}"]', 'td[data-slot="2027-03-02T14:00"]')
        expect(tab.get_by_test_id("move-notice")).to_contain_text("The customer gets a text with the new time")
        expect(tab.locator('td[data-slot="2027-03-02T14:00"]')).to_contain_text("Gus Moved")
        screenshot(tab, "calendar-moved")
        assert _start_of(business, moving, django_db_blocker) == datetime(2027, 3, 2, 14, tzinfo=DENVER)
        with django_db_blocker.unblock():
            texts = list(Delivery.objects.filter(business=business, cause_type="appointment", cause_id=str(moving.pk)))
        assert [t.recipient for t in texts] == [PHONES[0]] and "Tuesday 2 March" in texts[0].payload["body"]

        # Onto Ivy's hour: refused, and both stay where they are.
        tab.drag_and_drop(f'[data-appointment="{moving.pk}"]', 'td[data-slot="2027-03-01T11:00"]')
        expect(tab.get_by_test_id("move-notice")).to_have_text(
            "That time is taken by another appointment; nothing was changed."
        )
        expect(tab.locator('td[data-slot="2027-03-02T14:00"]')).to_contain_text("Gus Moved")
        screenshot(tab, "calendar-conflict")
        assert _start_of(business, moving, django_db_blocker) == datetime(2027, 3, 2, 14, tzinfo=DENVER)
        assert _start_of(business, staying, django_db_blocker) == datetime(2027, 3, 1, 11, tzinfo=DENVER)
        with django_db_blocker.unblock():
            assert (
                Delivery.objects.filter(business=business, cause_type="appointment", cause_id=str(moving.pk)).count()
                == 1
            )
    finally:
        context.close()
