"""Round trips of the two hottest webhooks, pinned: every extra query is paid by every call of every
business (bench/README.md). Counted inside the test's transaction, so the webhook's own transaction
shows up as a savepoint pair instead of BEGIN / COMMIT; the number → business lookup is cached."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.telephony import services
from apps.telephony.models import CallStatusEvent
from apps.telephony.tests.conftest import new_call_sid, new_message_sid, payload

pytestmark = pytest.mark.django_db

CALLER = "+17735550163"
ALPHA_NUMBER = "+13125550111"


def post_incoming(webhook, call_sid):
    return webhook.post(
        "/webhooks/twilio/call",
        payload("voice_incoming", CallSid=call_sid, From=CALLER, Caller=CALLER, To=ALPHA_NUMBER, Called=ALPHA_NUMBER),
    )


def post_missed(webhook, call_sid):
    return webhook.post(
        f"/webhooks/twilio/call/status/{call_sid}",
        payload(
            "voice_dial_action",
            CallSid=call_sid,
            From=CALLER,
            Caller=CALLER,
            To=ALPHA_NUMBER,
            Called=ALPHA_NUMBER,
            DialCallStatus="no-answer",
            DialCallSid="CA" + "b" * 32,
            DialCallDuration="0",
        ),
    )


def statements(context) -> list[str]:
    return [query["sql"].split(None, 1)[0].upper() for query in context.captured_queries]


def test_incoming_call_webhook_query_count(alpha, webhook, django_capture_on_commit_callbacks):
    post_incoming(webhook, new_call_sid())  # Warms the number → business cache.
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as callbacks:
        assert post_incoming(webhook, new_call_sid()).status_code == 200
    # The routing columns of the config, then the call and its participants in one statement. In
    # production, in autocommit, no savepoint pairs are sent and the SET travels with the first
    # statement: two round trips; then the stored feed's row for incoming_call, published after the
    # call's block (one WITH … INSERT that resolves the caller's name itself, apps/analytics/feed.py).
    assert statements(queries) == ["SET", "SAVEPOINT", "SELECT", "RELEASE", "SAVEPOINT", "WITH", "RELEASE", "WITH"]
    assert len(callbacks) == 1  # incoming_call


def test_missed_call_status_webhook_query_count(alpha, webhook, django_capture_on_commit_callbacks):
    call_sid = new_call_sid()
    with django_capture_on_commit_callbacks():
        post_incoming(webhook, call_sid)
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as callbacks:
        response = post_missed(webhook, call_sid)
    assert response.status_code == 200
    assert b"<Say" in response.content  # The caller is still on the line: told a text is coming.
    # The outcome recorded, the call and the spoken answer's language read, in one statement. In
    # production, in autocommit, the savepoint pair is not sent and the SET travels with the
    # statement: one round trip (nevermisscall/tests/test_db.py).
    assert statements(queries) == ["SET", "SAVEPOINT", "WITH", "RELEASE"]
    assert len(callbacks) == 1  # the task that settles the call

    # The task (in the worker, BEGIN / COMMIT instead of the savepoint pair): search_path, the
    # outcome and the call locked, conversation upsert, opt-out and cooldown in one query, the
    # config, the outbox row with the conversation's last message time, the call, the outcome
    # marked applied.
    with (
        tenant_context(alpha),
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks() as callbacks,
    ):
        assert services.call_status_events_apply(call_sid=call_sid) == 1
    assert statements(queries) == [
        "SET",
        "SAVEPOINT",
        "SELECT",
        "SELECT",
        "INSERT",
        "SELECT",
        "SELECT",
        "WITH",
        "UPDATE",
        "WITH",  # The stored feed: call_missed,
        "WITH",  # and call_ended.
        "UPDATE",
        "RELEASE",
    ]
    assert len(callbacks) == 3  # send_sms enqueued, call_missed, call_ended


def test_redelivered_status_webhook_records_and_schedules_nothing(alpha, webhook, django_capture_on_commit_callbacks):
    call_sid = new_call_sid()
    with django_capture_on_commit_callbacks():
        post_incoming(webhook, call_sid)
        post_missed(webhook, call_sid)
    with django_capture_on_commit_callbacks() as callbacks:
        assert post_missed(webhook, call_sid).status_code == 200
    assert callbacks == []
    with tenant_context(alpha):
        assert CallStatusEvent.objects.filter(call_sid=call_sid).count() == 1


def test_missed_call_text_send_query_count(alpha, webhook, twilio, django_capture_on_commit_callbacks):
    """The text the task queued, sent: the claim and the send-time policy (opt-out, daily quota,
    texts sent today) in one statement, then the provider's answer, the attempt, the delivery and its
    message in one transaction: two commits, as before the outbox (bench/README.md)."""
    call_sid = new_call_sid()
    with django_capture_on_commit_callbacks():
        post_incoming(webhook, call_sid)
        post_missed(webhook, call_sid)
    with tenant_context(alpha), django_capture_on_commit_callbacks() as callbacks:
        services.call_status_events_apply(call_sid=call_sid)
    with tenant_context(alpha), CaptureQueriesContext(connection) as queries:
        for callback in callbacks:
            callback()
    assert len(twilio.messages()) == 1
    # The task's schema is set first (in production it travels with the claim); the transaction
    # shows up as a savepoint pair here, BEGIN / COMMIT in production.
    # The last WITH: message_sent in the stored feed. The send-time policy's read rides on the
    # claim (a WITH over the claimed row) since issue 10: one round trip less per text.
    assert statements(queries) == [
        "SET",
        "WITH",
        "SAVEPOINT",
        "WITH",  # The attempt,
        "WITH",  # the delivery settled (with its metrics when it has any),
        "UPDATE",  # its message,
        "WITH",
        "RELEASE",
    ]


def post_sms(webhook, body: str, message_sid: str | None = None):
    return webhook.post(
        "/webhooks/twilio/sms",
        payload("sms_incoming", MessageSid=message_sid or new_message_sid(), From=CALLER, To=ALPHA_NUMBER, Body=body),
    )


def test_inbound_sms_webhook_query_count(alpha, webhook, django_capture_on_commit_callbacks):
    """A customer's text (an assistant turn's webhook, bench.turn): whether the MessageSid is known
    and the sender opted out in one statement, the conversation upserted (and locked), the message
    inserted with the conversation's last-message time (no savepoint: a MessageSid stored meanwhile
    is an ``ON CONFLICT DO NOTHING``), the stored feed's row for new_message: 7 statements, 11
    before issue 10 (the two reads apart, a savepoint pair around the insert, the conversation's
    time an UPDATE of its own). In production BEGIN / COMMIT replace the outer savepoint pair."""
    with django_capture_on_commit_callbacks():
        post_sms(webhook, "Hi, is anyone there?")
    message_sid = new_message_sid()
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as callbacks:
        assert post_sms(webhook, "My water heater is leaking", message_sid).status_code == 200
    assert statements(queries) == ["SET", "SAVEPOINT", "SELECT", "INSERT", "WITH", "WITH", "RELEASE"]
    assert len(callbacks) == 2  # new_message, the engine's task
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as callbacks:
        assert post_sms(webhook, "My water heater is leaking", message_sid).status_code == 200  # Redelivered.
    assert statements(queries) == ["SET", "SAVEPOINT", "SELECT", "RELEASE"]
    assert callbacks == []
