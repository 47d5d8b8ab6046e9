"""The AI voice assistant in TwiML: a call answered by the assistant, speech turns through
``<Gather input="speech">`` until the booking, silence to voicemail, and the owner's summary line."""

import xml.etree.ElementTree as ET

import pytest
from django.db import connection

from apps.conversations.models import AssistantSession, Message
from apps.crm.models import Appointment
from apps.telephony.models import Call
from apps.telephony.tests.conftest import PUBLIC_BASE_URL, new_call_sid, payload
from apps.tenants.config.services import config_get, config_update

pytestmark = pytest.mark.django_db

CALLER = "+17735550142"
OWNER = "+13125550199"
ADDRESS = "1420 W Fullerton Ave, Chicago IL 60614"


@pytest.fixture
def voice_alpha(alpha, business_numbers):
    connection.set_tenant(alpha)
    config_update(
        business=alpha,
        data={
            "ai_settings": {**config_get().ai_settings, "voice_enabled": True},
            "job_estimates": [
                {
                    "job_type": "Drain cleaning",
                    "trade": "plumbing",
                    "min_price": 150,
                    "max_price": 250,
                    "duration_minutes": 90,
                },
            ],
            "service_area": {
                "address": "200 E Randolph St, Chicago IL 60601",
                "latitude": 41.8858,
                "longitude": -87.6181,
                "radius_miles": 25,
            },
        },
    )
    return alpha


def post(webhook, path, data):
    tenant = connection.tenant
    response = webhook.post(path, data)
    connection.set_tenant(tenant)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/xml"
    return ET.fromstring(response.content)


def said(root) -> list[str]:
    return [element.text for element in root.iter("Say")]


def gather_of(root):
    gathers = list(root.iter("Gather"))
    assert len(gathers) == 1, ET.tostring(root)
    return gathers[0]


def speak(webhook, call_sid, words, business):
    return post(
        webhook,
        f"/twilio/voice/collect?business_id={business.id}",
        payload("voice_incoming", CallSid=call_sid, CallStatus="in-progress", SpeechResult=words, Confidence="0.92"),
    )


def test_call_answered_by_the_assistant_books_by_voice(voice_alpha, webhook, twilio, commit):
    call_sid = new_call_sid()
    with commit():
        root = post(webhook, "/webhooks/twilio/call", payload("voice_incoming", CallSid=call_sid))
    assert not list(root.iter("Dial"))  # Not forwarded: the assistant answers.
    gather = gather_of(root)
    assert gather.get("input") == "speech" and gather.get("language") == "en-US"
    assert gather.get("action") == f"{PUBLIC_BASE_URL}/twilio/voice/collect?business_id={voice_alpha.id}"
    assert "Alpha Plumbing" in said(root)[0]
    assert Call.objects.get(call_sid=call_sid).status == Call.Status.IN_PROGRESS

    root = speak(webhook, call_sid, "my kitchen sink is clogged", voice_alpha)
    assert "name" in said(gather_of(root))[0].lower()
    root = speak(webhook, call_sid, f"Maria Lopez, {ADDRESS}, tomorrow morning", voice_alpha)
    assert "$150–$250" in said(gather_of(root))[0]
    with commit():
        root = speak(webhook, call_sid, "yes please", voice_alpha)
    assert said(root)[0].startswith("You're booked!")
    assert root[-1].tag == "Hangup" and not list(root.iter("Gather"))

    session = AssistantSession.objects.get(call_sid=call_sid)
    assert (session.status, session.channel, session.turns) == ("booked", "voice", 3)
    appointment = Appointment.objects.get(pk=session.appointment_id)
    assert appointment.source == "voice" and appointment.customer.phone == CALLER
    assert [turn["role"] for turn in session.history] == ["assistant"] + ["customer", "assistant"] * 3
    # The confirmation goes out by SMS as well, in the caller's conversation.
    texts = [sent.form for sent in twilio.messages()]
    assert [(form["To"], form["From"]) for form in texts] == [(CALLER, "+13125550111")]
    assert texts[0]["Body"] == said(root)[0]
    # An answered call is not a missed call: no missed-call text.
    with commit():
        post(webhook, "/api/callbot/call-status", payload("voice_call_status", CallSid=call_sid))
    assert not Message.objects.filter(kind="auto_reply").exists()
    assert Call.objects.get(call_sid=call_sid).status == Call.Status.ANSWERED


def test_seed_002_path_takes_turns_too_and_spanish_is_heard_in_spanish(voice_alpha, webhook, twilio, commit):
    call_sid = new_call_sid()
    post(webhook, "/twilio/voice", payload("voice_incoming", CallSid=call_sid))
    root = post(
        webhook,
        "/twilio/voice",
        payload("voice_incoming", CallSid=call_sid, SpeechResult="Hola, el fregadero de la cocina está tapado"),
    )
    gather = gather_of(root)
    assert gather.get("language") == "es-US" and gather.find("Say").get("voice") == "Polly.Lupe"
    assert any(word in said(gather)[0].lower() for word in ("nombre", "dirección"))


def test_silence_twice_goes_to_voicemail(voice_alpha, webhook, twilio):
    call_sid = new_call_sid()
    post(webhook, "/webhooks/twilio/call", payload("voice_incoming", CallSid=call_sid))
    path = f"/twilio/voice/collect?business_id={voice_alpha.id}&silence=1"
    root = post(webhook, path, payload("voice_incoming", CallSid=call_sid))
    assert "didn't catch" in said(gather_of(root))[0]
    root = post(webhook, path, payload("voice_incoming", CallSid=call_sid))
    assert [element.tag for element in root] == ["Say", "Record", "Hangup"]
    assert AssistantSession.objects.get(call_sid=call_sid).status == "ended"


def test_voice_off_keeps_the_forwarding_flow(alpha, webhook, twilio):
    connection.set_tenant(alpha)
    root = post(webhook, "/webhooks/twilio/call", payload("voice_incoming", CallSid=new_call_sid()))
    assert [number.text for number in root.iter("Number")] == [OWNER]
    assert not AssistantSession.objects.exists()


def test_unsigned_voice_webhook_is_refused(voice_alpha, webhook, twilio):
    response = webhook.post("/twilio/voice/collect", payload("voice_incoming"), signature="bad")
    assert response.status_code == 403
