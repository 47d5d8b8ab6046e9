"""Inbound SMS: stored in the caller's conversation, keywords honoured, handed to the engine."""

import pytest
from django.test import override_settings
from django_tenants.utils import schema_context, tenant_context

from apps.conversations import tasks
from apps.conversations.models import Conversation, Message, OptOut
from apps.telephony.tests.conftest import new_call_sid, new_message_sid, payload

pytestmark = pytest.mark.django_db

CUSTOMER = "+17735550142"
ALPHA_NUMBER = "+13125550111"


def text(webhook, body, path="/webhooks/twilio/sms", sid=None):
    response = webhook.post(path, payload("sms_incoming", Body=body, MessageSid=sid or new_message_sid()))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/xml"
    return response


def test_inbound_sms_is_stored_and_answered_by_the_engine(alpha, webhook, twilio, commit, dashboard):
    listener = dashboard(alpha)
    with commit():
        text(webhook, "Hi, my kitchen sink is leaking. Can someone come today?")
    sent = twilio.messages()
    assert len(sent) == 1
    assert sent[0].form["To"] == CUSTOMER
    assert "Leak repair" in sent[0].form["Body"]
    with tenant_context(alpha):
        conversation = Conversation.objects.get(customer_number=CUSTOMER)
        kinds = list(conversation.messages.order_by("created_at").values_list("kind", "status"))
        assert kinds == [("customer", "received"), ("ai", "sent")]
    assert listener.types() == ["new_message", "ai_response", "message_sent"]


def test_legacy_path_and_redelivery(alpha, webhook, twilio, commit):
    sid = new_message_sid()
    with commit():
        text(webhook, "hello there", path="/twilio/sms", sid=sid)
        text(webhook, "hello there", path="/twilio/sms", sid=sid)
        text(webhook, "hello there", sid=sid)
    with tenant_context(alpha):
        assert Message.objects.filter(provider_sid=sid).count() == 1
        assert Message.objects.filter(kind="ai").count() == 1
    assert len(twilio.messages()) == 1


def test_text_after_a_missed_call_continues_its_conversation(alpha, webhook, twilio, commit):
    call_sid = new_call_sid()
    with commit():
        webhook.post(f"/webhooks/twilio/call/status/{call_sid}", payload("voice_dial_action", CallSid=call_sid))
    with commit():  # The customer texts once the missed call was settled (its task ran).
        text(webhook, "Can you book me for tomorrow?")
    with tenant_context(alpha):
        conversation = Conversation.objects.get(customer_number=CUSTOMER)
        assert conversation.calls.get().call_sid == call_sid
        assert list(conversation.messages.values_list("kind", flat=True)) == ["auto_reply", "customer", "ai"]


def test_stop_opts_out_and_nothing_is_sent_afterwards(alpha, webhook, twilio, commit):
    with commit():
        text(webhook, "STOP")
    assert twilio.messages() == []  # Twilio confirms STOP itself; we must not text after it.
    with tenant_context(alpha):
        assert OptOut.objects.get(phone_number=CUSTOMER).opted_out
    with commit():
        text(webhook, "my water heater is broken")
        call_sid = new_call_sid()
        webhook.post(f"/webhooks/twilio/call/status/{call_sid}", payload("voice_dial_action", CallSid=call_sid))
    assert twilio.messages() == []
    with tenant_context(alpha):
        assert not Message.objects.filter(direction="outbound").exists()


@pytest.mark.parametrize("word", ["stop", "StopAll", "UNSUBSCRIBE", "cancel", "end", "quit.", "REVOKE", "optout"])
def test_every_opt_out_keyword(alpha, webhook, twilio, commit, word):
    with commit():
        text(webhook, word)
    with tenant_context(alpha):
        opt_out = OptOut.objects.get(phone_number=CUSTOMER)
        assert opt_out.opted_out and opt_out.keyword == word.strip(".").upper()


@pytest.mark.parametrize(
    ("body", "confirmation"),
    [
        ("please stop texting me", "we won't text you again"),
        ("Take me off your list, I never asked for these", "we won't text you again"),
        ("Actually don't text me anymore, I found someone else", "we won't text you again"),
        ("pls remove my number from ur list", "we won't text you again"),
        ("Ya no me manden mensajes por favor", "no le enviaremos más mensajes"),
        ("BAJA", "no le enviaremos más mensajes"),
    ],
)
def test_an_opt_out_in_the_customers_words_is_honoured_and_confirmed_once(
    alpha, webhook, twilio, commit, body, confirmation
):
    """The carrier does not see these: the product records the opt-out and confirms it, once, in
    the customer's language; nothing else is sent afterwards, whoever queues it."""
    with commit():
        text(webhook, body)
    sent = [message.form["Body"] for message in twilio.messages()]
    assert len(sent) == 1 and confirmation in sent[0] and "START" in sent[0]
    with tenant_context(alpha):
        opt_out = OptOut.objects.get(phone_number=CUSTOMER)
        assert opt_out.opted_out and opt_out.source == OptOut.Source.MESSAGE
        assert Conversation.objects.get(customer_number=CUSTOMER).lead_outcome == "opted_out"
    with commit():
        text(webhook, "I said no more messages")
        call_sid = new_call_sid()
        webhook.post(f"/webhooks/twilio/call/status/{call_sid}", payload("voice_dial_action", CallSid=call_sid))
    assert len(twilio.messages()) == 1


@pytest.mark.parametrize(
    "body",
    [
        "the leak won't stop",
        "cancel my appointment please",
        "Don't text me, call me at 312-555-0100",
        "la presión está baja",
    ],
)
def test_words_near_an_opt_out_are_not_one(alpha, webhook, twilio, commit, body):
    with commit():
        text(webhook, body)
    with tenant_context(alpha):
        assert not OptOut.objects.filter(phone_number=CUSTOMER).exists()


def test_opt_out_is_enforced_at_send_time_too(alpha, webhook, twilio, commit):
    """A message queued before the STOP arrived is never sent."""
    from apps.outbox import tasks
    from apps.outbox.models import Delivery
    from apps.telephony.services import call_status_events_apply

    call_sid = new_call_sid()
    webhook.post(f"/webhooks/twilio/call/status/{call_sid}", payload("voice_dial_action", CallSid=call_sid))
    with tenant_context(alpha):
        call_status_events_apply(call_sid=call_sid)  # The missed-call work; the send not handed off.
        queued = Message.objects.get(kind="auto_reply")
        OptOut.objects.create(phone_number=CUSTOMER, source="staff")
        delivery = Delivery.objects.get(cause_type="message", cause_id=str(queued.id))
        assert tasks.deliver(str(delivery.id)) == ["canceled"]
        queued.refresh_from_db()
        assert queued.status == Message.Status.CANCELED
    assert twilio.messages() == []


@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
def test_start_opts_back_in_and_confirms(alpha, webhook, twilio, commit, word):
    with commit():
        text(webhook, "STOP")
        text(webhook, word)
    sent = twilio.messages()
    assert len(sent) == 1
    assert "subscribed again" in sent[0].form["Body"]
    with tenant_context(alpha):
        assert not OptOut.objects.get(phone_number=CUSTOMER).opted_out


def test_yes_is_a_reply_when_not_opted_out(alpha, webhook, twilio, commit):
    with commit():
        text(webhook, "yes")
    with tenant_context(alpha):
        assert not OptOut.objects.exists()
        assert Message.objects.filter(kind="ai").count() == 1


def test_help_answers_with_the_business_name_and_phone(alpha, webhook, twilio, commit):
    with commit():
        text(webhook, "HELP")
    sent = twilio.messages()
    assert len(sent) == 1
    assert "Alpha Plumbing" in sent[0].form["Body"]
    assert alpha.phone in sent[0].form["Body"]
    with tenant_context(alpha):
        assert Message.objects.filter(kind="keyword").count() == 1
        assert not Message.objects.filter(kind="ai").exists()


def test_no_ai_answer_once_a_human_took_over(alpha, alice, webhook, twilio, commit):
    from apps.conversations import services

    with commit():
        text(webhook, "hello")
    with tenant_context(alpha):
        services.conversation_takeover(conversation=Conversation.objects.get(), user=alice)
    with commit():
        text(webhook, "are you there?")
    assert len(twilio.messages()) == 1


@override_settings(INBOUND_STALE_SECONDS=0)
def test_a_lost_hand_off_to_the_engine_is_answered_by_the_inbound_sweep_once(alpha, webhook, twilio, commit):
    """The text was committed but the process died before handing it over: no on_commit ran here."""
    text(webhook, "Hi, my kitchen sink is leaking. Can someone come today?")
    assert twilio.messages() == []
    with tenant_context(alpha):
        assert Message.objects.get(direction=Message.Direction.INBOUND).handled_at is None
    with commit(), schema_context("public"):
        assert tasks.inbound_sweep() == 1
    assert [r.form["To"] for r in twilio.messages()] == [CUSTOMER]
    with tenant_context(alpha):
        assert Message.objects.get(direction=Message.Direction.INBOUND).handled_at is not None
    with commit(), schema_context("public"):
        assert tasks.inbound_sweep() == 0
    assert len(twilio.messages()) == 1


@override_settings(INBOUND_STALE_SECONDS=0)
def test_the_inbound_sweep_leaves_keywords_and_decided_messages_alone(alpha, alice, webhook, twilio, commit):
    from apps.conversations import services

    with commit():
        text(webhook, "hello")  # Answered by the engine.
    with tenant_context(alpha):
        services.conversation_takeover(conversation=Conversation.objects.get(), user=alice)
    with commit():
        text(webhook, "are you there?")  # Decided: a human has it, no answer.
        text(webhook, "HELP")  # Answered on arrival.
    with tenant_context(alpha):
        assert not Message.objects.filter(direction=Message.Direction.INBOUND, handled_at__isnull=True).exists()
    sent = len(twilio.messages())
    with commit(), schema_context("public"):
        assert tasks.inbound_sweep() == 0
    assert len(twilio.messages()) == sent


def test_media_is_recorded(alpha, webhook, twilio, commit):
    with commit():
        webhook.post(
            "/webhooks/twilio/sms",
            payload(
                "sms_incoming",
                Body="",
                NumMedia="1",
                MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
                MediaContentType0="image/jpeg",
            ),
        )
    with tenant_context(alpha):
        assert Message.objects.get(direction="inbound").media == [
            {
                "url": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
                "content_type": "image/jpeg",
            }
        ]


def test_status_callbacks_never_move_backwards(alpha, webhook, twilio, commit):
    call_sid = new_call_sid()
    with commit():
        webhook.post(f"/webhooks/twilio/call/status/{call_sid}", payload("voice_dial_action", CallSid=call_sid))
    with tenant_context(alpha):
        message = Message.objects.get(kind="auto_reply")
    path = f"/webhooks/twilio/sms/status?business_id={alpha.id}"
    with commit():
        for status in ("delivered", "sent", "queued", "delivered"):
            webhook.post(path, payload("sms_status", MessageSid=message.provider_sid, MessageStatus=status))
    with tenant_context(alpha):
        message.refresh_from_db()
        assert message.status == Message.Status.DELIVERED


def test_undelivered_callback_with_21610_opts_out(alpha, webhook, twilio, commit):
    call_sid = new_call_sid()
    with commit():
        webhook.post(f"/webhooks/twilio/call/status/{call_sid}", payload("voice_dial_action", CallSid=call_sid))
    with tenant_context(alpha):
        message = Message.objects.get(kind="auto_reply")
    with commit():
        webhook.post(
            f"/webhooks/twilio/sms/status?business_id={alpha.id}",
            payload("sms_status", MessageSid=message.provider_sid, MessageStatus="undelivered", ErrorCode="21610"),
        )
    with tenant_context(alpha):
        message.refresh_from_db()
        assert message.status == Message.Status.UNDELIVERED
        assert OptOut.objects.get(phone_number=CUSTOMER).source == "provider"
