"""Twilio's protocol in full: JSON webhooks' ``bodySHA256`` checked against the raw body, and every
SMS status callback stored as a row of its message's history (issue 11, item 7)."""

import hashlib
import json
from urllib.parse import quote

import pytest
from django_tenants.utils import tenant_context

from apps.conversations.models import Message, MessageStatusEvent
from apps.outbox.models import Delivery
from apps.telephony.testing import sign
from apps.telephony.tests.conftest import PUBLIC_BASE_URL, new_call_sid, payload
from nevermisscall.testing import assert_envelope_ok

pytestmark = pytest.mark.django_db


def _auto_reply(business, webhook, commit) -> tuple[Message, Delivery]:
    """A missed call in ``business``: its auto-reply went out (status ``sent``)."""
    call_sid = new_call_sid()
    with commit():
        webhook.post(
            f"/webhooks/twilio/call/status/{call_sid}?business_id={business.id}",
            payload("voice_dial_action", CallSid=call_sid),
        )
    with tenant_context(business):
        message = Message.objects.get(kind="auto_reply")
        return message, Delivery.objects.get(cause_type="message", cause_id=str(message.id))


def _status_path(business, delivery) -> str:
    return f"/webhooks/twilio/sms/status?business_id={business.id}&delivery_id={delivery.id}"


def _status(message, status: str, **extra) -> dict:
    return payload("sms_status", MessageSid=message.provider_sid, SmsSid=message.provider_sid,
                   MessageStatus=status, SmsStatus=status, **extra)  # fmt: skip


def _post_json(client, path: str, body: bytes, *, signed_body: bytes | None = None):
    """A JSON webhook as Twilio sends it: ``bodySHA256`` (of ``signed_body``, the body Twilio sent)
    in the URL, the signature over that URL with no params."""
    digest = hashlib.sha256(signed_body if signed_body is not None else body).hexdigest()
    path = f"{path}&bodySHA256={quote(digest)}"
    signature = sign(PUBLIC_BASE_URL + path, {})
    return client.post(path, body, content_type="application/json", HTTP_X_TWILIO_SIGNATURE=signature)


# --- (a) bodySHA256 ---------------------------------------------------------------------------------


def test_signed_json_webhook_is_accepted(alpha, webhook, commit, client):
    message, delivery = _auto_reply(alpha, webhook, commit)
    body = json.dumps(_status(message, "delivered")).encode()
    with commit():
        response = _post_json(client, _status_path(alpha, delivery), body)
    assert response.status_code == 204
    with tenant_context(alpha):
        message.refresh_from_db()
        assert message.status == Message.Status.DELIVERED
        assert [e.status for e in MessageStatusEvent.objects.filter(message=message)] == ["delivered"]


def test_json_webhook_with_a_tampered_body_is_refused_and_changes_nothing(alpha, webhook, commit, client):
    message, delivery = _auto_reply(alpha, webhook, commit)
    sent = json.dumps(_status(message, "delivered")).encode()
    tampered = sent.replace(b'"delivered"', b'"delivereD"', 1)  # one byte changed
    assert len(tampered) == len(sent) and sum(a != b for a, b in zip(sent, tampered, strict=True)) == 1
    with commit():
        response = _post_json(client, _status_path(alpha, delivery), tampered, signed_body=sent)
    assert response.status_code == 403
    assert response.content == b"invalid signature"
    with tenant_context(alpha):
        message.refresh_from_db()
        assert message.status == Message.Status.SENT
        assert not MessageStatusEvent.objects.exists()


def test_json_webhook_status_change_in_a_tampered_body_is_refused(alpha, webhook, commit, client):
    message, delivery = _auto_reply(alpha, webhook, commit)
    sent = json.dumps(_status(message, "sent")).encode()
    tampered = sent.replace(b'"sent"', b'"senT"')
    with commit():
        response = _post_json(client, _status_path(alpha, delivery), tampered, signed_body=sent)
    assert response.status_code == 403
    with tenant_context(alpha):
        assert not MessageStatusEvent.objects.exists()


def test_bodysha256_form_body_is_checked_too(alpha, webhook, commit, client):
    """A form body with ``bodySHA256`` in the URL is held to the hash as well (no way around it)."""
    message, delivery = _auto_reply(alpha, webhook, commit)
    path = _status_path(alpha, delivery) + "&bodySHA256=" + "0" * 64
    params = _status(message, "delivered")
    response = webhook.post(path, params, signature=sign(PUBLIC_BASE_URL + path, {}))
    assert response.status_code == 403
    response = webhook.post(path, params)  # signed over the form as Twilio signs form webhooks
    assert response.status_code == 403


def test_form_webhook_still_works(alpha, webhook, commit):
    message, delivery = _auto_reply(alpha, webhook, commit)
    with commit():
        response = webhook.post(_status_path(alpha, delivery), _status(message, "delivered"))
    assert response.status_code == 204
    with tenant_context(alpha):
        message.refresh_from_db()
        assert message.status == Message.Status.DELIVERED


# --- (b) status history -----------------------------------------------------------------------------


def test_three_callbacks_give_three_rows_and_the_message_ends_delivered(alpha, webhook, commit):
    message, delivery = _auto_reply(alpha, webhook, commit)
    with commit():
        for status in ("queued", "sent", "delivered"):
            assert webhook.post(_status_path(alpha, delivery), _status(message, status)).status_code == 204
    with tenant_context(alpha):
        message.refresh_from_db()
        assert message.status == Message.Status.DELIVERED
        events = list(MessageStatusEvent.objects.filter(message=message))
        assert [e.status for e in events] == ["queued", "sent", "delivered"]
        assert {e.message_sid for e in events} == {message.provider_sid}
        assert events[2].payload["MessageStatus"] == "delivered"
        assert all(e.received_at for e in events)


def test_a_duplicate_callback_adds_no_row(alpha, webhook, commit):
    message, delivery = _auto_reply(alpha, webhook, commit)
    with commit():
        for _ in range(3):
            webhook.post(_status_path(alpha, delivery), _status(message, "delivered"))
    with tenant_context(alpha):
        assert MessageStatusEvent.objects.filter(message=message).count() == 1


def test_a_late_sent_is_kept_in_history_but_does_not_regress(alpha, webhook, commit):
    message, delivery = _auto_reply(alpha, webhook, commit)
    with commit():
        webhook.post(_status_path(alpha, delivery), _status(message, "delivered"))
        webhook.post(_status_path(alpha, delivery), _status(message, "sent"))
    with tenant_context(alpha):
        message.refresh_from_db()
        assert message.status == Message.Status.DELIVERED
        assert [e.status for e in MessageStatusEvent.objects.filter(message=message)] == ["delivered", "sent"]


def test_error_code_is_stored(alpha, webhook, commit):
    message, delivery = _auto_reply(alpha, webhook, commit)
    with commit():
        webhook.post(_status_path(alpha, delivery), _status(message, "undelivered", ErrorCode="30003"))
    with tenant_context(alpha):
        event = MessageStatusEvent.objects.get(message=message)
        assert (event.status, event.error_code) == ("undelivered", "30003")
        message.refresh_from_db()
        assert message.status == Message.Status.UNDELIVERED


def test_a_callback_signed_for_another_business_cannot_touch_this_ones_message(alpha, beta, webhook, commit):
    message, delivery = _auto_reply(alpha, webhook, commit)
    # Correctly signed, but for Beta: Alpha's delivery id and MessageSid in Beta's callback URL.
    with commit():
        for status in ("delivered", "undelivered"):
            response = webhook.post(_status_path(beta, delivery), _status(message, status, ErrorCode="21610"))
            assert response.status_code == 204
    with tenant_context(alpha):
        message.refresh_from_db()
        assert message.status == Message.Status.SENT
        assert not MessageStatusEvent.objects.exists()
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.SENT
    with tenant_context(beta):
        assert not MessageStatusEvent.objects.exists()


def test_history_in_the_messages_api(alpha, alice, webhook, commit, client_for):
    message, delivery = _auto_reply(alpha, webhook, commit)
    with commit():
        for status in ("sent", "delivered"):
            webhook.post(_status_path(alpha, delivery), _status(message, status))
    items = assert_envelope_ok(client_for(alice).get(f"/api/conversations/{message.conversation_id}/messages"))
    (item,) = [m for m in items if m["id"] == str(message.id)]
    assert item["status"] == "delivered"
    assert [h["status"] for h in item["status_history"]] == ["sent", "delivered"]
    assert set(item["status_history"][0]) == {"status", "error_code", "received_at"}
