"""The lead record of a conversation (issue 10): what the assistant learnt, kept whether or not it
booked, through the signed SMS webhook path; shown by the API and on the dashboard's thread page,
and to nobody in another business."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.conversations import services, tasks
from apps.conversations.leads import LeadReading, lead_changes
from apps.conversations.models import AssistantSession, Conversation
from apps.conversations.tests.test_assistant_sms import ADDRESS, CUSTOMER, OTHER_CUSTOMER, bodies_to, text
from apps.conversations.tests.test_session_apis import widget_token
from apps.crm.models import Appointment
from apps.tenants.config.services import config_get, config_update
from conftest import PASSWORD
from nevermisscall.testing import assert_envelope_error, assert_envelope_ok

pytestmark = pytest.mark.django_db

EVANSTON = "2210 Maple Dr, Evanston IL 60201"
MILWAUKEE = "700 N Water St, Milwaukee WI 53202"


def say(webhook, commit, *messages, sender=CUSTOMER) -> Conversation:
    for message in messages:
        with commit():
            text(webhook, message, sender=sender)
    return Conversation.objects.get(customer_number=sender)


def test_a_booking_keeps_the_whole_lead(configured, webhook, twilio, commit):
    conversation = say(
        webhook, commit, "Hi, my kitchen sink is clogged", f"I'm Maria Lopez, {ADDRESS}, tomorrow morning"
    )
    assert conversation.lead_outcome == "" and conversation.lead_updated_at is not None  # Open.
    conversation = say(webhook, commit, "yes")
    assert bodies_to(twilio, CUSTOMER)[-1].startswith("You're booked!")
    appointment = Appointment.objects.get(pk=conversation.appointment_id)
    assert conversation.customer_name == "Maria Lopez"
    # The business's own key (its estimate "Drain cleaning"), the engine's label and trade.
    assert (conversation.lead_job_type, conversation.lead_job_label, conversation.lead_trade) == (
        "Drain cleaning",
        "Drain cleaning",
        "plumbing",
    )
    assert (conversation.lead_urgency, conversation.lead_urgency_reason) == ("normal", "")
    assert conversation.lead_address.startswith("1420 W Fullerton Ave")
    assert conversation.lead_in_service_area is True and 0 < conversation.lead_distance_miles < 25
    assert conversation.lead_latitude == pytest.approx(41.92, abs=0.05)
    assert conversation.lead_longitude == pytest.approx(-87.65, abs=0.05)
    assert "07:00–12:00" in conversation.lead_time_window
    assert (conversation.lead_outcome, conversation.lead_outcome_reason) == ("booked", "customer_confirmed")
    assert appointment.customer.phone == CUSTOMER
    # A booked lead stays booked: a later STOP or a takeover does not undo the appointment.
    conversation = say(webhook, commit, "STOP")
    assert conversation.lead_outcome == "booked"


def test_an_address_outside_the_area_is_declined_with_its_distance(configured, webhook, twilio, commit):
    conversation = say(webhook, commit, f"Toilet is clogged, {MILWAUKEE}, I'm Sam")
    assert "outside our service area" in bodies_to(twilio, CUSTOMER)[-1]
    assert conversation.lead_address.startswith("700 N Water St")
    assert conversation.lead_in_service_area is False and conversation.lead_distance_miles > 70
    assert (conversation.lead_outcome, conversation.lead_outcome_reason) == (
        "declined_out_of_area",
        "outside_service_area",
    )
    assert conversation.get_lead_outcome_display() == "Declined: outside the service area"
    # The customer corrects the address: the new one and its own decision replace the old, and the
    # lead is open again.
    conversation = say(webhook, commit, f"Sorry, wrong address, it's {ADDRESS}")
    assert conversation.lead_address.startswith("1420 W Fullerton Ave")
    assert conversation.lead_in_service_area is True and conversation.lead_distance_miles < 25
    assert conversation.lead_outcome == "" and conversation.lead_outcome_reason == ""


def test_a_later_address_replaces_the_earlier_and_a_turn_without_one_keeps_it(configured, webhook, commit):
    conversation = say(webhook, commit, "my kitchen sink is clogged", f"I'm Maria, {ADDRESS}")
    chicago = conversation.lead_distance_miles
    conversation = say(webhook, commit, f"Actually the job is at my mother's, {EVANSTON}")
    assert conversation.lead_address.startswith("2210 Maple Dr") and conversation.lead_distance_miles != chicago
    assert conversation.lead_in_service_area is True and 10 < conversation.lead_distance_miles < 15
    conversation = say(webhook, commit, "Friday afternoon would be best")
    assert conversation.lead_address.startswith("2210 Maple Dr") and 10 < conversation.lead_distance_miles < 15
    assert "12:00–17:00" in conversation.lead_time_window and "Friday afternoon" in conversation.lead_time_window
    assert conversation.lead_job_type == "Drain cleaning"  # Not mentioned again, kept.


def test_a_price_question_is_price_only_when_the_conversation_ends(configured, webhook, twilio, commit):
    conversation = say(webhook, commit, "How much do you charge for drain cleaning?")
    assert "$150–$250" in bodies_to(twilio, CUSTOMER)[-1]
    assert (conversation.lead_intent, conversation.lead_outcome) == ("pricing", "")  # Open: they may book.
    services.conversation_resolve(conversation=conversation)
    conversation.refresh_from_db()
    assert (conversation.lead_outcome, conversation.lead_outcome_reason) == ("price_only", "price_answered")
    assert conversation.lead_job_type == "Drain cleaning"


def test_stop_opts_the_lead_out_and_start_opens_it_again(configured, webhook, twilio, commit):
    conversation = say(webhook, commit, "my kitchen sink is clogged", "STOP")
    assert (conversation.lead_outcome, conversation.lead_outcome_reason) == ("opted_out", "stop_keyword")
    assert conversation.lead_job_type == "Drain cleaning"  # What was learnt before is kept.
    conversation = say(webhook, commit, "START")
    assert conversation.lead_outcome == ""


def test_an_owner_takeover_hands_the_lead_to_a_human(configured, alice, webhook, commit):
    conversation = say(webhook, commit, "No hot water since this morning, I'm Pat")
    with commit():
        services.conversation_takeover(conversation=conversation, user=alice)
    conversation.refresh_from_db()
    assert (conversation.lead_outcome, conversation.lead_outcome_reason) == ("handed_to_human", "owner_took_over")
    assert conversation.lead_urgency == "urgent"
    with commit():
        services.conversation_update(conversation=conversation, data={"handled_by": "ai"})
    conversation.refresh_from_db()
    assert conversation.lead_outcome == ""  # The assistant has it again.


def test_the_engine_handing_over_is_handed_to_human_with_why(configured, webhook, commit):
    config_update(business=configured, data={"ai_settings": {**config_get().ai_settings, "auto_book": False}})
    conversation = say(webhook, commit, "my kitchen sink is clogged", f"I'm Maria Lopez, {ADDRESS}, tomorrow morning")
    assert (conversation.lead_outcome, conversation.lead_outcome_reason) == ("handed_to_human", "auto_book_off")


def test_conversations_that_end_without_an_outcome_are_abandoned(configured, webhook, commit):
    resolved = say(webhook, commit, "my kitchen sink is clogged")
    services.conversation_resolve(conversation=resolved)
    resolved.refresh_from_db()
    assert (resolved.lead_outcome, resolved.lead_outcome_reason) == ("abandoned", "resolved")

    quiet = say(webhook, commit, "my toilet is clogged", sender=OTHER_CUSTOMER)
    asked = say(webhook, commit, "How much to fix a leak?", sender="+17735550144")
    fresh = say(webhook, commit, "my shower drain is slow", sender="+17735550145")
    long_ago = timezone.now() - timedelta(hours=25)
    Conversation.objects.filter(pk__in=[quiet.pk, asked.pk]).update(last_message_at=long_ago)
    assert tasks.lead_idle_sweep() == 2
    assert tasks.lead_idle_sweep() == 0  # Safe to run twice.
    connection.set_tenant(configured)
    outcomes = {c.pk: (c.lead_outcome, c.lead_outcome_reason) for c in Conversation.objects.all()}
    assert outcomes[quiet.pk] == ("abandoned", "idle")
    assert outcomes[asked.pk] == ("price_only", "price_answered")
    assert outcomes[fresh.pk] == ("", "")
    # The customer comes back: the assistant answers and the lead is open again.
    quiet = say(webhook, commit, "are you still there?", sender=OTHER_CUSTOMER)
    assert quiet.lead_outcome == ""


@pytest.mark.parametrize(
    ("message", "urgency", "reason"),
    [
        ("EMERGENCY a pipe burst and water is flooding the basement!", "emergency", "EMERGENCY, burst, flooding"),
        ("No hot water since this morning, need someone today", "urgent", "No hot water, today"),
        ("My kitchen sink is clogged, no rush", "normal", "no rush"),
        ("Hello?", "", ""),  # Nothing known yet.
    ],
)
def test_urgency_is_kept_as_emergency_urgent_or_normal_with_the_reason(
    configured, webhook, commit, message, urgency, reason
):
    conversation = say(webhook, commit, message)
    assert (conversation.lead_urgency, conversation.lead_urgency_reason) == (urgency, reason)


def test_urgency_stays_distinct_across_turns(configured, webhook, commit):
    conversation = say(webhook, commit, "Water heater is out, no hot water, can you come today?")
    assert conversation.lead_urgency == "urgent"
    conversation = say(webhook, commit, f"I'm Pat, {ADDRESS}")  # Says nothing about urgency: kept.
    assert (conversation.lead_urgency, conversation.lead_urgency_reason) == ("urgent", "no hot water, today")
    conversation = say(webhook, commit, "Now water is pouring through the ceiling!")
    assert (conversation.lead_urgency, conversation.lead_urgency_reason) == (
        "emergency",
        "water is pouring through the ceiling",
    )


def test_a_job_of_another_trade_is_declined_out_of_trade(configured, webhook, twilio, commit):
    conversation = say(webhook, commit, "My AC stopped cooling, can you send someone?")
    assert bodies_to(twilio, CUSTOMER)[-1].startswith("Sorry, that's not a service we offer")
    assert (conversation.lead_outcome, conversation.lead_outcome_reason) == ("declined_out_of_trade", "outside_trades")
    assert (conversation.lead_trade, conversation.lead_job_type) == ("hvac", "ac_repair")


def test_a_marketing_text_is_spam(configured, webhook, commit):
    conversation = say(
        webhook, commit, "Get your business on the first page of Google! Click here http://seo.example.com"
    )
    assert (conversation.lead_outcome, conversation.lead_outcome_reason) == ("spam", "suspected_spam")


# --- web chat and voice sessions --------------------------------------------------------------


def _widget(business, client_for):
    client = client_for(HTTP_X_WIDGET_TOKEN=widget_token(business))
    connection.set_tenant(business)

    def turn(session_id, text_):
        response = client.post(f"/v1/widget/session/{session_id}/input", {"text": text_}, format="json")
        connection.set_tenant(business)
        assert response.status_code == 200, response.content
        return response.json()

    def start():
        response = client.post("/v1/widget/session/start", {"caller_phone": "773-555-0142"}, format="json")
        connection.set_tenant(business)
        return response.json()["session_id"]

    def end(session_id):
        client.post(f"/v1/widget/session/{session_id}/end", format="json")
        connection.set_tenant(business)

    return start, turn, end


def test_a_chat_session_keeps_its_lead_and_a_booking_reaches_the_sms_conversation(
    configured, business_numbers, client_for, commit
):
    start, turn, end = _widget(configured, client_for)
    session_id = start()
    with commit():
        for message in ["my kitchen sink is clogged", f"I'm Maria Lopez, {ADDRESS}, tomorrow morning", "yes"]:
            state = turn(session_id, message)["session_state"]
    assert state["status"] == "booked"
    session = AssistantSession.objects.get(pk=session_id)
    assert (session.lead_outcome, session.lead_job_type, session.lead_in_service_area) == (
        "booked",
        "Drain cleaning",
        True,
    )
    # The owner reads leads on SMS conversations: the booking's confirmation conversation carries it.
    conversation = Conversation.objects.get(customer_number=CUSTOMER)
    assert (conversation.lead_outcome, conversation.lead_job_type) == ("booked", "Drain cleaning")
    assert conversation.lead_address.startswith("1420 W Fullerton Ave") and conversation.customer_name == "Maria Lopez"

    quiet = start()
    turn(quiet, "How much do you charge for drain cleaning?")
    end(quiet)
    assert AssistantSession.objects.get(pk=quiet).lead_outcome == "price_only"
    left = start()
    turn(left, "my kitchen sink is clogged")
    end(left)
    left = AssistantSession.objects.get(pk=left)
    assert (left.lead_outcome, left.lead_outcome_reason) == ("abandoned", "session_ended")


# --- where the owner reads it --------------------------------------------------------------------


def _lead_conversations(webhook, commit) -> tuple[Conversation, Conversation]:
    booked = say(webhook, commit, "my kitchen sink is clogged", f"I'm Maria Lopez, {ADDRESS}, tomorrow morning", "yes")
    emergency = say(webhook, commit, f"A pipe burst, water everywhere! {MILWAUKEE}", sender=OTHER_CUSTOMER)
    return booked, emergency


def test_the_api_shows_the_lead_and_filters_by_it(configured, bob, client_for, webhook, commit):
    booked, emergency = _lead_conversations(webhook, commit)
    client = client_for(bob)
    lead = assert_envelope_ok(client.get(f"/api/conversations/{emergency.id}"))["lead"]
    assert lead == {
        "customer_name": "",
        "job_type": "Burst pipe",
        "job_label": "Burst pipe",
        "trade": "plumbing",
        "intent": "emergency",
        "urgency": "emergency",
        "urgency_reason": "burst, water everywhere",
        "address": lead["address"],
        "latitude": pytest.approx(43.04, abs=0.1),
        "longitude": pytest.approx(-87.91, abs=0.1),
        "in_service_area": False,
        "distance_miles": lead["distance_miles"],
        "time_window": "",
        "stage": "escalated",
        "outcome": "declined_out_of_area",
        "outcome_reason": "outside_service_area",
        "outcome_reason_text": "The address is outside the service area",
        "appointment_id": None,
        "updated_at": lead["updated_at"],
    }
    assert lead["address"].startswith("700 N Water St") and lead["distance_miles"] > 70
    assert lead["updated_at"] is not None
    booked_lead = assert_envelope_ok(client.get(f"/api/conversations/{booked.id}"))["lead"]
    assert (booked_lead["outcome"], booked_lead["appointment_id"]) == ("booked", str(booked.appointment_id))

    def ids(**filters):
        return [c["id"] for c in assert_envelope_ok(client.get("/api/conversations", filters))]

    assert ids(lead_outcome="booked") == [str(booked.id)]
    assert ids(lead_urgency="emergency") == [str(emergency.id)]
    assert ids(lead_outcome="spam") == []
    listed = assert_envelope_ok(client.get("/api/conversations"))
    assert {c["lead"]["outcome"] for c in listed} == {"booked", "declined_out_of_area"}
    assert_envelope_error(client.get("/api/conversations", {"lead_outcome": "won"}), 400)
    assert_envelope_error(client.get("/api/conversations", {"lead_urgency": "high"}), 400)


def test_the_schema_describes_the_lead(bob, client_for):
    schema = client_for(bob).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    lead = schema.json()["components"]["schemas"]["LeadOutput"]
    assert {"urgency", "urgency_reason", "address", "in_service_area", "distance_miles", "outcome"} <= set(
        lead["properties"]
    )
    assert "as last corrected" in lead["properties"]["address"]["description"]


def test_another_business_cannot_read_the_lead(configured, charlie, client_for, webhook, commit):
    booked, _ = _lead_conversations(webhook, commit)
    client = client_for(charlie)
    assert_envelope_error(client.get(f"/api/conversations/{booked.id}"), 404, "RESOURCE_NOT_FOUND")
    assert assert_envelope_ok(client.get("/api/conversations", {"lead_outcome": "booked"})) == []


def test_the_thread_page_shows_the_lead(configured, owner_client, webhook, commit):
    booked, emergency = _lead_conversations(webhook, commit)
    page = owner_client.get(f"/inbox/{emergency.pk}/").content.decode()
    assert 'id="lead"' in page and "Burst pipe" in page
    assert "Emergency" in page and "<q>burst, water everywhere</q>" in page
    assert "700 N Water St" in page and "Outside the service area" in page
    assert "Declined: outside the service area" in page and "The address is outside the service area" in page
    page = owner_client.get(f"/inbox/{booked.pk}/").content.decode()
    assert "Booked" in page and "In the service area" in page and "07:00–12:00" in page
    # The live refresh (htmx) swaps the lead panel too, out of band.
    live = owner_client.get(f"/inbox/{booked.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="thread"' in live and 'id="lead" aria-labelledby="lead-title" hx-swap-oob="true"' in live


def test_the_thread_page_in_spanish(configured, alice, owner_client, webhook, commit):
    _, emergency = _lead_conversations(webhook, commit)
    alice.language = "es"
    alice.save(update_fields=["language"])
    page = owner_client.get(f"/inbox/{emergency.pk}/").content.decode()
    assert "Fuera de la zona de servicio" in page and "Rechazado: fuera de la zona de servicio" in page


def test_another_business_cannot_see_the_thread_page(configured, client, charlie, webhook, commit):
    booked, _ = _lead_conversations(webhook, commit)
    connection.set_schema_to_public()
    assert client.login(username=charlie.email, password=PASSWORD)
    assert client.get(f"/inbox/{booked.pk}/").status_code == 404


# --- the rules, on their own ---------------------------------------------------------------------


def test_a_new_address_brings_only_its_own_facts_and_a_failed_geocode_keeps_the_known_ones():
    now = timezone.now()
    record = Conversation(
        lead_address="1420 W Fullerton Ave, Chicago IL 60614",
        lead_latitude=41.92,
        lead_longitude=-87.65,
        lead_in_service_area=True,
        lead_distance_miles=3.0,
        lead_outcome="",
        lead_outcome_reason="",
    )
    same_unlocated = LeadReading(address="1420 W Fullerton Ave, Chicago IL 60614")
    assert lead_changes(record=record, reading=same_unlocated, now=now) == {}
    new_unlocated = LeadReading(address="55 Nowhere Rd")
    assert lead_changes(record=record, reading=new_unlocated, now=now) == {
        "lead_address": "55 Nowhere Rd",
        "lead_latitude": None,
        "lead_longitude": None,
        "lead_in_service_area": None,
        "lead_distance_miles": None,
        "lead_updated_at": now,
    }
    assert lead_changes(record=record, reading=LeadReading(), now=now) == {}  # Nothing said, nothing changes.
