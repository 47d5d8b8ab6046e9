"""Exactly one SMS per missed call under redelivery and concurrency; retries, circuit breaker and
the outbox sweep when the provider fails."""

import threading
import time

import pytest
from django.test import override_settings
from django_tenants.utils import schema_context, tenant_context

from apps.conversations.models import Conversation, Message
from apps.outbox import tasks
from apps.outbox.dispatcher import breaker_for
from apps.outbox.models import Delivery
from apps.telephony.models import Call, CallStatusEvent
from apps.telephony.tests.conftest import TwilioWebhookClient, cleanup_committed, in_thread, new_call_sid, payload

pytestmark = pytest.mark.django_db

CALLER = "+17735550142"


def test_concurrent_deliveries_of_one_missed_call_send_one_sms(alpha, twilio):
    """Twilio retries a slow webhook: two deliveries of the same dial result arrive at once, each
    on its own connection and transaction. Exactly one text goes out."""
    caller = "+17735550191"
    call_sid = new_call_sid()
    barrier = threading.Barrier(2)
    responses = []

    def deliver():
        client = TwilioWebhookClient()
        barrier.wait()
        responses.append(
            client.post(
                f"/webhooks/twilio/call/status/{call_sid}",
                payload("voice_dial_action", CallSid=call_sid, From=caller, Caller=caller),
            ).status_code
        )

    try:
        threads = [in_thread(deliver) for _ in range(2)]
        for thread, errors in threads:
            thread.join(30)
            assert not errors, errors
        assert responses == [200, 200]
        assert len([r for r in twilio.messages() if r.form["To"] == caller]) == 1
        with tenant_context(alpha):
            assert Call.objects.filter(call_sid=call_sid).count() == 1
            assert CallStatusEvent.objects.filter(call_sid=call_sid).count() == 1  # The redelivery recorded nothing.
            assert Message.objects.filter(to_number=caller, kind=Message.Kind.AUTO_REPLY).count() == 1
            assert Message.objects.get(to_number=caller).status == Message.Status.SENT
    finally:
        cleanup_committed(alpha, caller)


def test_two_calls_from_one_caller_at_once_share_one_conversation_and_one_text(alpha, twilio):
    caller = "+17735550192"
    barrier = threading.Barrier(2)

    def missed_call():
        client = TwilioWebhookClient()
        call_sid = new_call_sid()
        barrier.wait()
        client.post(
            f"/webhooks/twilio/call/status/{call_sid}",
            payload("voice_dial_action", CallSid=call_sid, From=caller, Caller=caller),
        )

    try:
        threads = [in_thread(missed_call) for _ in range(2)]
        for thread, errors in threads:
            thread.join(30)
            assert not errors, errors
        assert len([r for r in twilio.messages() if r.form["To"] == caller]) == 1
        with tenant_context(alpha):
            assert Conversation.objects.filter(customer_number=caller).count() == 1
            assert Call.objects.filter(from_number=caller).count() == 2
    finally:
        cleanup_committed(alpha, caller)


def _delivery(message) -> Delivery:
    return Delivery.objects.get(cause_type="message", cause_id=str(message.id))


def _missed_call(webhook, caller=CALLER):
    call_sid = new_call_sid()
    webhook.post(
        f"/webhooks/twilio/call/status/{call_sid}",
        payload("voice_dial_action", CallSid=call_sid, From=caller, Caller=caller),
    )
    return call_sid


def test_provider_500_twice_then_201_sends_one_message(alpha, webhook, twilio, commit):
    twilio.fail(2, status=500)
    with commit():
        _missed_call(webhook)
    assert len(twilio.messages()) == 3  # Two 500s, then the 201.
    with tenant_context(alpha):
        message = Message.objects.get(to_number=CALLER)
        assert message.status == Message.Status.SENT
        assert _delivery(message).attempts == 3
        assert list(_delivery(message).attempt_rows.values_list("outcome", flat=True)) == ["transient"] * 2 + ["sent"]
        assert message.provider_sid


def test_rate_limited_by_provider_is_retried(alpha, webhook, twilio, commit):
    twilio.fail(1, status=429)
    with commit():
        _missed_call(webhook)
    with tenant_context(alpha):
        assert Message.objects.get(to_number=CALLER).status == Message.Status.SENT


@pytest.fixture
def quick_breaker():
    """The SMS breaker with a one-second reset timeout (the process-wide breaker, restored after)."""
    breaker = breaker_for("sms")
    reset_timeout = breaker.reset_timeout
    breaker.reset_timeout = 1
    yield breaker
    breaker.reset_timeout = reset_timeout
    breaker.close()


@override_settings(DELIVERY_HANDOFF_GRACE_SECONDS=0, DELIVERY_BACKOFF_BASE_SECONDS=0.5)
def test_provider_down_opens_the_circuit_and_the_sweep_sends_after_recovery(
    alpha, webhook, twilio, commit, quick_breaker
):
    twilio.set_down(True)
    callers = ["+17735550171", "+17735550172", "+17735550173"]
    with commit():
        for caller in callers:
            _missed_call(webhook, caller)
    breaker = quick_breaker
    assert breaker.current_state == "open"
    attempts_while_down = len(twilio.requests())
    assert attempts_while_down == 0  # Down: connections refused before anything is recorded.
    with tenant_context(alpha):
        statuses = set(Message.objects.filter(to_number__in=callers).values_list("status", flat=True))
        assert statuses == {Message.Status.QUEUED}
    # Still down, circuit open: the sweep does not even try.
    with commit():
        tasks.outbox_sweep.delay()
    with tenant_context(alpha):
        assert Message.objects.filter(to_number__in=callers, status=Message.Status.QUEUED).count() == 3

    twilio.set_down(False)
    time.sleep(1.1)  # The breaker's reset timeout: the next call is the half-open trial.
    with commit():
        tasks.outbox_sweep.delay()
    assert sorted(r.form["To"] for r in twilio.messages()) == callers
    assert breaker.current_state == "closed"
    with tenant_context(alpha):
        assert set(Message.objects.filter(to_number__in=callers).values_list("status", flat=True)) == {"sent"}


def _unconfirmed_missed_call(alpha, webhook, twilio, commit, settings, *, twilio_takes_it=True) -> Message:
    """A missed call whose text request is answered after the client's read timeout: Twilio took
    it (a message exists) or lost it (``twilio_takes_it=False``)."""
    settings.TWILIO_HTTP_TIMEOUT = 0.3
    twilio.slow(1, seconds=1.0, creates=twilio_takes_it)
    with commit():
        _missed_call(webhook)
    assert len(twilio.messages()) == 1  # Not sent again at once: Twilio may have taken it.
    with tenant_context(alpha):
        message = Message.objects.get(to_number=CALLER)
        assert message.status == Message.Status.SENDING
        assert message.error_message.startswith("unconfirmed")
    with commit(), schema_context("public"):
        tasks.outbox_sweep()  # While the claim is fresh, the sweep waits for the callback too.
    assert len(twilio.messages()) == 1
    twilio.wait_for_late_answers(1)  # As it is long before a claim goes stale.
    return message


def test_a_read_timeout_is_settled_by_the_status_callback_not_sent_twice(alpha, webhook, twilio, commit, settings):
    message = _unconfirmed_missed_call(alpha, webhook, twilio, commit, settings)
    with commit():
        response = webhook.post(
            f"/webhooks/twilio/sms/status?business_id={alpha.id}&delivery_id={_delivery(message).id}",
            payload("sms_status", MessageSid="SM" + "c" * 32, SmsSid="SM" + "c" * 32, MessageStatus="sent"),
        )
    assert response.status_code == 204
    settings.DELIVERY_SENDING_STALE_SECONDS = 0
    with commit(), schema_context("public"):
        assert tasks.outbox_sweep() == 0
    assert len(twilio.messages()) == 1
    with tenant_context(alpha):
        message.refresh_from_db()
        assert message.status == Message.Status.SENT
        assert message.provider_sid == "SM" + "c" * 32
        assert message.sent_at is not None


def test_a_read_timeout_without_a_callback_is_looked_up_at_twilio_not_sent_again(
    alpha, webhook, twilio, commit, settings
):
    message = _unconfirmed_missed_call(alpha, webhook, twilio, commit, settings)
    [accepted] = twilio.state.created
    settings.DELIVERY_SENDING_STALE_SECONDS = 0
    with commit(), schema_context("public"):
        assert tasks.outbox_sweep() == 1
    assert len(twilio.messages()) == 1  # Asked (GET Messages.json?To=…&From=…), not sent again.
    [lookup] = twilio.requests("GET", "/Messages.json")
    assert (lookup.query["To"], lookup.query["From"]) == (CALLER, accepted["from"])
    with tenant_context(alpha):
        message.refresh_from_db()
        assert message.status == Message.Status.SENT and message.provider_sid == accepted["sid"]
        assert _delivery(message).attempts == 2  # The unanswered request and the lookup that found it.


def test_a_read_timeout_twilio_lost_is_sent_again_once_the_claim_is_stale(alpha, webhook, twilio, commit, settings):
    message = _unconfirmed_missed_call(alpha, webhook, twilio, commit, settings, twilio_takes_it=False)
    settings.DELIVERY_SENDING_STALE_SECONDS = 0
    with commit(), schema_context("public"):
        assert tasks.outbox_sweep() == 1
    assert len(twilio.messages()) == 2 and len(twilio.state.created) == 1
    with tenant_context(alpha):
        message.refresh_from_db()
        assert message.status == Message.Status.SENT
        assert message.provider_sid == twilio.state.created[0]["sid"]
        assert _delivery(message).attempts == 2


def test_send_task_is_safe_to_run_twice(alpha, webhook, twilio, commit):
    with commit():
        _missed_call(webhook)
    with tenant_context(alpha):
        message = Message.objects.get(to_number=CALLER)
        assert tasks.deliver(str(_delivery(message).id)) == ["skipped"]
    assert len(twilio.messages()) == 1


@override_settings(DELIVERY_HANDOFF_GRACE_SECONDS=0, CALL_STATUS_STALE_SECONDS=0)
def test_a_lost_call_outcome_hand_off_is_applied_by_the_sweep(alpha, webhook, twilio, commit):
    """The webhook committed but the process died before enqueueing: no on_commit ran here. The call
    status sweep applies the recorded outcome, and its task sends the text; nothing is left over."""
    from apps.telephony import tasks as telephony_tasks

    call_sid = _missed_call(webhook)
    assert twilio.messages() == []
    with tenant_context(alpha):
        assert not Call.objects.filter(call_sid=call_sid).exists()
        assert CallStatusEvent.objects.get(call_sid=call_sid).processed_at is None
    with commit(), schema_context("public"):
        assert telephony_tasks.call_status_sweep() == 1
    with tenant_context(alpha):
        assert Call.objects.get(call_sid=call_sid).status == Call.Status.MISSED
        assert CallStatusEvent.objects.get(call_sid=call_sid).processed_at is not None
        assert Message.objects.get(to_number=CALLER).status == Message.Status.SENT
    with schema_context("public"):
        assert telephony_tasks.call_status_sweep() == 0  # Applied: nothing left to pick up.
        assert tasks.outbox_sweep() == 0
    assert len(twilio.messages()) == 1


@override_settings(DELIVERY_HANDOFF_GRACE_SECONDS=0)
def test_a_lost_send_hand_off_is_sent_by_the_outbox_sweep(alpha, webhook, twilio):
    """The missed call was settled and its text queued, but the process died before sending it."""
    from apps.telephony.services import call_status_events_apply

    call_sid = _missed_call(webhook)
    with tenant_context(alpha):
        call_status_events_apply(call_sid=call_sid)  # Its send hand-off (on_commit) never runs here.
        assert Message.objects.get(to_number=CALLER).status == Message.Status.QUEUED
    assert twilio.messages() == []
    with schema_context("public"):
        assert tasks.outbox_sweep() == 1
    assert len(twilio.messages()) == 1


def test_concurrent_runs_of_the_call_task_send_one_sms(alpha, twilio):
    """The task ran twice at once (the sweep re-enqueued a call whose first task was still running,
    or the broker redelivered it): each on its own connection and transaction. One text goes out."""
    from apps.telephony.tasks import apply_call_status_events

    caller = "+17735550193"
    call_sid = new_call_sid()
    data = {
        "from_number": caller,
        "to_number": "+13125550111",
        "dial_status": "no-answer",
        "dial_call_sid": "",
        "dial_duration": 0,
        "twilio_status": "in-progress",
    }

    def record():
        with tenant_context(alpha):
            CallStatusEvent.objects.create(call_sid=call_sid, kind="dial", status="no-answer", data=data)

    thread, errors = in_thread(record)
    thread.join(30)
    assert not errors, errors
    barrier = threading.Barrier(2)
    applied = []

    def apply():
        with tenant_context(alpha):
            barrier.wait()
            applied.append(apply_call_status_events(call_sid))

    try:
        threads = [in_thread(apply) for _ in range(2)]
        for thread, errors in threads:
            thread.join(30)
            assert not errors, errors
        assert sorted(applied) == [0, 1]
        assert len([r for r in twilio.messages() if r.form["To"] == caller]) == 1
        with tenant_context(alpha):
            assert Call.objects.get(call_sid=call_sid).status == Call.Status.MISSED
            assert Message.objects.filter(to_number=caller, kind=Message.Kind.AUTO_REPLY).count() == 1
    finally:
        cleanup_committed(alpha, caller)


def test_unsubscribed_recipient_error_21610_opts_the_number_out(alpha, webhook, twilio, commit):
    from apps.conversations.models import OptOut

    twilio.state.refuse[CALLER] = 21610
    with commit():
        _missed_call(webhook)
    with tenant_context(alpha):
        message = Message.objects.get(to_number=CALLER)
        assert message.status == Message.Status.FAILED
        assert message.error_code == "21610"
        assert OptOut.objects.get(phone_number=CALLER).opted_out
    assert breaker_for("sms").current_state == "closed"  # A refusal is not a provider failure.
    twilio.state.refuse.clear()
    with commit():
        with tenant_context(alpha):
            Conversation.objects.update(status="resolved")
        _missed_call(webhook)
    assert len(twilio.messages()) == 1
    with tenant_context(alpha):
        assert Call.objects.filter(auto_reply_skipped="opted_out").count() == 1
