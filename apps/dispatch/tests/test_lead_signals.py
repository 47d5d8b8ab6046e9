"""What the engine tells the conversation engine about the lead: why it is urgent, jobs outside the
business's trades, texts that are not customers, and why it handed a conversation to the team."""

import pytest

from apps.dispatch import rules
from apps.dispatch.tests.test_engine import assistant, run


@pytest.mark.parametrize(
    ("text", "level", "reason"),
    [
        ("EMERGENCY a pipe burst and water is flooding the basement!", "emergency", "EMERGENCY, burst, flooding"),
        ("No hot water since this morning, can you come today?", "urgent", "No hot water, today"),
        ("It's not an emergency, just a dripping faucet, no rush", "normal", "not an emergency, no rush"),
        ("Not an emergency but the sink is leaking", "urgent", "leaking"),
        ("Not an emergency but the sink is leaking", "emergency", None),
        ("Hay una inundación en la cocina", "emergency", "inundación"),  # The customer's accents are kept.
        ("My kitchen sink is clogged", "urgent", None),
    ],
)
def test_urgency_reason_is_the_customers_own_words(text, level, reason):
    assert rules.urgency_reason(text, level) == reason


@pytest.mark.parametrize(
    ("message", "urgency", "reason"),
    [
        ("My basement is flooding, water everywhere", "emergency", "flooding, water everywhere"),
        ("Water heater is out, no hot water, need someone today", "urgent", "no hot water, today"),
        ("My kitchen sink is clogged, no rush", "normal", "no rush"),
        ("My kitchen sink is clogged", "normal", None),
    ],
)
def test_the_response_carries_the_urgency_and_its_reason(request_payload, message, urgency, reason):
    info = run(request_payload(message))["extracted_info"]
    assert (info["urgency_level"], info["urgency_reason"]) == (urgency, reason)


def test_the_reason_comes_from_the_message_that_made_it_urgent(request_payload):
    first = run(request_payload("Water is pouring through the ceiling from the bathroom upstairs!"))
    later = run(
        request_payload(
            "I'm Dan, 55 Oak Street, Chicago IL 60614",
            history=[
                {"role": "customer", "content": "Water is pouring through the ceiling from the bathroom upstairs!"},
                assistant(first["next_action"]["message"], first),
            ],
        )
    )
    assert later["extracted_info"]["urgency_level"] == "emergency"
    assert later["extracted_info"]["urgency_reason"] == "Water is pouring through the ceiling"


def test_a_named_job_of_another_trade_is_declined(request_payload):
    response = run(request_payload("My AC stopped cooling, can you send someone? I'm Dan, 55 Oak Street, Chicago IL"))
    assert response["extracted_info"]["trade"] == "hvac"
    assert response["next_action"]["action"] == "decline_out_of_trade"
    assert response["conversation_stage"] == "escalated" and "outside_trades" in response["validation"]["issues"]
    assert (
        response["next_action"]["message"] == "Sorry, that's not a service we offer (AC repair): we do plumbing work."
    )
    assert response["proposed_slot"] is None
    # The owner's referral note follows the decline; nothing promises a call back.
    settings = {"referral_note": "For AC, try Breeze HVAC at 312-555-0144."}
    referred = run(request_payload("My AC stopped cooling, can you send someone?", business_settings=settings))
    assert referred["next_action"]["message"].endswith("we do plumbing work. For AC, try Breeze HVAC at 312-555-0144.")
    assert "team_follow_up" not in referred["validation"]["issues"]
    spanish = run(request_payload("Se descompuso el aire acondicionado, no enfría nada"))
    assert spanish["next_action"]["message"].startswith("Lo sentimos, ese servicio no lo ofrecemos")


def test_a_trade_the_business_serves_is_not_declined(request_payload):
    both = run(request_payload("My AC stopped cooling", business_trades=["plumbing", "hvac"]))
    assert both["next_action"]["action"] == "ask_for_info"
    # A bare trade word is not a job: "the key" does not make a plumbing customer a locksmith's.
    sink = run(request_payload("My kitchen sink is clogged"))
    key = run(
        request_payload(
            "I'm Dan, 55 Oak Street, Chicago IL 60614, the key is under the mat",
            history=[
                {"role": "customer", "content": "My kitchen sink is clogged"},
                assistant(sink["next_action"]["message"], sink),
            ],
        )
    )
    assert key["next_action"]["action"] == "propose_slot"
    # Once the conversation asked for a job the business does, a job of another trade is not a reason to decline.
    mixed = run(
        request_payload(
            "oh and the garage door is stuck too",
            history=[
                {"role": "customer", "content": "My kitchen sink is clogged"},
                assistant(sink["next_action"]["message"], sink),
            ],
        )
    )
    assert mixed["next_action"]["action"] != "decline_out_of_trade"


def test_the_decline_is_in_spanish_for_a_spanish_customer(request_payload):
    response = run(request_payload("Hola, el aire acondicionado no enfría, ¿pueden venir?"))
    assert response["next_action"]["action"] == "decline_out_of_trade"
    assert response["next_action"]["message"].startswith("Lo sentimos, ese servicio no lo ofrecemos")


@pytest.mark.parametrize(
    ("message", "spam"),
    [
        ("Get your business on the first page of Google! Click here: http://seo.example.com", True),
        ("We offer business funding up to $250k, pre-approved. Reply STOP to opt out", True),
        ("My sink is clogged, here is a photo https://example.com/p/1.jpg", False),
        ("Can you send me a link to leave a google review?", False),
    ],
)
def test_marketing_texts_are_flagged_as_suspected_spam(request_payload, message, spam):
    response = run(request_payload(message))
    assert ("suspected_spam" in response["validation"]["issues"]) is spam


def test_escalations_say_why(request_payload):
    manual = run(
        request_payload(
            "Leaking faucet, I'm Dan, 55 Oak Street, Chicago IL 60614", business_settings={"auto_book": False}
        )
    )
    assert manual["next_action"]["action"] == "escalate_to_owner" and "auto_book_off" in manual["validation"]["issues"]
    no_emergencies = run(
        request_payload(
            "A pipe burst and the basement is flooding! I'm Dan, 55 Oak Street, Chicago IL 60614",
            business_settings={"emergency_service": False},
        )
    )
    assert no_emergencies["next_action"]["action"] == "escalate_to_owner"
    assert "emergency_service_off" in no_emergencies["validation"]["issues"]
