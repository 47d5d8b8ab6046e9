"""The SMS assistant end to end: signed Twilio webhooks in, the dispatch engine (the real OpenAI SDK
against the loopback stand-in, or the rules), texts out through the Twilio stand-in, bookings in CRM."""

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from apps.conversations import services
from apps.conversations.models import Conversation, Message, OptOut
from apps.crm.models import Appointment, Customer
from apps.dispatch.models import AiUsage
from apps.telephony.tests.conftest import new_call_sid, new_message_sid, payload
from apps.tenants.config.services import config_get, config_update

pytestmark = pytest.mark.django_db

CUSTOMER = "+17735550142"
OTHER_CUSTOMER = "+17735550143"
OWNER = "+13125550199"  # Alpha's forwarding number (telephony test base)
ESTIMATES = [
    {"job_type": "Drain cleaning", "trade": "plumbing", "min_price": 150, "max_price": 250, "duration_minutes": 90},
    {"job_type": "Burst pipe", "trade": "plumbing", "min_price": 300, "max_price": 600, "duration_minutes": 120},
    {"job_type": "Leak repair", "trade": "plumbing", "min_price": 120, "max_price": 300, "duration_minutes": 60},
]
ADDRESS = "1420 W Fullerton Ave, Chicago IL 60614"
CHICAGO = ZoneInfo("America/Chicago")


def post(webhook, path, data):
    """Post a webhook and come back to the test's business (the request ends in the public schema)."""
    tenant = connection.tenant
    response = webhook.post(path, data)
    connection.set_tenant(tenant)
    assert response.status_code in (200, 204), response.content
    return response


def text(webhook, body, *, sender=CUSTOMER):
    return post(
        webhook, "/webhooks/twilio/sms", payload("sms_incoming", Body=body, From=sender, MessageSid=new_message_sid())
    )


def bodies_to(twilio, number):
    return [sent.form["Body"] for sent in twilio.messages() if sent.form["To"] == number]


def extraction(**overrides) -> dict:
    data = {
        "intent": "appointment",
        "intent_confidence": 0.93,
        "trade": "plumbing",
        "job_type": "drain_cleaning",
        "job_description": "Kitchen sink clogged",
        "job_confidence": 0.9,
        "urgency": "normal",
        "customer_name": None,
        "address": None,
        "preferred_time": None,
        "confirmation": None,
        "language": "en",
        "reply": "What's your name and the service address?",
    }
    data.update(overrides)
    return data


def scripted_model(body: dict) -> dict:
    """The "model": reads the customer's latest message like a model would."""
    last = body["messages"][-1]["content"].lower()
    if "fullerton" in last:
        return extraction(customer_name="Maria Lopez", address=ADDRESS, preferred_time="tomorrow morning")
    if last.strip() in {"yes", "yes please", "sounds good"}:
        return extraction(customer_name="Maria Lopez", address=ADDRESS, confirmation="confirmed")
    return extraction()


def test_missed_call_to_booked_appointment_with_openai(configured, webhook, twilio, commit, openai_standin):
    openai_standin.responder = scripted_model
    call_sid = new_call_sid()
    with commit():
        post(webhook, f"/webhooks/twilio/call/status/{call_sid}", payload("voice_dial_action", CallSid=call_sid))
    with commit():
        text(webhook, "Hi, my kitchen sink is clogged")
    with commit():
        text(webhook, f"I'm Maria Lopez, {ADDRESS}, tomorrow morning works")
    proposal = bodies_to(twilio, CUSTOMER)[-1]
    assert "$150–$250" in proposal  # The price comes from the business's estimates, not the model.
    with commit():
        text(webhook, "yes")

    # What the SDK sent: the structured-output request with the conversation as chat turns.
    assert len(openai_standin.requests) == 3
    last_request = openai_standin.requests[-1]["body"]
    assert last_request["response_format"]["type"] == "json_schema"
    assert "Alpha Plumbing" in last_request["messages"][0]["content"]
    turns = [(m["role"], m["content"]) for m in last_request["messages"][1:]]
    assert turns[-1] == ("user", "yes")
    assert ("user", "Hi, my kitchen sink is clogged") in turns
    assert ("assistant", proposal) in turns

    texts = bodies_to(twilio, CUSTOMER)
    assert len(texts) == 4  # missed-call text, question, proposal, confirmation
    assert texts[-1].startswith("You're booked!")
    conversation = Conversation.objects.get(customer_number=CUSTOMER)
    appointment = Appointment.objects.get(pk=conversation.appointment_id)
    assert conversation.stage == "completed" and conversation.customer_name == "Maria Lopez"
    assert (appointment.job_type, appointment.source, appointment.status) == ("Drain cleaning", "sms", "scheduled")
    assert str(appointment.estimated_value) == "200.00" and not appointment.is_emergency
    assert appointment.customer.phone == CUSTOMER and appointment.customer.name == "Maria Lopez"
    proposed = conversation.messages.filter(kind="ai").exclude(proposed_slot=None).first().proposed_slot
    assert appointment.start == datetime.fromisoformat(proposed["start_datetime"])
    usage = AiUsage.objects.filter(conversation_ref=str(conversation.id))
    assert [(row.engine, row.fallback_used) for row in usage] == [("openai", False)] * 3


@pytest.mark.parametrize("mode", ["error500", "timeout", "malformed", "breaker_open"])
def test_openai_failures_fall_back_and_still_book(
    configured, webhook, twilio, commit, openai_standin, openai_breaker, mode
):
    if mode == "breaker_open":
        openai_breaker.open()
    else:
        openai_standin.mode = mode
    for message in ("my kitchen sink is clogged", f"I'm Maria Lopez, {ADDRESS}, tomorrow morning", "yes"):
        started = time.perf_counter()
        with commit():
            text(webhook, message)
        assert time.perf_counter() - started < 2.0
    texts = bodies_to(twilio, CUSTOMER)
    assert len(texts) == 3 and texts[-1].startswith("You're booked!")
    conversation = Conversation.objects.get(customer_number=CUSTOMER)
    assert conversation.appointment_id is not None
    usage = AiUsage.objects.filter(conversation_ref=str(conversation.id))
    assert usage.count() == 3 and all(row.fallback_used for row in usage)
    assert (len(openai_standin.requests) == 0) == (mode == "breaker_open")
    assert not Message.objects.filter(direction="inbound").exclude(conversation=conversation).exists()


def _offer(webhook, commit, sender):
    with commit():
        text(webhook, "my kitchen sink is clogged", sender=sender)
        text(webhook, f"I'm Sam, {ADDRESS}, tomorrow morning", sender=sender)
    return Message.objects.filter(conversation__customer_number=sender, kind="ai").last().proposed_slot


def test_two_customers_confirming_the_same_slot_one_booking_one_alternative(configured, webhook, twilio, commit):
    first, second = _offer(webhook, commit, CUSTOMER), _offer(webhook, commit, OTHER_CUSTOMER)
    assert first["start_datetime"] == second["start_datetime"]  # Both were offered the same opening.
    with commit():
        text(webhook, "yes", sender=CUSTOMER)
        text(webhook, "yes", sender=OTHER_CUSTOMER)
    assert Appointment.objects.filter(start=first["start_datetime"]).count() == 1
    assert bodies_to(twilio, CUSTOMER)[-1].startswith("You're booked!")
    alternative = bodies_to(twilio, OTHER_CUSTOMER)[-1]
    assert "just taken" in alternative
    other = Message.objects.filter(conversation__customer_number=OTHER_CUSTOMER, kind="ai").last()
    assert other.proposed_slot["start_datetime"] != first["start_datetime"]
    assert Conversation.objects.get(customer_number=OTHER_CUSTOMER).appointment_id is None


def test_takeover_silences_the_assistant_and_staff_texts_go_out(configured, alice, webhook, twilio, commit):
    with commit():
        text(webhook, "my kitchen sink is clogged")
    conversation = Conversation.objects.get(customer_number=CUSTOMER)
    with commit():
        services.conversation_takeover(conversation=conversation, user=alice)
        text(webhook, "hello? anyone?")
        services.message_send_by_staff(
            conversation=conversation, body="Hi, this is Alice. Calling you now.", user=alice
        )
    assert bodies_to(twilio, CUSTOMER)[1:] == ["Hi, this is Alice. Calling you now."]
    assert conversation.messages.filter(kind="ai").count() == 1


def test_spanish_customer_gets_spanish_answers(configured, webhook, twilio, commit):
    with commit():
        text(webhook, "Hola, el fregadero de la cocina está tapado y no drena")
        text(webhook, f"Soy María López, {ADDRESS}, mañana por la mañana")
    question, proposal = bodies_to(twilio, CUSTOMER)
    assert "nombre" in question.lower() or "dirección" in question.lower()
    assert "¿" in proposal and "$150–$250" in proposal
    with commit():
        text(webhook, "sí")
    assert bodies_to(twilio, CUSTOMER)[-1].startswith("¡")
    assert Customer.objects.get(phone=CUSTOMER).language == "es"


def test_emergency_texts_the_owner_once(configured, webhook, twilio, commit):
    with commit():
        text(webhook, "EMERGENCY a pipe burst and water is flooding the basement!")
        text(webhook, f"Maria Lopez, {ADDRESS}")
    assert len(bodies_to(twilio, OWNER)) == 1
    with commit():
        text(webhook, "yes")
    owner_texts = bodies_to(twilio, OWNER)
    assert len(owner_texts) == 1 and owner_texts[0].startswith("EMERGENCY")
    assert Appointment.objects.get().is_emergency
    assert Conversation.objects.get(customer_number=CUSTOMER).owner_alerted_at is not None


@pytest.mark.parametrize(
    ("first", "ask", "says"),
    [
        ("My kitchen sink is clogged", "Can I just talk to a real person please?", "automated assistant"),
        ("My kitchen sink is clogged", "Wait, is this a bot?", "automated assistant"),
        ("Se tapó el fregadero", "Quiero hablar con una persona, no con una máquina", "asistente automático"),
    ],
)
def test_asking_for_a_person_hands_the_conversation_to_the_team(
    configured, alice, webhook, twilio, commit, first, ask, says
):
    """It says what it is, alerts the owner once, stops selling; the owner's release hands it back."""
    with commit():
        text(webhook, first)
        text(webhook, ask)
    reply = bodies_to(twilio, CUSTOMER)[-1]
    assert says in reply and "Reply YES" not in reply and "Responda SÍ" not in reply
    owner = bodies_to(twilio, OWNER)
    assert len(owner) == 1 and CUSTOMER in owner[0] and "asked to talk to a person" in owner[0]
    conversation = Conversation.objects.get(customer_number=CUSTOMER)
    assert conversation.handled_by == "human"
    assert (conversation.lead_outcome, conversation.lead_outcome_reason) == ("handed_to_human", "human_requested")
    with commit():
        text(webhook, "Hello?? A PERSON please")
    assert (
        len(bodies_to(twilio, CUSTOMER)) == 2 and len(bodies_to(twilio, OWNER)) == 1
    )  # No more selling, no second alert.
    services.conversation_update(conversation=conversation, data={"handled_by": "ai"})
    with commit():
        text(webhook, f"ok never mind, I'm Maria Lopez, {ADDRESS}")
    assert "Reply YES" in bodies_to(twilio, CUSTOMER)[-1]  # Released: the assistant books again.


def test_owner_who_opted_out_is_not_texted(configured, webhook, twilio, commit):
    OptOut.objects.create(phone_number=OWNER, source="staff")
    with commit():
        text(webhook, "EMERGENCY a pipe burst and water is flooding the basement!")
    assert bodies_to(twilio, OWNER) == []
    assert len(bodies_to(twilio, CUSTOMER)) == 1


def test_assistant_off_or_out_of_messages_stays_silent(configured, webhook, twilio, commit):
    config_update(business=configured, data={"ai_settings": {**config_get().ai_settings, "max_ai_messages": 1}})
    with commit():
        text(webhook, "my kitchen sink is clogged")
        text(webhook, "hello?")
    assert len(bodies_to(twilio, CUSTOMER)) == 1
    config_update(business=configured, data={"ai_settings": {**config_get().ai_settings, "enabled": False}})
    Conversation.objects.update(status="resolved")
    with commit():
        text(webhook, "my kitchen sink is clogged")
    assert len(bodies_to(twilio, CUSTOMER)) == 1


def test_escalation_alerts_the_dashboard(configured, webhook, twilio, commit, dashboard):
    config_update(business=configured, data={"ai_settings": {**config_get().ai_settings, "emergency_service": False}})
    with commit():
        text(webhook, "EMERGENCY a pipe burst and water is flooding the basement!")
    listener = dashboard(configured)
    with commit():
        text(webhook, f"Maria Lopez, {ADDRESS}")
    events = listener.events()
    alerts = [event["payload"] for event in events if event["type"] == "system_alert"]
    escalations = [alert for alert in alerts if alert["alert_type"] == "assistant_escalated"]
    assert len(escalations) == 1 and escalations[0]["customer_phone"] == CUSTOMER
    assert "ai_response" in [event["type"] for event in events]
    assert len(bodies_to(twilio, CUSTOMER)) == 2 and not Appointment.objects.exists()


def test_without_auto_book_the_team_confirms(configured, webhook, twilio, commit):
    config_update(business=configured, data={"ai_settings": {**config_get().ai_settings, "auto_book": False}})
    with commit():
        for message in ("my kitchen sink is clogged", f"I'm Maria Lopez, {ADDRESS}, tomorrow morning", "yes"):
            text(webhook, message)
    # The engine (business_settings.auto_book) hands it to the team instead of booking.
    assert "A team member will contact you shortly" in bodies_to(twilio, CUSTOMER)[-1]
    assert not Appointment.objects.exists()
    assert Conversation.objects.get(customer_number=CUSTOMER).appointment_id is None


def test_a_promised_follow_up_really_reaches_the_owner_once(configured, webhook, twilio, commit):
    """ "We've passed your request to the owner" is true: the owner gets one text per conversation."""
    with commit():
        text(webhook, "Toilet is clogged")
        text(webhook, "Sam Reed, 700 N Water St, Milwaukee WI 53202")
        text(webhook, "Can't you make an exception?")
    assert "outside our service area" in bodies_to(twilio, CUSTOMER)[-1]
    owner = bodies_to(twilio, OWNER)
    assert len(owner) == 1 and "outside the service area" in owner[0] and CUSTOMER in owner[0]


def test_spam_gets_no_reply_and_no_owner_alert(configured, webhook, twilio, commit):
    with commit():
        text(webhook, "Need working capital? Business loans approved in 24h, no credit check")
        text(webhook, "Reply now for details, limited time offer for plumbing companies")
    assert bodies_to(twilio, CUSTOMER) == [] and bodies_to(twilio, OWNER) == []
    assert Conversation.objects.get(customer_number=CUSTOMER).lead_outcome == "spam"


def test_a_wrong_number_is_answered_once(configured, webhook, twilio, commit):
    with commit():
        text(webhook, "Hey Jess, are we still on for dinner tonight?")
        text(webhook, "oops wrong number, sorry")
    replies = bodies_to(twilio, CUSTOMER)
    assert len(replies) == 1 and "Alpha Plumbing" in replies[0] and "team member" not in replies[0]
    assert bodies_to(twilio, OWNER) == []


def test_what_a_customer_adds_after_booking_is_saved_not_booked_again(configured, webhook, twilio, commit):
    for body in (
        "Hi, my kitchen sink is clogged",
        f"I'm Maria Lopez, {ADDRESS}, tomorrow morning works",
        "yes",
        "Gate code is 4512#, and we have a friendly dog",
        "thanks!",
    ):
        with commit():
            text(webhook, body)
    booked, *after = bodies_to(twilio, CUSTOMER)[-3:]
    when = booked.split(" on ", 1)[1].split(" at ", 1)[0]  # "Tuesday, November 24, 8:00 AM"
    assert after[0] == f"Got it, I've added that to your appointment on {when} for the technician."
    assert after[1] == f"You're welcome! See you {when}."
    appointment = Appointment.objects.get()  # One booking, with the note for the technician.
    assert appointment.notes.endswith("Gate code is 4512#, and we have a friendly dog")
    assert not any("Reply YES" in body for body in after)


def test_a_price_question_after_booking_is_answered_from_the_estimate(configured, webhook, twilio, commit):
    for body in (
        "Hi, my kitchen sink is clogged",
        f"I'm Maria Lopez, {ADDRESS}, tomorrow morning works",
        "yes",
        "and roughly how much will it be?",
    ):
        with commit():
            text(webhook, body)
    booked, answer = bodies_to(twilio, CUSTOMER)[-2:]
    assert booked.startswith("You're booked!")
    assert "$" in answer and "Reply YES" not in answer, answer
    assert "roughly how much" not in Appointment.objects.get().notes  # a question, not a note


def _book_through_the_assistant(webhook, commit):
    for body in ("Hi, my kitchen sink is clogged", f"I'm Maria Lopez, {ADDRESS}, tomorrow morning works", "yes"):
        with commit():
            text(webhook, body)
    return Appointment.objects.get()


def test_a_customer_moves_their_appointment_with_a_confirmation(configured, webhook, twilio, commit):
    appointment = _book_through_the_assistant(webhook, commit)
    with commit():
        text(webhook, "Can we move it to Friday afternoon instead?")
    proposal = bodies_to(twilio, CUSTOMER)[-1]
    assert proposal.startswith("I can move your") and "Friday" in proposal and "Reply YES to confirm" in proposal
    appointment.refresh_from_db()
    assert appointment.start.astimezone(CHICAGO).weekday() != 4  # Nothing moves before the customer confirms.
    with commit():
        text(webhook, "yes")
    assert bodies_to(twilio, CUSTOMER)[-1].startswith("Done: your appointment is now Friday")
    appointment.refresh_from_db()
    local_start = appointment.start.astimezone(CHICAGO)
    assert local_start.weekday() == 4 and local_start.hour >= 12
    assert Appointment.objects.count() == 1 and appointment.status == Appointment.Status.SCHEDULED


def test_a_customer_cancels_their_appointment_with_a_confirmation(configured, webhook, twilio, commit):
    appointment = _book_through_the_assistant(webhook, commit)
    with commit():
        text(webhook, "I need to cancel my appointment")
    assert "Reply YES to cancel it" in bodies_to(twilio, CUSTOMER)[-1]
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.SCHEDULED
    with commit():
        text(webhook, "yes")
    assert "is cancelled" in bodies_to(twilio, CUSTOMER)[-1]
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED


def test_another_numbers_appointment_is_never_changed(configured, webhook, twilio, commit):
    appointment = _book_through_the_assistant(webhook, commit)
    with commit():
        text(webhook, "I need to cancel my appointment", sender=OTHER_CUSTOMER)
    assert bodies_to(twilio, OTHER_CUSTOMER)[-1].startswith("I couldn't find an upcoming appointment")
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.SCHEDULED


CATALOGUE = [
    {
        "job_type": "wh_repair",
        "label": "Water heater repair",
        "description": "No hot water, pilot light",
        "trade": "plumbing",
        "min_price": 200,
        "max_price": 500,
        "duration_minutes": 120,
    },
    {
        "job_type": "wh_replace",
        "label": "Water heater replacement",
        "description": "Replace or install a tank or tankless water heater",
        "trade": "plumbing",
        "min_price": 1400,
        "max_price": 2600,
        "duration_minutes": 240,
    },
    {
        "job_type": "jetting",
        "label": "Hydro jetting",
        "trade": "plumbing",
        "synonyms": ["roots in the sewer"],
        "min_price": 350,
        "max_price": 700,
        "duration_minutes": 180,
    },
]


@pytest.mark.parametrize(
    ("first", "key", "minutes", "price"),
    [
        ("our water heater is 15 years old, we want a new tankless one put in", "wh_replace", 240, 2000),
        ("el piloto del calentador no prende", "wh_repair", 120, 350),
        ("pretty sure there are roots in the sewer line again", "jetting", 180, 525),
    ],
)
def test_a_booking_is_the_business_own_job_with_its_duration_and_price(
    configured, webhook, twilio, commit, first, key, minutes, price
):
    config_update(business=configured, data={"job_estimates": CATALOGUE})
    for body in (first, f"Maria Lopez, {ADDRESS}", "yes"):
        with commit():
            text(webhook, body)
    appointment = Appointment.objects.get()
    assert appointment.job_type == key
    assert (appointment.end - appointment.start).total_seconds() == minutes * 60
    assert float(appointment.estimated_value) == price  # the midpoint of that job's own range
    conversation = Conversation.objects.get(customer_number=CUSTOMER)
    assert conversation.lead_job_type == key
