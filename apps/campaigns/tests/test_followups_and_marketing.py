"""A lead who talked but never booked is followed up once, never twice; retention texts and review
requests are marketing: consent needed, held for quiet hours until 08:00 local, nothing to an
opted-out customer."""

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from apps.campaigns import services
from apps.campaigns.models import CampaignMessage, CampaignRun, Kind
from apps.conversations.models import Conversation, LeadOutcome, Message
from apps.conversations.services import opt_out_set
from apps.crm.models import Appointment
from apps.crm.services import appointment_book, customer_get_or_create_by_phone
from apps.outbox import dispatcher
from apps.outbox.models import Delivery, SmsConsent

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
BUSINESS_NUMBER = "+13125550111"
_numbers = itertools.count(300)
_slots = itertools.count(0)


def _phone() -> str:
    return f"+1773555{next(_numbers):04d}"  # Chicago's area code: the recipient's zone.


def _lead(*, quiet_for: timedelta, now: datetime, outcome: str = LeadOutcome.ABANDONED, booked=None) -> Conversation:
    phone = _phone()
    conversation = Conversation.objects.create(
        customer_number=phone,
        business_number=BUSINESS_NUMBER,
        lead_outcome=outcome,
        appointment_id=booked,
        last_message_at=now - quiet_for,
    )
    Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.INBOUND,
        kind=Message.Kind.CUSTOMER,
        from_number=phone,
        to_number=BUSINESS_NUMBER,
        body="how much to fix a leaking faucet?",
        status=Message.Status.RECEIVED,
    )
    return conversation


def test_a_lead_is_followed_up_once_after_the_delay(alpha):
    connection.set_tenant(alpha)
    now = datetime(2027, 2, 10, 16, 0, tzinfo=UTC)
    services.campaign_settings_update(data={"followup_delay_hours": 6})
    due = _lead(quiet_for=timedelta(hours=7), now=now)
    too_soon = _lead(quiet_for=timedelta(hours=2), now=now)
    too_old = _lead(quiet_for=timedelta(days=30), now=now)
    declined = _lead(quiet_for=timedelta(hours=7), now=now, outcome=LeadOutcome.DECLINED_OUT_OF_AREA)
    with time_machine.travel(now, tick=False):
        first = services.campaign_run(kind=Kind.FOLLOWUP, trigger=CampaignRun.Trigger.API)
        second = services.campaign_run(kind=Kind.FOLLOWUP, trigger=CampaignRun.Trigger.API)
    with time_machine.travel(now + timedelta(hours=5), tick=False):
        later = services.campaign_run(kind=Kind.FOLLOWUP, trigger=CampaignRun.Trigger.API)
    followed = set(CampaignMessage.objects.filter(kind=Kind.FOLLOWUP).values_list("subject_id", flat=True))
    assert str(due.id) in followed and str(too_soon.id) in followed  # The second once its delay passed.
    assert str(too_old.id) not in followed and str(declined.id) not in followed
    assert (first.sent, second.selected, later.sent) == (first.selected, 0, 1)
    for conversation in (due, too_soon):
        deliveries = Delivery.objects.filter(
            business=alpha, purpose="campaign_followup", recipient=conversation.customer_number
        )
        assert deliveries.count() == 1
        assert "still need help" in deliveries.get().payload["body"]


def _past_customer(*, last_visit: datetime, language="en", consent=True, business=None):
    customer, _ = customer_get_or_create_by_phone(phone=_phone(), name="Dana Reed", language=language)
    last_visit -= timedelta(hours=2 * next(_slots))  # Visits never overlap (one crew).
    appointment = appointment_book(
        customer=customer,
        start=last_visit,
        end=last_visit + timedelta(hours=1),
        status=Appointment.Status.COMPLETED,
        source=Appointment.Source.MANUAL,
    )
    if consent:
        SmsConsent.objects.create(business=business, phone_number=customer.phone, source="web_form")
    return customer, appointment


def test_retention_in_quiet_hours_is_held_until_eight_local(alpha, twilio):
    connection.set_tenant(alpha)
    services.campaign_settings_update(data={"min_days_since_last_visit": 120})
    late_evening = datetime(2027, 3, 3, 22, 30, tzinfo=CHICAGO)
    customer, _ = _past_customer(last_visit=late_evening - timedelta(days=200), business=alpha)
    recent, _ = _past_customer(last_visit=late_evening - timedelta(days=30), business=alpha)
    booked, _ = _past_customer(last_visit=late_evening - timedelta(days=300), business=alpha)
    appointment_book(
        customer=booked, start=late_evening + timedelta(days=3), end=late_evening + timedelta(days=3, hours=1)
    )
    with time_machine.travel(late_evening, tick=False):
        run = services.campaign_run(kind=Kind.RETENTION)
        delivery = Delivery.objects.get(business=alpha, purpose="campaign_retention", recipient=customer.phone)
        assert delivery.kind == Delivery.Kind.MARKETING
        assert dispatcher.delivery_send(delivery_id=delivery.id) == "held"
    delivery.refresh_from_db()
    assert delivery.hold_reason == Delivery.Hold.QUIET_HOURS
    assert delivery.next_attempt_at == datetime(2027, 3, 4, 8, 0, tzinfo=CHICAGO)
    assert not Delivery.objects.filter(recipient__in=[recent.phone, booked.phone]).exists()
    assert run.sent == 1
    assert [sent for sent in twilio.messages() if sent.form["To"] == customer.phone] == []
    with time_machine.travel(datetime(2027, 3, 4, 8, 1, tzinfo=CHICAGO), tick=False):
        assert dispatcher.delivery_send(delivery_id=delivery.id) == "sent"
        assert services.campaign_run(kind=Kind.RETENTION).selected == 0  # Once per last visit.
    assert len([sent for sent in twilio.messages() if sent.form["To"] == customer.phone]) == 1


def test_opted_out_and_unconsented_customers_get_nothing(alpha):
    connection.set_tenant(alpha)
    services.campaign_settings_update(
        data={"min_days_since_last_visit": 120, "review_link": "https://g.page/r/alpha-review"}
    )
    now = datetime(2027, 3, 10, 17, 0, tzinfo=UTC)
    opted_out, _ = _past_customer(last_visit=now - timedelta(days=200), business=alpha)
    opt_out_set(phone_number=opted_out.phone, source="keyword", keyword="STOP")
    unconsented, _ = _past_customer(last_visit=now - timedelta(days=200), consent=False, business=alpha)
    reviewed, job = _past_customer(last_visit=now - timedelta(hours=5), business=alpha, language="es")
    silent, silent_job = _past_customer(last_visit=now - timedelta(hours=6), business=alpha)
    opt_out_set(phone_number=silent.phone, source="keyword", keyword="STOP")
    with time_machine.travel(now, tick=False):
        retention = services.campaign_run(kind=Kind.RETENTION)
        reviews = services.campaign_run(kind=Kind.REVIEW)
    assert retention.skipped_reasons == {"opted_out": 1, "no_consent": 1}
    assert (reviews.sent, reviews.skipped_reasons) == (1, {"opted_out": 1})
    assert not Delivery.objects.filter(recipient__in=[opted_out.phone, unconsented.phone, silent.phone]).exists()
    review = Delivery.objects.get(business=alpha, purpose="campaign_review", recipient=reviewed.phone)
    assert "https://g.page/r/alpha-review" in review.payload["body"] and "reseña" in review.payload["body"]
    assert (review.kind, review.cause_type, review.cause_id) == (Delivery.Kind.MARKETING, "appointment", str(job.id))
