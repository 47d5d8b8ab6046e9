"""From the engine's "book_appointment" to a CRM appointment, with the owner told about emergencies."""

import threading
import time
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from apps.crm.models import Appointment, Customer
from apps.crm.services import customer_get_or_create_by_phone as customer_get_or_create
from apps.dispatch import engine, selectors, services
from apps.outbox.models import Delivery
from apps.tenants.config.services import config_update
from nevermisscall.errors import BusinessRuleViolation

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
MONDAY_10AM = datetime(2026, 11, 23, 10, tzinfo=CHICAGO)
ESTIMATES = [
    {"job_type": "Drain cleaning", "trade": "plumbing", "min_price": 150, "max_price": 250, "duration_minutes": 90},
    {"job_type": "Burst pipe", "trade": "plumbing", "min_price": 300, "max_price": 600, "duration_minutes": 120},
]


@pytest.fixture
def configured_alpha(alpha):
    connection.set_tenant(alpha)
    config_update(
        business=alpha,
        data={
            "job_estimates": ESTIMATES,
            "forwarding_number": "+13125550100",
            "service_area": {
                "address": "200 E Randolph St, Chicago IL 60601",
                "latitude": 41.8858,
                "longitude": -87.6181,
                "radius_miles": 25,
            },
        },
    )
    return alpha


def converse(business, phone: str, messages: list[str], *, now=MONDAY_10AM):
    """Run the engine turn by turn, as the conversation engine will; returns (request, response)."""
    history = []
    for text in messages:
        request = selectors.dispatch_request_build(
            business=business,
            caller_phone=phone,
            called_number="+13125550100",
            history=history,
            current_message=text,
            now=now,
        )
        response, _ = engine.process_conversation(request, now=now, use_ai=False)
        history += [
            {"role": "customer", "content": text},
            {
                "role": "assistant",
                "content": response["next_action"]["message"],
                "proposed_slot": response["proposed_slot"],
            },
        ]
    return request, response


def test_confirmed_slot_books_an_appointment_for_a_new_customer(configured_alpha, django_capture_on_commit_callbacks):
    request, response = converse(
        configured_alpha,
        "+13125550187",
        [
            "my kitchen sink is clogged",
            "I'm Maria Lopez, 1420 W Fullerton Ave, Chicago IL 60614, tomorrow morning",
            "yes",
        ],
    )
    assert request["business_hours"]["timezone"] == "America/Chicago" and request["customer_history"] is None
    assert response["next_action"]["action"] == "book_appointment"
    with django_capture_on_commit_callbacks() as callbacks:
        outcome = services.appointment_book_from_dispatch(request=request, response=response, now=MONDAY_10AM)
    appointment = outcome.appointment
    assert appointment is not None and outcome.reply.startswith("You're booked!")
    assert appointment.start == datetime(2026, 11, 24, 8, tzinfo=CHICAGO)
    # The business's own job (its estimate's key, duration and price), not the engine's internal key.
    assert (appointment.job_type, appointment.trade, appointment.status, appointment.source) == (
        "Drain cleaning",
        "plumbing",
        "scheduled",
        "sms",
    )
    assert appointment.estimated_value == Decimal("200.00") and not appointment.is_emergency
    assert appointment.address == "1420 W Fullerton Ave, Chicago, IL 60614"
    customer = Customer.objects.get(phone="+13125550187")
    assert (customer.name, customer.language, appointment.customer_id) == ("Maria Lopez", "en", customer.id)
    assert len(callbacks) == 1  # dashboard_update; no emergency alert
    # The next conversation with this number knows the customer.
    history = selectors.customer_history(phone="(312) 555-0187")
    assert history["name"] == "Maria Lopez" and history["previous_appointments"] == 1


def _owner_alerts():
    return list(Delivery.objects.filter(purpose="owner_alert", channel="sms").order_by("created_at"))


def test_emergency_booking_queues_the_owner_alert_with_the_booking(
    configured_alpha, django_capture_on_commit_callbacks
):
    saturday_night = datetime(2026, 11, 28, 22, 40, tzinfo=CHICAGO)
    request, response = converse(
        configured_alpha,
        "+13125550188",
        ["Burst pipe, water everywhere! This is Kim, 310 Elm St, Chicago IL 60614", "yes please hurry"],
        now=saturday_night,
    )
    assert response["next_action"]["action"] == "book_appointment" and response["next_action"]["notify_owner"]
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.appointment_book_from_dispatch(request=request, response=response, now=saturday_night)
    appointment = outcome.appointment
    assert appointment.is_emergency and appointment.start == datetime(2026, 11, 28, 23, 45, tzinfo=CHICAGO)
    # Burst pipe $300-$600 at the Saturday-night multiplier 2.75: $825-$1,650, midpoint $1,237.50.
    assert appointment.estimated_value == Decimal("1237.50")
    [alert] = _owner_alerts()
    assert (alert.recipient, alert.cause_type, alert.cause_id) == ("+13125550100", "appointment", str(appointment.id))
    assert alert.payload["body"].startswith("EMERGENCY Burst pipe for Kim (+13125550188) at 310 Elm St")
    assert alert.max_attempts == settings.DELIVERY_OWNER_ALERT_MAX_ATTEMPTS


def test_booking_needs_a_confirmed_slot(configured_alpha):
    request, response = converse(configured_alpha, "+13125550189", ["my kitchen sink is clogged"])
    with pytest.raises(BusinessRuleViolation):
        services.appointment_book_from_dispatch(request=request, response=response)


RACE_PHONES = ["+13125550193", "+13125550194"]


def _thread(alpha, work, results, key):
    def target():
        try:
            connection.set_tenant(alpha)
            results[key] = work()
        except Exception as exc:
            results[key] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def _cleanup(alpha):
    def work():
        with transaction.atomic():
            Appointment.objects.filter(customer__phone__in=RACE_PHONES).delete()
            Customer.objects.filter(phone__in=RACE_PHONES).delete()

    results = {}
    _thread(alpha, work, results, "cleanup").join()
    assert not isinstance(results["cleanup"], Exception), results


def test_two_customers_confirming_the_same_slot_one_booking_one_polite_alternative(configured_alpha):
    conversations = [
        converse(
            configured_alpha,
            phone,
            [f"sink clogged, I'm Caller {n}, 55 Oak Street, Chicago IL 60614, tomorrow morning", "yes"],
        )
        for n, phone in enumerate(RACE_PHONES)
    ]
    assert conversations[0][1]["proposed_slot"] == conversations[1][1]["proposed_slot"]
    # The configuration written above is not committed; the threads get it through the request.
    barrier = threading.Barrier(2)

    def confirm(request, response):
        def work():
            barrier.wait(timeout=10)
            with transaction.atomic():
                outcome = services.appointment_book_from_dispatch(request=request, response=response, now=MONDAY_10AM)
                time.sleep(0.2)
            return outcome

        return work

    _cleanup(configured_alpha)
    results = {}
    try:
        threads = [_thread(configured_alpha, confirm(*conv), results, n) for n, conv in enumerate(conversations)]
        for thread in threads:
            thread.join(timeout=30)
        outcomes = list(results.values())
        assert not any(isinstance(o, Exception) for o in outcomes), outcomes
        booked = [o for o in outcomes if o.appointment is not None]
        declined = [o for o in outcomes if o.appointment is None]
        assert len(booked) == 1 and len(declined) == 1
        assert declined[0].reply.startswith("Sorry, that time was just taken. The next opening is Tuesday, November 24")
        assert declined[0].response["next_action"]["action"] == "propose_slot"
        assert (
            declined[0].response["proposed_slot"]["start_datetime"]
            != booked[0].response["proposed_slot"]["start_datetime"]
        )
    finally:
        _cleanup(configured_alpha)


def test_a_rolled_back_emergency_booking_alerts_nobody(configured_alpha):
    night = datetime(2026, 11, 24, 23, 0, tzinfo=CHICAGO)
    request, response = converse(
        configured_alpha, "+13125550197", ["Burst pipe! This is Ann, 9 N Main St, Chicago IL 60614", "yes"], now=night
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        assert services.appointment_book_from_dispatch(request=request, response=response, now=night).appointment
        assert len(_owner_alerts()) == 1
        raise RuntimeError("the turn failed after booking")
    assert _owner_alerts() == []


def test_owner_who_turned_emergency_alerts_off_is_not_alerted(configured_alpha, django_capture_on_commit_callbacks):
    config_update(business=configured_alpha, data={"ai_settings": {"emergency_alerts": False}})
    night = datetime(2026, 11, 24, 23, 0, tzinfo=CHICAGO)
    request, response = converse(
        configured_alpha, "+13125550195", ["Burst pipe! This is Lee, 9 N Main St, Chicago IL 60614", "yes"], now=night
    )
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.appointment_book_from_dispatch(request=request, response=response, now=night)
    assert outcome.appointment.is_emergency and _owner_alerts() == []


def test_request_is_built_from_the_business_settings_calendar_and_customer(configured_alpha):
    customer, _ = customer_get_or_create(
        phone="+13125550196", name="Returning Rita", address="9 N Main St, Chicago IL 60614"
    )
    from apps.crm.services import appointment_book

    appointment_book(
        customer=customer,
        start=datetime(2026, 11, 24, 9, tzinfo=CHICAGO),
        end=datetime(2026, 11, 24, 10, tzinfo=CHICAGO),
    )
    request = selectors.dispatch_request_build(
        business=configured_alpha,
        caller_phone="+13125550196",
        called_number="+13125550100",
        history=[],
        current_message="hi",
        now=MONDAY_10AM,
    )
    assert request["business_address"]["city"] == "Chicago" and request["business_address"]["zip_code"] == "60601"
    assert (
        request["business_address"]["latitude"] == 41.8858 and request["business_address"]["service_radius_miles"] == 25
    )
    assert request["business_hours"]["sunday"] == {"open": None, "close": None, "closed": True}
    assert [event["start_datetime"] for event in request["existing_calendar"]] == [
        datetime(2026, 11, 24, 9, tzinfo=CHICAGO)
    ]
    assert (
        request["customer_history"]["name"] == "Returning Rita"
        and request["customer_history"]["previous_appointments"] == 1
    )
    assert request["job_estimates"] == ESTIMATES
