"""Journey 2: a missed call becomes a conversation and an auto-text, on Twilio's real protocol.

Webhooks are posted form-encoded and signed as Twilio signs them; the SMS goes out through the real
twilio SDK to the loopback stand-in, whose recorded request is what we check.
"""

from xml.etree import ElementTree

import pytest
from django_tenants.utils import tenant_context

from apps.conversations.models import Conversation, Message
from apps.outbox.models import Delivery
from apps.telephony.models import Call
from apps.telephony.tests.conftest import PUBLIC_BASE_URL, new_call_sid, payload

pytestmark = pytest.mark.django_db

CALLER = "+17735550142"
ALPHA_NUMBER = "+13125550111"


def incoming(webhook, call_sid, caller=CALLER, to=ALPHA_NUMBER):
    response = webhook.post(
        "/webhooks/twilio/call",
        payload("voice_incoming", CallSid=call_sid, From=caller, Caller=caller, To=to, Called=to),
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/xml"
    return ElementTree.fromstring(response.content)


def dial_result(
    webhook,
    call_sid,
    status,
    caller=CALLER,
    to=ALPHA_NUMBER,
    dial_sid="CAb2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7",
    duration="0",
):
    return webhook.post(
        f"/webhooks/twilio/call/status/{call_sid}",
        payload(
            "voice_dial_action",
            CallSid=call_sid,
            From=caller,
            Caller=caller,
            To=to,
            Called=to,
            DialCallStatus=status,
            DialCallSid=dial_sid,
            DialCallDuration=duration,
        ),
    )


def test_missed_call_texts_the_caller_through_twilio(alpha, webhook, twilio, commit, dashboard):
    listener = dashboard(alpha)
    call_sid = new_call_sid()
    with commit():
        root = incoming(webhook, call_sid)
    dial = root.find("Dial")
    assert dial.get("timeout") == "20"
    assert dial.get("action") == f"{PUBLIC_BASE_URL}/webhooks/twilio/call/status/{call_sid}"
    number = dial.find("Number")
    assert number.text == "+13125550199"
    assert number.get("url") == f"{PUBLIC_BASE_URL}/webhooks/twilio/call/screen/{call_sid}?business_id={alpha.id}"

    with commit():
        response = dial_result(webhook, call_sid, "no-answer")
    assert response.status_code == 200
    assert ElementTree.fromstring(response.content).find("Say") is not None

    sent = twilio.messages()
    assert len(sent) == 1
    request = sent[0]
    assert request.path == "/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages.json"
    assert request.form["To"] == CALLER
    assert request.form["From"] == ALPHA_NUMBER
    assert request.form["Body"].startswith("Thanks for calling Alpha Plumbing! We missed your call")
    with tenant_context(alpha):
        call = Call.objects.get(call_sid=call_sid)
        assert call.status == Call.Status.MISSED
        assert call.missed_reason == Call.MissedReason.NO_ANSWER
        message = Message.objects.get(conversation=call.conversation)
        assert message.status == Message.Status.SENT
        assert message.kind == Message.Kind.AUTO_REPLY
        assert message.provider_sid.startswith("SM")
        delivery = Delivery.objects.get(cause_type="message", cause_id=str(message.id))
        assert (delivery.status, delivery.provider_ref, delivery.segments) == ("sent", message.provider_sid, 1)
        assert call.conversation.status == Conversation.Status.ACTIVE
    assert request.form["StatusCallback"] == (
        f"{PUBLIC_BASE_URL}/webhooks/twilio/sms/status?business_id={alpha.id}&delivery_id={delivery.id}"
    )
    assert listener.types() == ["incoming_call", "call_missed", "call_ended", "message_sent"]

    # Twilio reports delivery.
    status_path = f"/webhooks/twilio/sms/status?business_id={alpha.id}&delivery_id={delivery.id}"
    with commit():
        response = webhook.post(
            status_path, payload("sms_status", MessageSid=message.provider_sid, SmsSid=message.provider_sid)
        )
    assert response.status_code == 204
    with tenant_context(alpha):
        message.refresh_from_db()
        assert message.status == Message.Status.DELIVERED
        assert message.delivered_at is not None
    events = listener.events()
    assert [event["type"] for event in events] == ["message_delivered"]
    assert events[0]["payload"]["message_id"] == str(message.id)
    assert events[0]["metadata"]["source_service"] == "conversations"
    assert events[0]["metadata"]["timestamp"].endswith("Z")


def test_answered_call_records_duration_and_sends_nothing(alpha, webhook, twilio, commit, dashboard):
    listener = dashboard(alpha)
    call_sid = new_call_sid()
    with commit():
        incoming(webhook, call_sid)
        whisper = webhook.post(
            f"/webhooks/twilio/call/screen/{call_sid}?business_id={alpha.id}",
            payload("voice_whisper_leg", ParentCallSid=call_sid),
        )
        gather = ElementTree.fromstring(whisper.content).find("Gather")
        assert gather.get("numDigits") == "1"
        assert "Alpha Plumbing" in gather.find("Say").text
        accepted = webhook.post(
            f"/webhooks/twilio/call/screen/{call_sid}/result?business_id={alpha.id}",
            payload("voice_whisper_leg", ParentCallSid=call_sid, Digits="1"),
        )
        assert ElementTree.fromstring(accepted.content).find("Hangup") is None
        dial_result(webhook, call_sid, "completed", duration="73")
        webhook.post("/api/callbot/call-status", payload("voice_call_status", CallSid=call_sid, CallDuration="80"))
    assert twilio.messages() == []
    with tenant_context(alpha):
        call = Call.objects.get(call_sid=call_sid)
        assert call.status == Call.Status.ANSWERED
        assert call.duration == 73
        assert call.conversation is None
        assert not Message.objects.filter(to_number=CALLER).exists()
    assert listener.types() == ["incoming_call", "call_answered", "call_ended"]


def test_owner_voicemail_on_the_forwarded_leg_counts_as_missed(alpha, webhook, twilio, commit):
    """The owner's voicemail picks up the whisper, nobody presses 1: Twilio bridges nothing."""
    call_sid = new_call_sid()
    with commit():
        incoming(webhook, call_sid)
        whisper = webhook.post(
            f"/webhooks/twilio/call/screen/{call_sid}?business_id={alpha.id}",
            payload("voice_whisper_leg", ParentCallSid=call_sid),
        )
        assert ElementTree.fromstring(whisper.content).find("Hangup") is not None
        dial_result(webhook, call_sid, "completed", duration="9")
    assert len(twilio.messages()) == 1
    with tenant_context(alpha):
        call = Call.objects.get(call_sid=call_sid)
        assert call.status == Call.Status.MISSED
        assert call.missed_reason == Call.MissedReason.NOT_ACCEPTED


def test_caller_hanging_up_while_it_rings_is_missed_by_the_status_callback(alpha, webhook, twilio, commit):
    call_sid = new_call_sid()
    with commit():
        incoming(webhook, call_sid)
        webhook.post("/api/callbot/call-status", payload("voice_call_status", CallSid=call_sid, CallDuration="6"))
    assert len(twilio.messages()) == 1
    with tenant_context(alpha):
        assert Call.objects.get(call_sid=call_sid).missed_reason == Call.MissedReason.NOT_BRIDGED


def test_three_redials_within_the_cooldown_get_one_text(alpha, webhook, twilio, commit):
    with commit():
        for status in ("no-answer", "busy", "no-answer"):
            call_sid = new_call_sid()
            incoming(webhook, call_sid)
            dial_result(webhook, call_sid, status)
    assert len(twilio.messages()) == 1
    with tenant_context(alpha):
        calls = Call.objects.filter(from_number=CALLER)
        assert calls.count() == 3
        assert all(call.status == Call.Status.MISSED for call in calls)
        assert len({call.conversation_id for call in calls}) == 1
        assert sorted(call.auto_reply_skipped for call in calls) == ["", "conversation_open", "conversation_open"]


def test_cooldown_holds_after_the_conversation_is_resolved_then_expires(alpha, webhook, twilio, commit):
    from datetime import timedelta

    from django.utils import timezone

    with commit():
        first = new_call_sid()
        incoming(webhook, first)
        dial_result(webhook, first, "no-answer")
    with tenant_context(alpha):
        Conversation.objects.filter(customer_number=CALLER).update(status="resolved")
    with commit():
        second = new_call_sid()
        incoming(webhook, second)
        dial_result(webhook, second, "no-answer")
    assert len(twilio.messages()) == 1
    with tenant_context(alpha):
        assert Call.objects.get(call_sid=second).auto_reply_skipped == "cooldown"
        Conversation.objects.filter(customer_number=CALLER).update(status="resolved")
        Message.objects.filter(to_number=CALLER).update(created_at=timezone.now() - timedelta(minutes=16))
    with commit():
        third = new_call_sid()
        incoming(webhook, third)
        dial_result(webhook, third, "no-answer")
    assert len(twilio.messages()) == 2


def test_redelivered_status_webhook_changes_nothing(alpha, webhook, twilio, commit, dashboard):
    listener = dashboard(alpha)
    call_sid = new_call_sid()
    with commit():
        incoming(webhook, call_sid)
        incoming(webhook, call_sid)
    with commit():
        for _ in range(3):
            assert dial_result(webhook, call_sid, "no-answer").status_code == 200
        webhook.post("/api/callbot/call-status", payload("voice_call_status", CallSid=call_sid, CallStatus="completed"))
        webhook.post("/api/callbot/call-status", payload("voice_call_status", CallSid=call_sid, CallStatus="completed"))
    assert len(twilio.messages()) == 1
    with tenant_context(alpha):
        assert Call.objects.filter(call_sid=call_sid).count() == 1
        assert Message.objects.filter(to_number=CALLER).count() == 1
    assert listener.types() == ["incoming_call", "call_missed", "call_ended", "message_sent"]


def test_no_forwarding_number_texts_the_caller_at_once(alpha, webhook, twilio, commit):
    from apps.tenants.config.models import BusinessConfig

    with tenant_context(alpha):
        BusinessConfig.objects.filter(pk=1).update(forwarding_number="")
    call_sid = new_call_sid()
    with commit():
        root = incoming(webhook, call_sid)
    assert root.find("Dial") is None
    assert root.find("Say") is not None
    assert len(twilio.messages()) == 1
    with tenant_context(alpha):
        assert Call.objects.get(call_sid=call_sid).missed_reason == Call.MissedReason.NO_FORWARDING


def test_screening_off_forwards_without_a_whisper(alpha, webhook, twilio, commit):
    from apps.tenants.config.models import BusinessConfig

    with tenant_context(alpha):
        BusinessConfig.objects.filter(pk=1).update(call_screening=False, ring_timeout=25)
    call_sid = new_call_sid()
    with commit():
        root = incoming(webhook, call_sid)
        dial_result(webhook, call_sid, "completed", duration="40")
    assert root.find("Dial").get("timeout") == "25"
    assert root.find("Dial/Number").get("url") is None
    assert twilio.messages() == []
    with tenant_context(alpha):
        assert Call.objects.get(call_sid=call_sid).status == Call.Status.ANSWERED


def test_withheld_caller_id_is_recorded_but_not_texted(alpha, webhook, twilio, commit):
    call_sid = new_call_sid()
    with commit():
        webhook.post(
            "/webhooks/twilio/call", payload("voice_incoming", CallSid=call_sid, From="anonymous", Caller="anonymous")
        )
        dial_result(webhook, call_sid, "no-answer", caller="anonymous")
    assert twilio.messages() == []
    with tenant_context(alpha):
        call = Call.objects.get(call_sid=call_sid)
        assert call.status == Call.Status.MISSED
        assert call.auto_reply_skipped == "no_caller_id"
        assert call.conversation is None
