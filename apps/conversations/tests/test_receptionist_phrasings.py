"""Receptionist skills said the way customers say them (issue 10), through the signed SMS webhook.

Each test is a class of wording the eval's held-out files caught: a change to an appointment that
never says "reschedule", a cancel word in any form, a free-text opt-out, a request to be called, a
supplier's pitch, a yes after the customer's name. The situational emergencies of other trades
(a child locked in a car, a hot panel, a garage stuck open at night) run as eval suite scenarios
(apps/dispatch/tests/test_evals.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.conversations.models import Conversation, OptOut
from apps.conversations.tests.test_assistant_sms import (
    ADDRESS,
    CHICAGO,
    CUSTOMER,
    OWNER,
    _book_through_the_assistant,
    bodies_to,
    text,
)
from apps.crm.models import Appointment, Reschedule

pytestmark = pytest.mark.django_db

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _weekday_after(day, days: int) -> int:
    """A day Monday to Friday at least ``days`` after ``day`` (the test business keeps shorter weekend hours)."""
    target = day + timedelta(days=days)
    while target.weekday() >= 5:
        target += timedelta(days=1)
    return target.weekday()


def test_a_change_said_without_the_word_reschedule_moves_the_appointment(configured, webhook, twilio, commit):
    """ "Something came up tomorrow, can ur guy do <day> same time instead?": the old day is where
    the appointment is, the new day is where it goes, and it is moved, not booked twice."""
    appointment = _book_through_the_assistant(webhook, commit)
    booked = appointment.start.astimezone(CHICAGO)
    assert booked.date() == timezone.now().astimezone(CHICAGO).date() + timedelta(days=1)
    target = _weekday_after(booked.date(), 3)
    with commit():
        text(webhook, f"hey, somethin came up tmrw 😕 can ur guy do {WEEKDAYS[target].lower()} same time instead?")
    proposal = bodies_to(twilio, CUSTOMER)[-1]
    assert proposal.startswith("I can move your") and WEEKDAYS[target] in proposal.split(" to ", 1)[1]
    with commit():
        text(webhook, "👍")
    appointment.refresh_from_db()
    moved = appointment.start.astimezone(CHICAGO)
    assert moved.weekday() == target and moved.time() == booked.time()
    assert Appointment.objects.filter(status=Appointment.Status.SCHEDULED).count() == 1
    [record] = Reschedule.objects.filter(appointment=appointment)
    assert (record.status, record.moved_by, record.from_start, record.to_start) == (
        "moved",
        "assistant",
        booked,
        appointment.start,
    )
    assert record.conversation_id == Conversation.objects.get(customer_number=CUSTOMER).pk


def test_later_that_day_at_one_of_two_hours_moves_the_appointment_within_its_own_day(
    configured, webhook, twilio, commit
):
    """ "¿Se puede más tarde ese mismo día, a las 11 o 12?": the appointment's day, not today, and a
    start from 11 to 12, confirmed before anything moves."""
    appointment = _book_through_the_assistant(webhook, commit)
    booked = appointment.start.astimezone(CHICAGO)
    assert booked.hour < 11
    with commit():
        text(webhook, "oiga, la cita de mañana ¿se puede más tarde ese mismo día, a las 11 o 12?")
    appointment.refresh_from_db()
    assert appointment.start.astimezone(CHICAGO) == booked  # Not before the customer confirms.
    with commit():
        text(webhook, "sí, perfecto")
    appointment.refresh_from_db()
    moved = appointment.start.astimezone(CHICAGO)
    assert moved.date() == booked.date() and (11, 0) <= (moved.hour, moved.minute) <= (12, 0)
    assert Appointment.objects.filter(status=Appointment.Status.SCHEDULED).count() == 1
    [record] = Reschedule.objects.filter(appointment=appointment)
    assert (record.status, record.from_start, record.to_start) == ("moved", booked, appointment.start)


def test_any_cancel_word_from_a_customer_with_an_appointment_cancels_it(configured, webhook, twilio, commit):
    appointment = _book_through_the_assistant(webhook, commit)
    with commit():
        text(webhook, "buenas, el casero va a mandar a su gente. cancelen lo de mañana porfa, gracias")
    proposal = bodies_to(twilio, CUSTOMER)[-1]
    assert "cancel" in proposal.lower() and "reservar" not in proposal.lower()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.SCHEDULED  # Not before the customer confirms.
    with commit():
        text(webhook, "sí, cancélenla")
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert Appointment.objects.filter(status=Appointment.Status.SCHEDULED).count() == 0


@pytest.mark.parametrize("body", ["lol no thanks thats way too much. lose my number", "borren mi número por favor"])
def test_a_free_text_opt_out_is_recorded_and_confirmed_once(configured, webhook, twilio, commit, body):
    with commit():
        text(webhook, "how much to unclog a kitchen drain")
    before = len(bodies_to(twilio, CUSTOMER))
    with commit():
        text(webhook, body)
        text(webhook, "and the drain?")
    assert OptOut.objects.get(phone_number=CUSTOMER).opted_out
    assert len(bodies_to(twilio, CUSTOMER)) == before + 1  # One confirmation, then silence.


def test_asking_to_be_called_by_the_owner_hands_over_once(configured, webhook, twilio, commit):
    with commit():
        text(
            webhook,
            "tengo 4 casas nuevas, necesito cotizar la plomería. prefiero hablarlo con el dueño, ¿me puede marcar?",
        )
        text(webhook, "¿hola?")
    assert len(bodies_to(twilio, OWNER)) == 1
    conversation = Conversation.objects.get(customer_number=CUSTOMER)
    assert conversation.lead_outcome == "handed_to_human" and conversation.handled_by == "human"
    assert not any("Responda SÍ" in body for body in bodies_to(twilio, CUSTOMER))


@pytest.mark.parametrize(
    "body",
    ["oye mejor me puedes llamar? prefiero hablar por phone con alguien", "can you just call me instead?"],
)
def test_a_call_asked_for_after_a_price_question_hands_over_once(configured, webhook, twilio, commit, body):
    with commit():
        text(webhook, "how much to unclog a kitchen drain")
        text(webhook, body)
        text(webhook, "ok")
    assert len(bodies_to(twilio, OWNER)) == 1
    assert Conversation.objects.get(customer_number=CUSTOMER).lead_outcome == "handed_to_human"


@pytest.mark.parametrize(
    "body",
    [
        "nvm my husband got the drain unclogged w baking soda 🙌 dont need the plumber tmrw",
        "we sold the house, wont be needing the plumber anymore. sorry!",
    ],
)
def test_no_longer_needing_the_visit_cancels_it_and_books_nothing(configured, webhook, twilio, commit, body):
    appointment = _book_through_the_assistant(webhook, commit)
    with commit():
        text(webhook, body)
    proposal = bodies_to(twilio, CUSTOMER)[-1]
    assert "cancel" in proposal.lower() and "Reply YES to book" not in proposal
    with commit():
        text(webhook, "yep")
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert Appointment.objects.filter(status=Appointment.Status.SCHEDULED).count() == 0


@pytest.mark.parametrize(
    "body",
    [
        "Somos Distribuidora del Golfo, manejamos tubería PEX a precio de mayoreo. ¿Le mando nuestra lista de precios?",
        "FINAL NOTICE: your vehicle's factory warranty is about to expire. Reply YES to speak with a specialist.",
    ],
)
def test_a_supplier_pitch_or_a_robotext_is_spam(configured, webhook, twilio, commit, body):
    with commit():
        text(webhook, body)
    assert bodies_to(twilio, OWNER) == [] and bodies_to(twilio, CUSTOMER) == []
    assert Conversation.objects.get(customer_number=CUSTOMER).lead_outcome == "spam"


def test_a_yes_after_the_name_books(configured, webhook, twilio, commit):
    with commit():
        text(webhook, "Hi, my kitchen sink is clogged")
        text(webhook, f"{ADDRESS}, tomorrow morning works")
    assert "Reply YES" in bodies_to(twilio, CUSTOMER)[-1]
    with commit():
        text(webhook, "I'm Maria Lopez, say less 🤙")
    appointment = Appointment.objects.get()
    assert appointment.status == Appointment.Status.SCHEDULED and appointment.customer.name == "Maria Lopez"


@pytest.mark.parametrize(
    "body",
    [
        "Can the owner just give me a call back? I'd rather explain on the phone",
        "ugh I don't want to text with a machine. AGENT",
    ],
)
def test_asking_for_a_person_by_role_or_refusing_the_machine_hands_over_once(configured, webhook, twilio, commit, body):
    with commit():
        text(webhook, "water heater making popping sounds")
        text(webhook, body)
        text(webhook, "thanks")
    assert len(bodies_to(twilio, OWNER)) == 1
    assert Conversation.objects.get(customer_number=CUSTOMER).lead_outcome == "handed_to_human"


@pytest.mark.parametrize(
    "bodies",
    [
        ("Make $3000/week from home trading crypto!!", "Reply YES to learn more", "Last chance!!! spots filling fast"),
        ("Hi! We help home service businesses get more 5-star Google reviews on autopilot.", "Just following up 🙂"),
    ],
)
def test_a_pitch_and_its_follow_ups_get_no_reply_and_no_alert(configured, webhook, twilio, commit, bodies):
    for body in bodies:
        with commit():
            text(webhook, body)
    assert bodies_to(twilio, CUSTOMER) == [] and bodies_to(twilio, OWNER) == []
    assert Conversation.objects.get(customer_number=CUSTOMER).lead_outcome == "spam"


def test_after_a_wrong_number_what_follows_gets_no_reply_and_no_alert(configured, webhook, twilio, commit):
    with commit():
        text(webhook, "perdón, número equivocado")
        text(webhook, "😅")
    assert len(bodies_to(twilio, CUSTOMER)) == 1 and bodies_to(twilio, OWNER) == []


@pytest.mark.parametrize(
    "body",
    [
        "smells like rotten eggs near the stove, getting stronger",
        "water is coming thru the kitchen ceiling from the upstairs bathroom!! dripping fast, light fixture is wet",
        "se apagó el calentador y no vuelve a prender, mi papá tiene 80 años y hace mucho frío",
        "water heater just died, its -4 out and my mom is 88 and lives with us",
        "se apagó el calentador, estamos bajo cero y mi mamá tiene 88",
        "AYUDA mi bebe esta adentro del carro y las llaves tambien!!",
    ],
)
def test_an_emergency_told_by_the_situation_alerts_the_owner_at_once(configured, webhook, twilio, commit, body):
    with commit():
        text(webhook, body)
    owner = bodies_to(twilio, OWNER)
    assert len(owner) == 1 and owner[0].startswith("EMERGENCY")
    assert Conversation.objects.get(customer_number=CUSTOMER).lead_urgency == "emergency"


@pytest.mark.parametrize(
    "body", ["can you call me before you come? I'm next door", "¿me pueden llamar antes de llegar? estoy al lado"]
)
def test_call_before_you_come_after_a_booking_is_a_note_not_a_hand_off(configured, webhook, twilio, commit, body):
    appointment = _book_through_the_assistant(webhook, commit)
    with commit():
        text(webhook, body)
    appointment.refresh_from_db()
    assert ("call" in appointment.notes) or ("llam" in appointment.notes)
    assert bodies_to(twilio, OWNER) == []
    conversation = Conversation.objects.get(customer_number=CUSTOMER)
    assert conversation.handled_by != "human" and conversation.lead_outcome == "booked"
    assert Appointment.objects.count() == 1


def test_a_name_and_an_address_given_in_pieces_are_put_together(configured, webhook, twilio, commit):
    """The street, then "apt 3R, chicago 60614", then "and its Beth Sorensen": one address, one name."""
    for body in (
        "my kitchen sink is clogged",
        "1600 W Fullerton Ave",
        "apt 3R, chicago 60614",
        "and its Beth Sorensen",
    ):
        with commit():
            text(webhook, body)
    with commit():
        text(webhook, "yes")
    appointment = Appointment.objects.get()
    assert appointment.address.startswith("1600 W Fullerton Ave apt 3R") and "60614" in appointment.address
    assert appointment.customer.name == "Beth Sorensen"


def test_a_corrected_house_number_is_the_address_booked(configured, webhook, twilio, commit):
    for body in ("my kitchen sink is clogged", "Alan Price, 1240 W Fullerton Ave, Chicago IL 60614"):
        with commit():
            text(webhook, body)
    with commit():
        text(webhook, "sorry typo, its 1420 fullerton not 1240")
    with commit():
        text(webhook, "yes")
    assert Appointment.objects.get().address.startswith("1420 W Fullerton Ave")
