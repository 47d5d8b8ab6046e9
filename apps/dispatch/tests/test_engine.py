"""The whole engine on the rule-based path: conversation in, next step and reply out."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from apps.dispatch import engine, replies
from apps.dispatch.serializers import ProcessConversationRequestSerializer

CHICAGO = ZoneInfo("America/Chicago")
MONDAY_10AM = datetime(2026, 11, 23, 10, tzinfo=CHICAGO)


def run(payload: dict, *, now=MONDAY_10AM) -> dict:
    serializer = ProcessConversationRequestSerializer(data=payload)
    assert serializer.is_valid(), serializer.errors
    response, ai_result = engine.process_conversation(serializer.validated_data, now=now, use_ai=False)
    assert ai_result is None
    return response


def assistant(message: str, response: dict) -> dict:
    """The assistant turn a conversation engine stores: the reply and the slot it proposed."""
    return {"role": "assistant", "content": message, "proposed_slot": response["proposed_slot"]}


def test_clogged_sink_to_booking_conversation(request_payload):
    first = run(request_payload("Hi, my kitchen sink is clogged and won't drain"))
    assert first["next_action"]["action"] == "ask_for_info"
    assert first["next_action"]["missing_fields"] == ["address", "customer_name"]
    assert first["next_action"]["message"] == "Got it: Drain cleaning. Could I get your name and the service address?"
    assert first["conversation_stage"] == "collecting_info"
    # The business's own key for the job (conftest: "Drain cleaning"), not an internal one.
    assert first["extracted_info"]["job_type"] == "Drain cleaning" and first["extracted_info"]["trade"] == "plumbing"
    assert first["proposed_slot"] is None

    history = [
        {"role": "customer", "content": "Hi, my kitchen sink is clogged and won't drain"},
        {"role": "assistant", "content": first["next_action"]["message"], "proposed_slot": None},
    ]
    second = run(
        request_payload("I'm Maria Lopez, 1420 W Fullerton Ave, Chicago IL 60614. Tomorrow morning works", history)
    )
    info = second["extracted_info"]
    assert (info["customer_name"], info["customer_address"]) == (
        "Maria Lopez",
        "1420 W Fullerton Ave, Chicago, IL 60614",
    )
    assert info["job_type"] == "Drain cleaning"  # remembered from the first message
    assert info["time_preference"]["date"] == "2026-11-24" and info["time_preference"]["day_part"] == "morning"
    assert second["validation"]["service_area_valid"] is True and second["validation"]["distance_miles"] < 10
    assert second["next_action"]["action"] == "propose_slot" and second["conversation_stage"] == "awaiting_confirmation"
    slot = second["proposed_slot"]
    assert slot["start_datetime"] == "2026-11-24T08:00:00-06:00"
    assert slot["end_datetime"] == "2026-11-24T09:30:00-06:00"  # 90 minutes from the estimate
    assert (slot["estimated_min"], slot["estimated_max"], slot["pricing_multiplier"]) == (150.0, 250.0, 1.0)
    assert second["next_action"]["message"] == (
        "We can have a technician there Tuesday, November 24, 8:00 AM. The estimate is $150–$250. Does that work? Reply YES to book."
    )
    # 11:00-12:30 would run past the morning the customer asked for.
    assert [alt["start_datetime"] for alt in second["alternative_slots"]] == ["2026-11-24T09:30:00-06:00"]

    history += [
        {
            "role": "customer",
            "content": "I'm Maria Lopez, 1420 W Fullerton Ave, Chicago IL 60614. Tomorrow morning works",
        },
        assistant(second["next_action"]["message"], second),
    ]
    third = run(request_payload("Yes, that works", history))
    assert third["next_action"]["action"] == "book_appointment" and third["conversation_stage"] == "confirmed"
    assert third["proposed_slot"]["start_datetime"] == slot["start_datetime"]
    assert third["next_action"]["message"].startswith(
        "You're booked! Drain cleaning on Tuesday, November 24, 8:00 AM at 1420 W Fullerton Ave"
    )

    # Somebody else booked 08:00 in the meantime: the "yes" gets the next opening instead.
    taken = [
        {
            "summary": "Other job",
            "start_datetime": "2026-11-24T08:00:00-06:00",
            "end_datetime": "2026-11-24T09:00:00-06:00",
        }
    ]
    late = run(request_payload("Yes, that works", history, existing_calendar=taken))
    assert late["next_action"]["action"] == "propose_slot" and "slot_taken" in late["validation"]["issues"]
    assert late["next_action"]["message"].startswith(
        "Sorry, that time was just taken. The next opening is Tuesday, November 24"
    )
    assert late["proposed_slot"]["start_datetime"] == "2026-11-24T09:30:00-06:00"


def test_rejection_with_a_new_preference_proposes_again_and_bare_no_asks_when(request_payload):
    base = run(request_payload("Leaking faucet. I'm Dan, 55 Oak Street, Chicago IL 60614"))
    history = [
        {"role": "customer", "content": "Leaking faucet. I'm Dan, 55 Oak Street, Chicago IL 60614"},
        assistant("...", base),
    ]
    again = run(request_payload("no, how about Friday afternoon", history))
    assert again["next_action"]["action"] == "propose_slot"
    assert again["proposed_slot"]["start_datetime"] == "2026-11-27T12:00:00-06:00"
    bare = run(request_payload("No", history))
    assert bare["next_action"]["action"] == "ask_for_info" and bare["next_action"]["missing_fields"] == [
        "preferred_time"
    ]
    assert bare["next_action"]["message"] == "No problem. What day and time would work better for you?"
    # Same-slot rejections never get the same slot back.
    other = run(request_payload("that doesn't work, any other time?", history))
    assert other["proposed_slot"]["start_datetime"] != base["proposed_slot"]["start_datetime"]


def test_emergency_at_night_is_booked_outside_hours_with_multiplier_and_owner_alert(request_payload):
    monday_night = datetime(2026, 11, 23, 21, 5, tzinfo=CHICAGO)
    response = run(
        request_payload("Water is pouring from a burst pipe at 310 Elm St, Chicago IL 60614!! This is Kim"),
        now=monday_night,
    )
    assert (
        response["extracted_info"]["urgency_level"] == "emergency"
        and response["extracted_info"]["intent"] == "emergency"
    )
    assert response["validation"]["is_emergency"] is True
    assert response["next_action"]["notify_owner"] is True
    slot = response["proposed_slot"]
    assert slot["start_datetime"] == "2026-11-23T22:15:00-06:00" and not slot["within_business_hours"]
    assert (slot["pricing_multiplier"], slot["estimated_min"], slot["estimated_max"]) == (2.5, 750.0, 1500.0)
    assert response["next_action"]["message"] == (
        "We understand this is urgent. A team member will contact you immediately to address your emergency. "
        "The earliest a technician can be there is Monday, November 23, 10:15 PM. The emergency rate is $750–$1,500. Reply YES to confirm."
    )
    assert "outside_business_hours" in response["validation"]["issues"]


def test_emergency_without_address_alerts_owner_and_asks(request_payload):
    response = run(request_payload("basement is flooding help"))
    assert response["next_action"]["action"] == "ask_for_info" and response["next_action"]["notify_owner"] is True
    assert response["next_action"]["message"].startswith(replies.fallback_template("emergency"))


def test_out_of_area_address_is_declined(request_payload):
    response = run(request_payload("Toilet is clogged, 700 N Water St, Milwaukee WI 53202, I'm Sam"))
    assert response["validation"]["service_area_valid"] is False and response["validation"]["distance_miles"] > 70
    assert response["next_action"]["action"] == "decline_out_of_area" and response["conversation_stage"] == "escalated"
    assert "outside our service area" in response["next_action"]["message"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "How much do you charge for drain cleaning?",
            "A drain cleaning job usually runs $150–$250. Would you like us to schedule a visit?",
        ),
        (
            "¿Cuánto cuesta destapar el drenaje?",
            "Un trabajo de destape de drenaje suele costar $150–$250. ¿Quiere que programemos una visita?",
        ),
        # Answered from the business's own hours, not promised for later.
        (
            "What are your hours?",
            "We're open Mon–Fri 8:00 AM–5:00 PM, Sat 9:00 AM–1:00 PM, closed Sun. How can we help?",
        ),
    ],
)
def test_pricing_and_general_questions(request_payload, message, expected):
    response = run(request_payload(message))
    assert response["next_action"]["action"] == "answer_question"
    assert response["next_action"]["message"] == expected


@pytest.mark.parametrize(
    "message",
    ["How much do you charge to rekey locks?", "¿Cuánto cobran por cambiar una cerradura?"],
)
def test_a_price_question_for_another_trade_is_declined(request_payload, message):
    response = run(request_payload(message))  # the test business is a plumber
    assert response["next_action"]["action"] == "decline_out_of_trade"
    assert response["proposed_slot"] is None


def test_seed_fallback_templates_are_verbatim_in_english():
    assert replies.fallback_template("appointment_request") == (
        "I'd be happy to help schedule an appointment. A team member will contact you shortly to arrange a convenient time."
    )
    assert replies.fallback_template("pricing_inquiry") == (
        "Thanks for your interest in our pricing. A team member will provide you with a detailed quote soon."
    )
    assert replies.fallback_template("emergency") == (
        "We understand this is urgent. A team member will contact you immediately to address your emergency."
    )
    assert replies.fallback_template("general_inquiry") == "Thanks for your message. A team member will respond soon."
    assert replies.fallback_template("anything else") == replies.fallback_template("general_inquiry")


def test_spanish_conversation_is_answered_in_spanish(request_payload):
    first = run(
        request_payload(
            "Hola, tengo el inodoro tapado. Me llamo Ana, 310 Elm Rd, Chicago IL 60614. Mañana por la mañana"
        )
    )
    assert first["extracted_info"]["language"] == "es" and first["next_action"]["language"] == "es"
    assert first["next_action"]["message"] == (
        "Podemos enviar un técnico el martes 24 de noviembre, 08:00. El costo estimado es $150–$250. "
        "¿Le funciona? Responda SÍ para reservar."
    )
    history = [
        {
            "role": "customer",
            "content": "Hola, tengo el inodoro tapado. Me llamo Ana, 310 Elm Rd, Chicago IL 60614. Mañana por la mañana",
        },
        assistant(first["next_action"]["message"], first),
    ]
    booked = run(request_payload("Sí, perfecto", history))
    assert booked["next_action"]["action"] == "book_appointment"
    # The business lists no toilet job: a clogged toilet is its drain cleaning, named in Spanish.
    assert booked["next_action"]["message"].startswith(
        "¡Listo, su cita está reservada! Destape de drenaje el martes 24 de noviembre"
    )
    assert (
        replies.fallback_template("general_inquiry", "es")
        == "Gracias por su mensaje. Un miembro de nuestro equipo le responderá pronto."
    )
    general = run(request_payload("¿Cuál es su horario? Gracias"))
    assert general["next_action"]["message"] == (
        "Nuestro horario: lun–vie 08:00–17:00, sáb 09:00–13:00, cerrado dom. ¿En qué le podemos ayudar?"
    )


def test_full_calendar_and_manual_booking_escalate_to_the_owner(request_payload):
    everything = [
        {"summary": "Busy", "start_datetime": "2026-11-23T00:00:00-06:00", "end_datetime": "2026-12-12T00:00:00-06:00"}
    ]
    full = run(
        request_payload("Leaking faucet, I'm Dan, 55 Oak Street, Chicago IL 60614", existing_calendar=everything)
    )
    assert full["next_action"]["action"] == "escalate_to_owner" and "no_availability" in full["validation"]["issues"]
    manual = run(
        request_payload(
            "Leaking faucet, I'm Dan, 55 Oak Street, Chicago IL 60614", business_settings={"auto_book": False}
        )
    )
    assert manual["next_action"]["action"] == "escalate_to_owner"
    assert manual["next_action"]["message"] == replies.fallback_template("appointment_request")


def test_returning_customer_history_fills_name_and_address(request_payload):
    response = run(
        request_payload(
            "water heater is leaking again, after 3pm today please",
            customer_history={
                "name": "Pat Kim",
                "address": "2210 Maple Dr, Evanston IL 60201",
                "previous_appointments": 2,
            },
        )
    )
    assert response["extracted_info"]["customer_name"] == "Pat Kim"
    assert response["next_action"]["action"] == "propose_slot"
    # Water heater jobs take three hours; 15:00-18:00 runs past closing, so today after 3 is full.
    assert response["validation"]["preference_satisfied"] is False
    assert response["proposed_slot"]["start_datetime"] == "2026-11-23T11:00:00-06:00"
    assert response["next_action"]["message"].startswith(
        "We don't have an opening at the time you asked for. The earliest we can come is Monday"
    )


def test_engine_is_fast(request_payload):
    payload = request_payload(
        "Hi this is Maria, sink clogged at 1420 W Fullerton Ave, Chicago IL 60614, tomorrow after 3"
    )
    started = datetime.now()
    for _ in range(20):
        run(payload)
    assert (datetime.now() - started) / 20 < timedelta(milliseconds=100)


class RecordingGeocoder:
    def __init__(self):
        self.queries = []

    def geocode(self, address):
        self.queries.append(address)


def test_an_address_without_city_is_looked_up_in_the_business_city(request_payload):
    geocoder = RecordingGeocoder()
    serializer = ProcessConversationRequestSerializer(data=request_payload("Leaking faucet, I'm Dan, 55 Oak Street"))
    assert serializer.is_valid(), serializer.errors
    response, _ = engine.process_conversation(
        serializer.validated_data, now=MONDAY_10AM, use_ai=False, geocoder=geocoder
    )
    assert geocoder.queries == ["55 Oak Street, Chicago, IL"]
    # Not found: the location is unknown, not outside the area; the booking goes on.
    assert response["needs_geocoding"] is True and response["validation"]["service_area_valid"] is None
    assert "address_not_geocoded" in response["validation"]["issues"]
    assert response["next_action"]["action"] == "propose_slot"


@pytest.mark.parametrize("reply", ["👍", "fine I guess, if that's the earliest you have", "dale", "Perfect, book it"])
def test_the_ways_people_confirm(request_payload, reply):
    first = run(request_payload("Leaking faucet, I'm Dan, 55 Oak Street, Chicago IL 60614"))
    history = [
        {"role": "customer", "content": "Leaking faucet, I'm Dan, 55 Oak Street, Chicago IL 60614"},
        assistant(first["next_action"]["message"], first),
    ]
    assert run(request_payload(reply, history))["next_action"]["action"] == "book_appointment"


def test_a_yes_with_a_condition_the_slot_does_not_meet_proposes_again(request_payload):
    first = run(request_payload("Leaking faucet, I'm Dan, 55 Oak Street, Chicago IL 60614. Tomorrow"))
    assert first["proposed_slot"]["start_datetime"] == "2026-11-24T08:00:00-06:00"
    history = [
        {"role": "customer", "content": "Leaking faucet, I'm Dan, 55 Oak Street, Chicago IL 60614. Tomorrow"},
        assistant(first["next_action"]["message"], first),
    ]
    again = run(request_payload("yes but not before 10", history))
    assert again["next_action"]["action"] == "propose_slot"
    assert again["proposed_slot"]["start_datetime"] >= "2026-11-24T10:00:00-06:00"


HEATER_JOBS = [
    {"job_type": "water_heater_repair", "label": "Water heater repair", "trade": "plumbing", "min_price": 200,
     "max_price": 500, "duration_minutes": 120, "description": "Pilot, thermostat or element on a water heater"},
    {"job_type": "water_heater_replace", "label": "Water heater replacement", "trade": "plumbing", "min_price": 1400,
     "max_price": 2600, "duration_minutes": 240, "description": "Install a new water heater"},
    {"job_type": "drain_cleaning", "label": "Drain cleaning", "trade": "plumbing", "min_price": 150,
     "max_price": 275, "duration_minutes": 90},
    {"job_type": "toilet_repair", "label": "Toilet repair", "trade": "plumbing", "min_price": 125,
     "max_price": 300, "duration_minutes": 60},
]  # fmt: skip


def test_a_repair_priced_against_a_replacement_gets_both_ranges(request_payload):
    message = (
        "our water heater is 13 yrs old and the pilot keeps going out. rough price to fix it vs just replacing it?"
    )
    reply = run(request_payload(message, job_estimates=HEATER_JOBS))["next_action"]["message"]
    assert "$200–$500" in reply and "$1,400–$2,600" in reply
    single = run(request_payload("how much to fix the pilot on my water heater?", job_estimates=HEATER_JOBS))
    assert "$1,400" not in single["next_action"]["message"]


def test_two_price_questions_in_one_text_get_two_ranges(request_payload):
    message = "how much do you charge to replace a water heater? and how much is a drain cleaning?"
    reply = run(request_payload(message, job_estimates=HEATER_JOBS))["next_action"]["message"]
    assert "$1,400–$2,600" in reply and "$150–$275" in reply


def test_a_price_for_tonight_quotes_the_emergency_rate_too(request_payload):
    message = "how much to unclog the kitchen drain if someone comes tonight vs waiting til tuesday?"
    settings = {"emergency_multiplier": 1.75}
    reply = run(request_payload(message, business_settings=settings))["next_action"]["message"]
    emergency = replies.price_range(150 * 1.75, 250 * 1.75)
    assert "$150–$250" in reply and emergency in reply
    waits = {**settings, "after_hours_emergency": "next_open_day"}
    assert emergency not in run(request_payload(message, business_settings=waits))["next_action"]["message"]


@pytest.mark.parametrize("ack", ["👍", "ok", "yes sorry"])
def test_an_acknowledgement_after_a_wrong_number_gets_no_reply(request_payload, ack):
    first = run(request_payload("sorry wrong number, butt dialed"))
    assert first["next_action"]["action"] == "answer_question"
    history = [
        {"role": "customer", "content": "sorry wrong number, butt dialed"},
        assistant(first["next_action"]["message"], first),
    ]
    second = run(request_payload(ack, history=history))
    assert second["next_action"]["action"] == "no_reply" and second["next_action"]["message"] == ""


def test_a_yes_with_nothing_offered_is_still_a_wish_to_book(request_payload):
    response = run(request_payload("yes"))
    assert response["extracted_info"]["intent"] == "appointment"
