"""The owner's cockpit, server side: "Needs you" set by the events that need a person (emergency,
hand-off, a failed delivery) and cleared by a person's action; internal notes never sent; assignment
to a teammate of the same business only; read markers per user; reopen; confirmed actions."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.conversations import selectors, services
from apps.conversations.models import Conversation, ConversationNote, Message, QuickReply
from apps.conversations.tests.test_assistant_sms import ADDRESS, CUSTOMER, OWNER, bodies_to, text
from apps.outbox import services as outbox
from apps.outbox.models import Delivery
from conftest import PASSWORD
from nevermisscall.errors import BusinessRuleViolation, Conflict, ValidationFailed

pytestmark = pytest.mark.django_db


def _conversation(number="+17735550900", **fields) -> Conversation:
    return Conversation.objects.create(
        customer_number=number, business_number="+13125550111", last_message_at=timezone.now(), **fields
    )


def _needs_you_alerts(events):
    return [e["payload"] for e in events if e["type"] == "system_alert" and e["payload"]["alert_type"] == "needs_you"]


@pytest.fixture
def signed_in(client, alpha):
    def make(user):
        alpha.onboarding_completed_at = timezone.now()
        alpha.save(update_fields=["onboarding_completed_at"])
        assert client.login(username=user.email, password=PASSWORD)
        return client

    return make


# --- set by the domain events ---------------------------------------------------------------------


def test_an_emergency_text_needs_you_with_the_message_and_goes_to_the_top(
    configured, webhook, twilio, commit, dashboard
):
    quiet = _conversation("+17735550901")  # A newer message elsewhere: the emergency still comes first.
    listener = dashboard(configured)
    with commit():
        text(webhook, "EMERGENCY a pipe burst and water is flooding the basement!")
    Conversation.objects.filter(pk=quiet.pk).update(last_message_at=timezone.now() + timedelta(minutes=5))
    conversation = Conversation.objects.get(customer_number=CUSTOMER)
    assert conversation.needs_you_reason == "emergency" and conversation.needs_you_at is not None
    assert "pipe burst" in conversation.needs_you_text
    alerts = _needs_you_alerts(listener.events())
    assert len(alerts) == 1
    assert alerts[0]["reason"] == "emergency" and alerts[0]["severity"] == "critical"
    assert "pipe burst" in alerts[0]["message"] and alerts[0]["customer_number"] == CUSTOMER
    assert alerts[0]["conversation_id"] == str(conversation.pk)
    # The owner is texted as before.
    assert len(bodies_to(twilio, OWNER)) == 1
    inbox = list(selectors.inbox_list(user=configured.users.first(), view="active"))
    assert inbox[0].pk == conversation.pk
    assert [c.pk for c in selectors.needs_you_list()] == [conversation.pk]


def test_a_request_for_a_person_needs_you_as_a_hand_off(configured, webhook, twilio, commit):
    with commit():
        text(webhook, "My kitchen sink is clogged")
    assert Conversation.objects.get(customer_number=CUSTOMER).needs_you_reason == ""
    with commit():
        text(webhook, "Can I just talk to a real person please?")
    conversation = Conversation.objects.get(customer_number=CUSTOMER)
    assert conversation.needs_you_reason == "handoff" and "real person" in conversation.needs_you_text
    assert conversation.handled_by == "human"


def test_a_normal_conversation_never_needs_you(configured, webhook, twilio, commit):
    with commit():
        text(webhook, "My kitchen sink is clogged")
        text(webhook, f"Maria Lopez, {ADDRESS}, tomorrow morning")
    assert Conversation.objects.get(customer_number=CUSTOMER).needs_you_at is None


def test_a_text_that_failed_for_good_needs_you(alpha, twilio, dashboard, commit):
    connection.set_tenant(alpha)
    conversation = _conversation()
    listener = dashboard(alpha)
    message = services.message_queue_outbound(conversation=conversation, body="On our way!", kind=Message.Kind.HUMAN)
    delivery = Delivery.objects.get(cause_type="message", cause_id=str(message.pk))
    Delivery.objects.filter(pk=delivery.pk).update(status="sending")  # A worker claimed it; Twilio refused.
    with commit():
        outbox.delivery_fail(delivery=delivery, code="30003", error="Unreachable destination handset")
    conversation.refresh_from_db()
    assert conversation.needs_you_reason == "delivery_failed"
    assert "On our way!" in conversation.needs_you_text and "Unreachable" in conversation.needs_you_text
    assert _needs_you_alerts(listener.events())[0]["reason"] == "delivery_failed"


def test_a_canceled_text_does_not_need_you(alpha, twilio):
    connection.set_tenant(alpha)
    conversation = _conversation()
    message = services.message_queue_outbound(conversation=conversation, body="Hello", kind=Message.Kind.HUMAN)
    outbox.deliveries_cancel_for(recipient=conversation.customer_number)
    assert Message.objects.get(pk=message.pk).status == "canceled"
    conversation.refresh_from_db()
    assert conversation.needs_you_at is None


def test_an_owner_alert_that_dead_letters_needs_you(alpha, twilio):
    connection.set_tenant(alpha)
    conversation = _conversation()
    delivery = outbox.delivery_queue_sms(
        to=OWNER,
        body="EMERGENCY burst pipe",
        purpose="owner_alert",
        idempotency_key=f"owner-alert:sms:{conversation.pk}",
        cause=("conversation", str(conversation.pk)),
        check_opt_out=False,
    )
    Delivery.objects.filter(pk=delivery.pk).update(status="sending")  # The last attempt failed.
    outbox.delivery_fail(delivery=delivery, code="timeout", error="Twilio did not answer", status="dead")
    conversation.refresh_from_db()
    assert conversation.needs_you_reason == "alert_failed" and "Twilio did not answer" in conversation.needs_you_text


def test_a_lesser_reason_does_not_replace_an_emergency(alpha):
    connection.set_tenant(alpha)
    conversation = _conversation()
    services.conversation_needs_you_set(conversation_id=conversation.pk, reason="emergency", text="flooding")
    services.conversation_needs_you_set(conversation_id=conversation.pk, reason="delivery_failed", text="30003")
    conversation.refresh_from_db()
    assert (conversation.needs_you_reason, conversation.needs_you_text) == ("emergency", "flooding")


# --- cleared by a person --------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["reply", "takeover", "hand_back", "resolve", "mark_handled"])
def test_a_person_acting_clears_needs_you(alpha, alice, twilio, dashboard, commit, action):
    connection.set_tenant(alpha)
    conversation = _conversation(handled_by="human" if action == "hand_back" else "ai")
    services.conversation_needs_you_set(conversation_id=conversation.pk, reason="emergency", text="flooding")
    listener = dashboard(alpha)
    with commit():
        if action == "reply":
            services.message_send_by_staff(conversation=conversation, body="Calling you now", user=alice)
        elif action == "takeover":
            services.conversation_takeover(conversation=conversation, user=alice)
        elif action == "hand_back":
            services.conversation_hand_back(conversation=conversation, user=alice)
        elif action == "resolve":
            services.conversation_resolve(conversation=conversation, user=alice)
        else:
            services.conversation_mark_handled(conversation=conversation, user=alice)
    conversation.refresh_from_db()
    assert conversation.needs_you_at is None and conversation.needs_you_reason == ""
    cleared = [e["payload"] for e in listener.events() if e["payload"].get("needs_you") is False]
    assert len(cleared) == 1 and cleared[0]["action"] == action and cleared[0]["user_id"] == str(alice.pk)
    assert selectors.needs_you_list() == []


# --- notes, assignment, read markers --------------------------------------------------------------


def test_an_internal_note_is_never_sent_to_the_customer(alpha, alice, twilio, commit, signed_in):
    connection.set_tenant(alpha)
    conversation = _conversation()
    with commit():
        note = services.conversation_note_add(conversation=conversation, user=alice, body="Gate code 4412")
    client = signed_in(alice)
    with commit():
        response = client.post(f"/inbox/{conversation.pk}/note", {"body": "Has a dog, knock loudly"})
    assert response.status_code == 302
    connection.set_tenant(alpha)
    assert note.author_id == alice.pk
    assert list(ConversationNote.objects.values_list("body", flat=True)) == [
        "Gate code 4412",
        "Has a dog, knock loudly",
    ]
    assert not Message.objects.filter(conversation=conversation).exists()
    assert not Delivery.objects.filter(business=alpha).exists()
    assert twilio.messages() == []
    page = client.get(f"/inbox/{conversation.pk}/").content.decode()
    assert "Gate code 4412" in page and "Internal note" in page
    with pytest.raises(ValidationFailed):
        services.conversation_note_add(conversation=conversation, user=alice, body="  ")


def test_assignment_only_to_a_teammate_of_the_same_business(alpha, alice, bob, charlie, signed_in):
    connection.set_tenant(alpha)
    conversation = _conversation()
    services.conversation_assign(conversation=conversation, assignee_id=str(bob.pk), user=alice)
    conversation.refresh_from_db()
    assert conversation.assigned_to == bob.pk
    assert [c.pk for c in selectors.inbox_list(user=bob, view="mine")] == [conversation.pk]
    assert list(selectors.inbox_list(user=alice, view="mine")) == []
    with pytest.raises(ValidationFailed):
        services.conversation_assign(conversation=conversation, assignee_id=str(charlie.pk), user=alice)
    with pytest.raises(ValidationFailed):
        services.conversation_assign(conversation=conversation, assignee_id="not-a-uuid", user=alice)
    client = signed_in(alice)
    page = client.post(f"/inbox/{conversation.pk}/assign", {"assignee": str(charlie.pk)}, follow=True)
    assert b"flash-error" in page.content
    thread = client.get(f"/inbox/{conversation.pk}/").content.decode()
    assert f'value="{charlie.pk}"' not in thread and f'value="{bob.pk}"' in thread  # Only Alpha's people.
    connection.set_tenant(alpha)
    conversation.refresh_from_db()
    assert conversation.assigned_to == bob.pk
    services.conversation_assign(conversation=conversation, assignee_id=None, user=alice)
    conversation.refresh_from_db()
    assert conversation.assigned_to is None


def test_another_business_cannot_act_on_the_conversation(client, alpha, charlie):
    connection.set_tenant(alpha)
    conversation = _conversation()
    connection.set_schema_to_public()
    assert client.login(username=charlie.email, password=PASSWORD)
    for path in ("note", "assign", "handled", "takeover", "reopen", "hand-back", "resolve"):
        response = client.post(f"/inbox/{conversation.pk}/{path}", {"body": "x", "confirm": "yes"})
        assert response.status_code == 404, path
    connection.set_tenant(alpha)
    assert not ConversationNote.objects.exists()
    conversation.refresh_from_db()
    assert conversation.handled_by == "ai" and conversation.status == "active"


def test_read_and_unread_are_per_user(alpha, alice, bob, signed_in):
    connection.set_tenant(alpha)
    conversation = _conversation()
    assert selectors.inbox_list(user=alice).get().unread and selectors.inbox_list(user=bob).get().unread
    signed_in(alice).get(f"/inbox/{conversation.pk}/")  # Opening the thread reads it.
    connection.set_tenant(alpha)
    assert not selectors.inbox_list(user=alice).get().unread
    assert selectors.inbox_list(user=bob).get().unread
    assert selectors.conversation_unread_count(user=alice) == 0
    assert selectors.conversation_unread_count(user=bob) == 1
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=timezone.now() + timedelta(seconds=1))
    assert selectors.inbox_list(user=alice).get().unread  # A new message: unread again.
    services.conversation_mark_read(conversation=conversation, user=alice)
    services.conversation_mark_unread(conversation=conversation, user=alice)
    assert selectors.inbox_list(user=alice).get().unread


def test_the_inbox_badge_counts_unread_and_needs_you_for_each_person(alpha, alice, bob, signed_in):
    connection.set_tenant(alpha)
    conversation = _conversation()
    assert signed_in(bob).get("/inbox/badge/").json() == {"inbox": 1}
    signed_in(alice).get(f"/inbox/{conversation.pk}/")  # Alice read it; Bob did not.
    assert signed_in(alice).get("/inbox/badge/").json() == {"inbox": 0}
    connection.set_tenant(alpha)
    services.conversation_needs_you_set(conversation_id=conversation.pk, reason="handoff", text="a person please")
    assert signed_in(alice).get("/inbox/badge/").json() == {"inbox": 1}  # Read, but it needs someone.
    assert signed_in(bob).get("/inbox/badge/").json() == {"inbox": 1}  # Counted once, not twice.


# --- reopen, confirmation, quick replies, the banner ------------------------------------------------


def test_reopen_puts_a_resolved_conversation_back_in_the_teams_hands(alpha, alice):
    connection.set_tenant(alpha)
    conversation = _conversation()
    services.conversation_resolve(conversation=conversation, user=alice)
    with pytest.raises(BusinessRuleViolation):
        services.conversation_hand_back(conversation=conversation, user=alice)
    services.conversation_reopen(conversation=conversation, user=alice)
    conversation.refresh_from_db()
    assert (conversation.status, conversation.handled_by, conversation.resolved_at) == ("active", "human", None)
    assert conversation.lead_outcome == ""
    services.conversation_resolve(conversation=conversation, user=alice)
    _conversation(conversation.customer_number)  # The customer texted again: a new conversation is open.
    with pytest.raises(Conflict):
        services.conversation_reopen(conversation=conversation, user=alice)


def test_take_over_asks_first_without_javascript(alpha, alice, signed_in):
    connection.set_tenant(alpha)
    conversation = _conversation()
    client = signed_in(alice)
    asked = client.post(f"/inbox/{conversation.pk}/takeover")
    assert asked.status_code == 200 and b'name="confirm" value="yes"' in asked.content
    connection.set_tenant(alpha)
    conversation.refresh_from_db()
    assert conversation.handled_by == "ai"
    assert client.post(f"/inbox/{conversation.pk}/takeover", {"confirm": "yes"}).status_code == 302
    connection.set_tenant(alpha)
    conversation.refresh_from_db()
    assert conversation.handled_by == "human"
    thread = client.get(f"/inbox/{conversation.pk}/").content.decode()
    assert "Hand back to the assistant" in thread and 'href="tel:+17735550900"' in thread


def test_quick_replies_are_stored_per_business_and_offered_in_the_composer(alpha, alice, charlie, signed_in, client):
    connection.set_tenant(alpha)
    conversation = _conversation()
    owner = signed_in(alice)
    assert (
        owner.post("/inbox/quick-replies/", {"title": "On my way", "body": "On my way, 20 minutes."}).status_code == 302
    )
    connection.set_tenant(alpha)
    quick = QuickReply.objects.get()
    assert 'data-quick-reply="On my way, 20 minutes."' in owner.get(f"/inbox/{conversation.pk}/").content.decode()
    page = owner.post("/inbox/quick-replies/", {"title": "", "body": ""}, follow=True)
    assert b"flash-error" in page.content
    assert b"flash-error" in owner.post("/inbox/quick-replies/", {"delete": "x; DROP"}, follow=True).content
    owner.logout()
    assert client.login(username=charlie.email, password=PASSWORD)
    assert b"On my way" not in client.get("/inbox/quick-replies/").content
    client.post("/inbox/quick-replies/", {"delete": quick.pk})
    connection.set_tenant(alpha)
    assert QuickReply.objects.filter(pk=quick.pk).exists()  # Beta's delete reached nothing of Alpha's.
    client.logout()
    signed_in(alice).post("/inbox/quick-replies/", {"delete": quick.pk})
    connection.set_tenant(alpha)
    assert not QuickReply.objects.exists()


def test_the_banner_lists_what_needs_you_with_a_call_button(alpha, alice, signed_in):
    connection.set_tenant(alpha)
    conversation = _conversation(customer_name="Maria Lopez")
    services.conversation_needs_you_set(
        conversation_id=conversation.pk, reason="emergency", text="pipe burst, flooding"
    )
    banner = signed_in(alice).get("/inbox/alerts/").content.decode()
    assert "Turn on alerts" in banner and "pipe burst, flooding" in banner and "Maria Lopez" in banner
    assert 'href="tel:+17735550900"' in banner
    inbox = signed_in(alice).get("/inbox/?status=needs_you").content.decode()
    assert "Needs you" in inbox and "Maria Lopez" in inbox


def test_inbox_and_thread_query_counts_do_not_grow(alpha, alice, bob, signed_in):
    connection.set_tenant(alpha)
    first = _conversation("+17735550800")
    Message.objects.create(
        conversation=first, direction="inbound", kind="customer", from_number="+1", to_number="+2", body="hi"
    )
    services.conversation_note_add(conversation=first, user=bob, body="first note")
    client = signed_in(alice)

    def counts():
        client.get("/inbox/")
        client.get(f"/inbox/{first.pk}/")
        result = []
        for path in ("/inbox/", f"/inbox/{first.pk}/", "/inbox/alerts/"):
            with CaptureQueriesContext(connection) as captured:
                assert client.get(path).status_code == 200
            result.append(len(captured))
        return result

    small = counts()
    connection.set_tenant(alpha)
    for index in range(20):
        conversation = _conversation(f"+1773555{index + 810:04d}")
        services.conversation_needs_you_set(conversation_id=conversation.pk, reason="handoff", text="a person")
    for index in range(5):
        Message.objects.create(
            conversation=first, direction="inbound", kind="customer", from_number="+1", to_number="+2", body=f"{index}"
        )
        services.conversation_note_add(conversation=first, user=bob, body=f"note {index}")
    assert counts() == small
    assert max(small) <= 15, small


def test_the_alerts_and_the_thread_actions_speak_spanish(alpha):
    from django.template.loader import render_to_string
    from django.utils import translation

    from apps.conversations.views import CONFIRMATIONS

    with translation.override("es"):
        banner = render_to_string("conversations/_alerts.html", {"needs_you": []})
        assert "Activar alertas" in banner and "Ahora no" in banner
        assert str(CONFIRMATIONS["hand_back"][0]) == "Devolver al asistente"


# --- the API additions ----------------------------------------------------------------------------


def test_the_api_shows_needs_you_and_acts_like_the_dashboard(alpha, alice, bob, charlie, client_for, twilio):
    from django_tenants.utils import tenant_context

    from nevermisscall.testing import assert_envelope_error, assert_envelope_ok

    with tenant_context(alpha):
        conversation = _conversation()
        services.conversation_needs_you_set(conversation_id=conversation.pk, reason="handoff", text="a person please")
    client = client_for(alice)
    base = f"/api/conversations/{conversation.pk}"
    detail = assert_envelope_ok(client.get(base))
    assert detail["needs_you"]["reason"] == "handoff" and detail["needs_you"]["text"] == "a person please"
    assert detail["assigned_to"] is None
    assigned = assert_envelope_ok(client.post(f"{base}/assign", {"assignee_id": str(bob.pk)}, format="json"))
    assert assigned["assigned_to"] == str(bob.pk)
    assert_envelope_error(client.post(f"{base}/assign", {"assignee_id": str(charlie.pk)}, format="json"), 400)
    note = assert_envelope_ok(client.post(f"{base}/internal-notes", {"body": "Back gate"}, format="json"), 201)
    assert note["body"] == "Back gate" and note["author_id"] == str(alice.pk)
    assert [n["body"] for n in assert_envelope_ok(client.get(f"{base}/internal-notes"))] == ["Back gate"]
    assert assert_envelope_ok(client.post(f"{base}/handled"))["needs_you"] is None
    assert assert_envelope_ok(client.post(f"{base}/resolve"))["status"] == "resolved"
    reopened = assert_envelope_ok(client.post(f"{base}/reopen"))
    assert (reopened["status"], reopened["handled_by"]) == ("active", "human")
    assert assert_envelope_ok(client.post(f"{base}/handback"))["handled_by"] == "ai"
    assert twilio.messages() == []  # The note went to nobody.
    other = client_for(charlie)
    for path in ("", "/internal-notes", "/handled", "/reopen", "/handback"):
        response = other.post(f"{base}{path}") if path else other.get(base)
        assert response.status_code == 404, path


def test_the_seed_update_api_handing_back_or_resolving_clears_needs_you_too(alpha, alice, client_for):
    from django_tenants.utils import tenant_context

    from nevermisscall.testing import assert_envelope_ok

    with tenant_context(alpha):
        conversation = _conversation(handled_by="human")
        services.conversation_needs_you_set(conversation_id=conversation.pk, reason="handoff", text="a person")
    body = assert_envelope_ok(
        client_for(alice).put(f"/api/conversations/{conversation.pk}", {"handled_by": "ai"}, format="json")
    )
    assert body["needs_you"] is None and body["handled_by"] == "ai"
