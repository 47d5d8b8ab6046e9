"""Reminders fanned out per business by one statement, across a DST change, two racing beats and
a clock that steps back: every appointment reminded exactly once."""

import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, connections
from django_tenants.utils import tenant_context

from apps.campaigns import services, tasks
from apps.campaigns.models import CampaignMessage, CampaignRun, Kind
from apps.conversations.services import opt_out_set
from apps.crm.models import Appointment, Customer
from apps.crm.services import appointment_book, customer_get_or_create_by_phone
from apps.outbox.models import Delivery
from apps.tenants.config.models import BusinessConfig

pytestmark = pytest.mark.django_db

# US clocks go back at 2:00 local on Sunday 1 November 2026.
DST_END = datetime(2026, 11, 1, 7, 0, tzinfo=UTC)  # 2:00 CDT -> 1:00 CST in Chicago
_numbers = itertools.count(100)


def _book(
    business, *, start: datetime, language: str = "en", name: str = "Dana Reed", minutes: int = 60
) -> Appointment:
    customer, _ = customer_get_or_create_by_phone(phone=f"+1773555{next(_numbers):04d}", name=name, language=language)
    return appointment_book(
        customer=customer, start=start, end=start + timedelta(minutes=minutes), job_type="Leak repair"
    )


def _beat(now: datetime) -> list[str]:
    """What the beat does at ``now``: the fan-out, then a run in each business it named."""
    with time_machine.travel(now, tick=False):
        due = tasks.businesses_due(kind=Kind.REMINDER)
        for schema in due:
            from apps.tenants.models import Business

            with tenant_context(Business.objects.get(schema_name=schema)):
                services.campaign_run(kind=Kind.REMINDER)
    return due


def test_every_appointment_is_reminded_once_across_a_dst_change(campaign_businesses):
    appointments = {}
    start = DST_END - timedelta(hours=30)
    for index, business in enumerate(campaign_businesses):
        with tenant_context(business):
            BusinessConfig.objects.filter(pk=1).update(reminder_hours=[24, 12, 36][index])
            appointments[business.schema_name] = [
                _book(business, start=start + timedelta(hours=3 * slot + index), language=["en", "es"][slot % 2]).id
                for slot in range(20)  # Every three hours across the change, the last 60 h out.
            ]
    # The beat every 30 minutes from 40 h before the change, with the clock stepping back an hour
    # at the change (the local hour 1:00-2:00 runs twice) and one slot sent twice by two beats.
    moments = [DST_END - timedelta(hours=40) + timedelta(minutes=30 * step) for step in range(200)]
    moments.insert(81, DST_END - timedelta(hours=1))
    moments.insert(90, moments[89])
    busy_slots = sum(1 for moment in moments if _beat(moment))
    assert busy_slots > 0
    for business in campaign_businesses:
        with tenant_context(business):
            ids = appointments[business.schema_name]
            reminded = list(
                CampaignMessage.objects.filter(kind=Kind.REMINDER, appointment_id__in=ids).values_list(
                    "appointment_id", flat=True
                )
            )
            assert sorted(reminded) == sorted(ids)  # Each once, none lost.
            deliveries = Delivery.objects.filter(
                business=business, purpose="campaign_reminder", cause_id__in=[str(i) for i in ids]
            )
            assert deliveries.count() == len(ids)
            hours = BusinessConfig.objects.get(pk=1).reminder_hours
            for message in CampaignMessage.objects.filter(kind=Kind.REMINDER, appointment_id__in=ids):
                appointment = Appointment.objects.get(pk=message.appointment_id)
                lead = appointment.start - message.created_at
                assert timedelta(0) < lead <= timedelta(hours=hours)  # Inside the window.
            spanish = sum(
                "Responda C para confirmar" in body for body in deliveries.values_list("payload__body", flat=True)
            )
            assert spanish == len(ids) // 2


def test_the_fan_out_names_only_businesses_with_something_due(campaign_businesses):
    first, second, third = campaign_businesses
    now = datetime(2027, 3, 2, 15, 0, tzinfo=UTC)
    with tenant_context(second):
        _book(second, start=now + timedelta(hours=5))
    with tenant_context(third):
        _book(third, start=now + timedelta(days=20))  # Far outside any window.
    with time_machine.travel(now, tick=False):
        due = tasks.businesses_due(kind=Kind.REMINDER)
    ours = {business.schema_name for business in campaign_businesses}
    assert [schema for schema in due if schema in ours] == [second.schema_name]


def test_an_opted_out_customer_gets_no_reminder(campaign_businesses):
    business = campaign_businesses[0]
    now = datetime(2027, 4, 6, 15, 0, tzinfo=UTC)
    with tenant_context(business):
        appointment = _book(business, start=now + timedelta(hours=3))
        opt_out_set(phone_number=appointment.customer.phone, source="keyword", keyword="STOP")
        with time_machine.travel(now, tick=False):
            run = services.campaign_run(kind=Kind.REMINDER)
            again = services.campaign_run(kind=Kind.REMINDER)
        assert (run.selected, run.sent, run.skipped, run.skipped_reasons) == (1, 0, 1, {"opted_out": 1})
        assert again.selected == 0  # Decided once.
        assert not Delivery.objects.filter(business=business, recipient=appointment.customer.phone).exists()


def test_a_paused_business_is_skipped_by_the_schedule_not_by_hand(campaign_businesses):
    business = campaign_businesses[1]
    now = datetime(2027, 5, 4, 15, 0, tzinfo=UTC)
    with tenant_context(business):
        services.campaign_settings_update(data={"reminders_paused": True})
        _book(business, start=now + timedelta(hours=2))
        with time_machine.travel(now, tick=False):
            assert business.schema_name not in tasks.businesses_due(kind=Kind.REMINDER)
            paused = services.campaign_run(kind=Kind.REMINDER)
            by_hand = services.campaign_run(kind=Kind.REMINDER, trigger=CampaignRun.Trigger.API)
        assert (paused.sent, paused.skipped_reasons) == (0, {"paused": 1})
        assert by_hand.sent == 1


def _committed(function):
    """Run ``function`` on its own thread and connection (it commits for real)."""
    errors = []

    def run():
        try:
            function()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    return thread, errors


def test_two_beats_racing_remind_once(campaign_businesses):
    """Two runs at the same moment on two connections, both committing: one reminder each."""
    business = campaign_businesses[2]
    now = datetime(2027, 6, 1, 15, 0, tzinfo=UTC)
    created = []

    def setup():
        with tenant_context(business):
            created.extend(
                _book(business, start=now + timedelta(hours=1, minutes=5 * i), minutes=5).id for i in range(30)
            )

    thread, errors = _committed(setup)
    thread.start()
    thread.join()
    assert not errors
    barrier = threading.Barrier(2)
    runs = []

    def beat():
        with tenant_context(business), time_machine.travel(now, tick=False):
            barrier.wait()
            runs.append(services.campaign_run(kind=Kind.REMINDER))

    racers = [_committed(beat) for _ in range(2)]
    try:
        for racer, _ in racers:
            racer.start()
        for racer, _ in racers:
            racer.join()
        assert not [error for _, errors in racers for error in errors]
        connection.set_tenant(business)
        assert sum(run.sent for run in runs) == 30
        assert CampaignMessage.objects.filter(appointment_id__in=created).count() == 30
        assert Delivery.objects.filter(business=business, cause_id__in=[str(i) for i in created]).count() == 30
    finally:

        def cleanup():
            with tenant_context(business):
                Delivery.objects.filter(business=business, cause_id__in=[str(i) for i in created]).delete()
                CampaignMessage.objects.filter(appointment_id__in=created).delete()
                CampaignRun.objects.filter(pk__in=[run.pk for run in runs]).delete()
                customers = list(Appointment.objects.filter(pk__in=created).values_list("customer_id", flat=True))
                Appointment.objects.filter(pk__in=created).delete()
                Customer.objects.filter(pk__in=customers).delete()

        thread, errors = _committed(cleanup)
        thread.start()
        thread.join()
        assert not errors
