"""A customer's answer to a reminder, end to end: the reminder texted through the Twilio stand-in,
the answer posted to the signed SMS webhook, the appointment changed in CRM and the answer texted
back; in English and Spanish. The bare word CANCEL is an opt-out, and the appointment stays."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from apps.campaigns import services
from apps.campaigns.models import CampaignMessage, Kind
from apps.conversations.models import Conversation, Message, OptOut
from apps.crm.models import Appointment, Reschedule
from apps.crm.services import appointment_book, customer_get_or_create_by_phone
from apps.telephony.tests.conftest import new_message_sid, payload

pytestmark = pytest.mark.django_db

CUSTOMER = "+17735550166"
CHICAGO = ZoneInfo("America/Chicago")


def _text(webhook, body):
    tenant = connection.tenant
    response = webhook.post(
        "/webhooks/twilio/sms", payload("sms_incoming", Body=body, From=CUSTOMER, MessageSid=new_message_sid())
    )
    connection.set_tenant(tenant)
    assert response.status_code in (200, 204), response.content


def _bodies(twilio):
    return [sent.form["Body"] for sent in twilio.messages() if sent.form["To"] == CUSTOMER]


def _reminded(alpha, commit, *, language: str) -> Appointment:
    """Alpha's customer booked tomorrow at 10:00 (Chicago), reminded through the stand-in."""
    connection.set_tenant(alpha)
    customer, _ = customer_get_or_create_by_phone(phone=CUSTOMER, name="Dana Reed", language=language)
    tomorrow = (timezone.now().astimezone(CHICAGO) + timedelta(days=1)).date()
    while tomorrow.weekday() >= 5:  # A weekday, inside Alpha's business hours.
        tomorrow += timedelta(days=1)
    start = timezone.datetime(tomorrow.year, tomorrow.month, tomorrow.day, 10, 0, tzinfo=CHICAGO)
    appointment = appointment_book(
        customer=customer, start=start, end=start + timedelta(hours=1), job_type="Leak repair"
    )
    with commit():
        run = services.campaign_run(kind=Kind.REMINDER, hours=24 * 4, trigger="api")
    assert run.sent >= 1
    return appointment


REMINDER_WORDS = {"en": "Reply C to confirm, R to reschedule, X to cancel.", "es": "Responda C para confirmar"}


@pytest.mark.parametrize(
    ("language", "word"),
    [("en", "C"), ("en", "confirm"), ("es", "sí"), ("es", "c")],
)
def test_c_confirms_the_appointment(alpha, twilio, commit, language, word):
    appointment = _reminded(alpha, commit, language=language)
    assert REMINDER_WORDS[language] in _bodies(twilio)[0]
    with commit():
        _text(twilio_webhook(), word)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED
    expected = "is confirmed" if language == "en" else "está confirmada"
    assert expected in _bodies(twilio)[-1]
    assert CampaignMessage.objects.get(kind=Kind.REMINDER, appointment_id=appointment.id).answer == "confirmed"


@pytest.mark.parametrize(
    ("language", "word"),
    [("en", "X"), ("en", "Cancel my appointment"), ("es", "cancelar"), ("es", "x")],
)
def test_x_cancels_the_appointment_and_says_so(alpha, twilio, commit, language, word):
    appointment = _reminded(alpha, commit, language=language)
    with commit():
        _text(twilio_webhook(), word)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    expected = "is cancelled" if language == "en" else "quedó cancelada"
    assert expected in _bodies(twilio)[-1]
    assert not OptOut.objects.filter(phone_number=CUSTOMER, opted_out=True).exists()


@pytest.mark.parametrize(("language", "word"), [("en", "R"), ("en", "reschedule"), ("es", "cambiar")])
def test_r_has_the_assistant_offer_a_new_time(alpha, twilio, commit, language, word):
    appointment = _reminded(alpha, commit, language=language)
    with commit():
        _text(twilio_webhook(), word)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.SCHEDULED  # Nothing moves before the customer says yes.
    reply = Conversation.objects.get(customer_number=CUSTOMER).messages.filter(kind=Message.Kind.AI).last()
    assert reply is not None and (reply.proposed_slot or {}).get("change") == "reschedule", reply.body
    assert reply.proposed_slot["changes_appointment"] == str(appointment.id)
    assert reply.body in _bodies(twilio)
    expected = "I can move your" if language == "en" else "Puedo cambiar su cita"
    assert expected in reply.body
    assert CampaignMessage.objects.get(kind=Kind.REMINDER, appointment_id=appointment.id).answer == "reschedule"
    # The request is on record before anything moves; the customer's yes completes that same row.
    conversation = Conversation.objects.get(customer_number=CUSTOMER)
    [request] = Reschedule.objects.filter(appointment=appointment)
    assert (request.status, request.moved_by, request.conversation_id) == (
        "requested",
        "reminder_reply",
        conversation.pk,
    )
    assert (request.from_start, request.to_start) == (appointment.start, None)
    was = appointment.start
    with commit():
        _text(twilio_webhook(), "yes" if language == "en" else "sí")
    appointment.refresh_from_db()
    assert appointment.start != was
    [moved] = Reschedule.objects.filter(appointment=appointment)
    assert (moved.pk, moved.status, moved.moved_by, moved.conversation_id) == (
        request.pk,
        "moved",
        "assistant",
        conversation.pk,
    )
    assert (moved.from_start, moved.to_start, moved.to_end) == (was, appointment.start, appointment.end)
    assert moved.requested_at == request.requested_at and moved.moved_at >= moved.requested_at


@pytest.mark.parametrize("word", ["CANCEL", "cancel", "Cancel."])
def test_the_bare_word_cancel_opts_out_and_leaves_the_appointment(alpha, twilio, commit, word):
    appointment = _reminded(alpha, commit, language="en")
    sent = len(_bodies(twilio))
    with commit():
        _text(twilio_webhook(), word)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.SCHEDULED
    assert OptOut.objects.filter(phone_number=CUSTOMER, opted_out=True).exists()
    assert len(_bodies(twilio)) == sent  # The carrier confirms its own keyword; we say nothing.


def test_a_c_with_no_reminder_pending_goes_to_the_assistant(alpha, twilio, commit):
    connection.set_tenant(alpha)
    with commit():
        _text(twilio_webhook(), "C")
    assert not Appointment.objects.filter(customer__phone=CUSTOMER).exists()
    assert Conversation.objects.get(customer_number=CUSTOMER).messages.filter(kind=Message.Kind.AI).exists()


def twilio_webhook():
    from apps.telephony.tests.conftest import TwilioWebhookClient

    return TwilioWebhookClient()
