"""AS-Call-Service conversation endpoints: list, detail, messages (staff SMS), takeover, resolve."""

import pytest
from django_tenants.utils import tenant_context

from apps.conversations.models import Conversation, OptOut
from apps.telephony.tests.conftest import new_call_sid, new_message_sid, payload
from nevermisscall.testing import assert_envelope_error, assert_envelope_ok

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(alpha, webhook, commit):
    call_sid = new_call_sid()
    with commit():
        webhook.post(f"/webhooks/twilio/call/status/{call_sid}", payload("voice_dial_action", CallSid=call_sid))
    with commit():  # The customer texts once the missed call was settled (its task ran).
        webhook.post("/webhooks/twilio/sms", payload("sms_incoming", MessageSid=new_message_sid()))
    with tenant_context(alpha):
        return Conversation.objects.get()


def test_list_detail_and_messages(bob, client_for, conversation):
    client = client_for(bob)
    listed = client.get("/api/conversations", {"status": "active"})
    data = assert_envelope_ok(listed)
    assert [c["id"] for c in data] == [str(conversation.id)]
    assert data[0]["message_count"] == 3
    assert listed.json()["metadata"]["total_count"] == 1
    assert assert_envelope_ok(client.get("/api/conversations", {"status": "resolved"})) == []
    assert len(assert_envelope_ok(client.get("/api/conversations", {"customer_number": "5550142"}))) == 1
    assert_envelope_error(client.get("/api/conversations", {"status": "closed"}), 400)

    detail = assert_envelope_ok(client.get(f"/api/conversations/{conversation.id}"))
    assert detail["handled_by"] == "ai" and detail["customer_number"] == "+17735550142"
    messages = assert_envelope_ok(client.get(f"/api/conversations/{conversation.id}/messages"))
    assert [m["kind"] for m in messages] == ["auto_reply", "customer", "ai"]
    inbound = assert_envelope_ok(client.get(f"/api/conversations/{conversation.id}/messages", {"direction": "inbound"}))
    assert [m["kind"] for m in inbound] == ["customer"]
    updated = assert_envelope_ok(
        client.put(f"/api/conversations/{conversation.id}", {"customer_name": "Pat", "tags": ["sink"]}, format="json")
    )
    assert updated["customer_name"] == "Pat" and updated["tags"] == ["sink"]
    assert_envelope_error(client.put(f"/api/conversations/{conversation.id}", {"tags": "sink"}, format="json"), 400)


def test_staff_message_takes_over_and_goes_out_by_sms(alpha, bob, client_for, conversation, twilio, commit, dashboard):
    listener = dashboard(alpha)
    before = len(twilio.messages())
    client = client_for(bob)
    with commit():
        sent = assert_envelope_ok(
            client.post(
                f"/api/conversations/{conversation.id}/messages", {"body": "On our way at 3pm."}, format="json"
            ),
            201,
        )
    assert sent["kind"] == "human" and sent["sent_by"] == str(bob.id)
    requests = twilio.messages()[before:]
    assert [(r.form["To"], r.form["Body"]) for r in requests] == [("+17735550142", "On our way at 3pm.")]
    detail = assert_envelope_ok(client.get(f"/api/conversations/{conversation.id}"))
    assert detail["handled_by"] == "human" and detail["taken_over_by"] == str(bob.id)
    assert listener.types() == ["human_takeover", "new_message", "message_sent"]
    assert_envelope_error(
        client.post(f"/api/conversations/{conversation.id}/messages", {"body": ""}, format="json"), 400
    )
    assert_envelope_error(
        client.post(f"/api/conversations/{conversation.id}/messages", {"body": "x" * 1601}, format="json"), 400
    )


def test_takeover_and_resolve(alice, client_for, conversation, dashboard, alpha, commit):
    listener = dashboard(alpha)
    client = client_for(alice)
    with commit():
        taken = assert_envelope_ok(client.post(f"/api/conversations/{conversation.id}/takeover"))
        again = assert_envelope_ok(client.post(f"/api/conversations/{conversation.id}/takeover"))
        resolved = assert_envelope_ok(client.post(f"/api/conversations/{conversation.id}/resolve"))
    assert taken["handled_by"] == again["handled_by"] == "human"
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    assert listener.types() == ["human_takeover", "dashboard_update"]
    assert_envelope_error(client.post(f"/api/conversations/{conversation.id}/takeover"), 422)
    assert_envelope_error(
        client.post(f"/api/conversations/{conversation.id}/messages", {"body": "hi"}, format="json"), 422
    )


def test_resolving_with_other_changes_applies_them_all(alice, alpha, client_for, conversation, dashboard, commit):
    """``status: resolved`` sent with notes, tags, a name and a hand-back to the assistant: every
    field is applied, in one transaction, and read back."""
    client = client_for(alice)
    assert_envelope_ok(client.post(f"/api/conversations/{conversation.id}/takeover"))
    listener = dashboard(alpha)
    body = {
        "status": "resolved",
        "notes": "Fixed over the phone.",
        "tags": ["sink", "no-visit"],
        "customer_name": "Pat Doe",
        "handled_by": "ai",
    }
    with commit():
        updated = assert_envelope_ok(client.put(f"/api/conversations/{conversation.id}", body, format="json"))
    for read in (updated, assert_envelope_ok(client.get(f"/api/conversations/{conversation.id}"))):
        assert read["status"] == "resolved" and read["resolved_at"]
        assert (read["notes"], read["tags"], read["customer_name"]) == (body["notes"], body["tags"], "Pat Doe")
        assert read["handled_by"] == "ai" and read["taken_over_by"] is None
        assert read["lead"]["outcome"] == "abandoned" and read["lead"]["outcome_reason"] == "resolved"
    assert listener.types() == ["ai_takeover", "dashboard_update"]
    with tenant_context(alpha):
        stored = Conversation.objects.get(pk=conversation.pk)
        assert (stored.status, stored.notes, stored.tags, stored.customer_name) == (
            "resolved",
            "Fixed over the phone.",
            ["sink", "no-visit"],
            "Pat Doe",
        )
    # Resolved already: the other fields still change, the resolution stays as it was.
    again = assert_envelope_ok(
        client.put(f"/api/conversations/{conversation.id}", {"status": "resolved", "notes": "Paid."}, format="json")
    )
    assert again["notes"] == "Paid." and again["resolved_at"] == updated["resolved_at"]


def test_staff_cannot_text_an_opted_out_customer(alpha, bob, client_for, conversation, twilio):
    with tenant_context(alpha):
        OptOut.objects.create(phone_number=conversation.customer_number, source="keyword", keyword="STOP")
    before = len(twilio.messages())
    response = client_for(bob).post(f"/api/conversations/{conversation.id}/messages", {"body": "hello?"}, format="json")
    assert_envelope_error(response, 422, "BUSINESS_RULE_VIOLATION")
    assert len(twilio.messages()) == before


def test_charlie_cannot_reach_alphas_conversations(charlie, client_for, conversation):
    client = client_for(charlie)
    assert assert_envelope_ok(client.get("/api/conversations")) == []
    cid = conversation.id
    for method, path, body in [
        ("get", f"/api/conversations/{cid}", None),
        ("put", f"/api/conversations/{cid}", {"notes": "mine"}),
        ("get", f"/api/conversations/{cid}/messages", None),
        ("post", f"/api/conversations/{cid}/messages", {"body": "hi"}),
        ("post", f"/api/conversations/{cid}/takeover", None),
        ("post", f"/api/conversations/{cid}/resolve", None),
        ("get", "/api/conversations/not-a-uuid", None),
    ]:
        assert_envelope_error(getattr(client, method)(path, body, format="json"), 404, "RESOURCE_NOT_FOUND")
