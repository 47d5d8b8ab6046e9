"""The outbox's guarantees: committed rows are sent exactly once whatever crashes or races, retries
follow the error taxonomy, dead letters can be retried, owner alerts outlive a long outage."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from apps.analytics.models import MetricEvent, MetricRollup
from apps.outbox import services, tasks
from apps.outbox.dispatcher import breaker_for, delivery_send
from apps.outbox.models import Delivery
from apps.telephony.tests.conftest import in_thread

pytestmark = pytest.mark.django_db

RECIPIENT = "+13125550161"
OWNER = "+13125550199"  # Alpha's forwarding number (telephony test base).


@pytest.fixture(autouse=True)
def closed_breaker():
    breaker_for("sms").close()
    yield
    breaker_for("sms").close()


def _queue(alpha, **fields) -> Delivery:
    with tenant_context(alpha):
        return services.delivery_queue_sms(to=fields.pop("to", RECIPIENT), purpose="test", **{"body": "Hi", **fields})


def _sent_to(twilio, number: str) -> list:
    return [request for request in twilio.messages() if request.form["To"] == number]


def _sweep():
    with schema_context("public"):
        return tasks.outbox_sweep()


def test_crash_between_commit_and_send_is_sent_once_by_the_sweep(alpha, twilio, settings):
    """The row committed but the process died before its hand-off ran (no on_commit here)."""
    settings.DELIVERY_HANDOFF_GRACE_SECONDS = 0
    delivery = _queue(alpha)
    assert twilio.messages() == []
    assert _sweep() == 1
    assert _sweep() == 0
    assert len(_sent_to(twilio, RECIPIENT)) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 1


def test_a_fresh_row_is_left_to_its_hand_off(alpha, twilio):
    _queue(alpha)
    assert _sweep() == 0  # Within the grace period: its own hand-off sends it.


def test_two_dispatchers_racing_for_the_same_rows_send_each_once(alpha, twilio):
    """Committed rows, two threads on their own connections sending the same ids at once."""
    numbers = [f"+1312555017{digit}" for digit in range(5)]
    ids = []

    def create():
        with tenant_context(alpha), transaction.atomic():
            for number in numbers:
                delivery = services.sms_delivery_build(to=number, body="Race", purpose="test")
                delivery.save(force_insert=True)  # No hand-off: the racers below are the dispatchers.
                ids.append(delivery.id)

    thread, errors = in_thread(create)
    thread.join(30)
    assert not errors, errors
    barrier = threading.Barrier(2)
    outcomes = []

    def race():
        barrier.wait()
        outcomes.extend(delivery_send(delivery_id=delivery_id) for delivery_id in ids)

    try:
        threads = [in_thread(race) for _ in range(2)]
        for thread, errors in threads:
            thread.join(30)
            assert not errors, errors
        assert sorted(outcomes).count("sent") == 5 and outcomes.count("skipped") == 5
        assert sorted(request.form["To"] for request in twilio.messages()) == numbers
    finally:

        def cleanup():
            Delivery.objects.filter(pk__in=ids).delete()
            with tenant_context(alpha):  # The texts were counted in Alpha's rollups; others read them.
                MetricRollup.objects.filter(metric="sms_sent").delete()
                MetricEvent.objects.filter(metric="sms_sent").delete()

        thread, errors = in_thread(cleanup)
        thread.join(30)
        assert not errors, errors


def test_provider_500_three_times_then_201_is_one_message_and_four_attempts(alpha, twilio, commit):
    twilio.fail(3, status=500)
    with commit():
        delivery = _queue(alpha)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.QUEUED and delivery.attempts == 3  # One run of quick retries.
    assert delivery.next_attempt_at > timezone.now()
    assert _sweep() == 0  # Not due before its backoff.
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1), tick=True):
        assert _sweep() == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 4
    attempts = list(delivery.attempt_rows.values_list("number", "outcome", "provider_status"))
    assert attempts == [(1, "transient", "500"), (2, "transient", "500"), (3, "transient", "500"), (4, "sent", "201")]
    assert len(_sent_to(twilio, RECIPIENT)) == 4  # Three refused, one accepted.


def test_a_permanent_refusal_fails_at_once(alpha, twilio, commit):
    twilio.state.refuse[RECIPIENT] = 21211
    with commit():
        delivery = _queue(alpha)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error_code) == ("failed", 1, "21211")
    assert breaker_for("sms").current_state == "closed"


@pytest.mark.parametrize("twilio_took_it", [True, False])
def test_ambiguous_timeout_waits_for_the_callback_then_asks_twilio_before_sending_again(
    alpha, twilio, commit, settings, twilio_took_it
):
    settings.TWILIO_HTTP_TIMEOUT = 0.3
    twilio.slow(1, seconds=1.0, creates=twilio_took_it)
    with commit():
        delivery = _queue(alpha)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENDING and delivery.last_error_code == "unconfirmed"
    assert list(delivery.attempt_rows.values_list("outcome", flat=True)) == ["uncertain"]
    assert _sweep() == 0  # The claim is fresh: no resend while the callback may come.
    twilio.wait_for_late_answers(1)
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.DELIVERY_SENDING_STALE_SECONDS + 1)):
        assert _sweep() == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2
    assert len(twilio.state.created) == 1  # One text at Twilio either way.
    assert delivery.provider_ref == twilio.state.created[0]["sid"]
    assert len(_sent_to(twilio, RECIPIENT)) == (1 if twilio_took_it else 2)


def test_a_lookup_that_fails_is_retried_later_and_never_becomes_a_blind_resend(alpha, twilio, commit, settings):
    settings.TWILIO_HTTP_TIMEOUT = 0.3
    twilio.slow(1, seconds=1.0)
    with commit():
        delivery = _queue(alpha)
    twilio.wait_for_late_answers(1)
    twilio.fail(1, status=503)  # The lookup itself fails.
    later = timezone.now() + timedelta(seconds=settings.DELIVERY_SENDING_STALE_SECONDS + 1)
    with time_machine.travel(later):
        assert _sweep() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error_code) == (Delivery.Status.QUEUED, "unconfirmed")
    assert delivery.last_error.startswith("lookup:") and delivery.attempts == 2
    with time_machine.travel(later + timedelta(hours=1)):  # Past its backoff: looked up again, and found.
        assert _sweep() == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.provider_ref == twilio.state.created[0]["sid"]
    assert len(_sent_to(twilio, RECIPIENT)) == 1


def test_dead_letter_after_the_last_attempt_and_a_manual_retry_that_succeeds(alpha, alice, twilio, commit, client_for):
    twilio.fail(2, status=503)
    with commit():
        delivery = _queue(alpha, max_attempts=2)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error_code) == ("dead", 2, "503")
    assert "503" in delivery.last_error
    with commit():
        response = client_for(alice).post(f"/api/deliveries/{delivery.id}/retry")
    assert response.status_code == 202, response.content
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 3
    assert delivery.idempotency_key.startswith("sms:")  # The same row, the same key.
    again = client_for(alice).post(f"/api/deliveries/{delivery.id}/retry")
    assert again.status_code == 422 and again.json()["error"]["code"] == "BUSINESS_RULE_VIOLATION"


def test_owner_emergency_text_survives_a_provider_outage_longer_than_an_hour(alpha, twilio, commit):
    """Twilio answers 503 for 70 minutes; each run is one half-open trial that fails and backs off.
    The alert is never dead-lettered and goes out once when Twilio is back."""
    from apps.dispatch.notifications import emergency_owner_notify

    twilio.fail(100000, status=503)
    started = timezone.now()
    with commit(), tenant_context(alpha):
        queued = emergency_owner_notify(message="EMERGENCY burst pipe", forwarding_number=OWNER, reference="outage")
    [alert] = [delivery for delivery in queued if delivery.channel == "sms"]
    runs = 0
    with time_machine.travel(started, tick=False) as clock:
        while True:
            alert.refresh_from_db()
            assert alert.status == Delivery.Status.QUEUED, alert.last_error
            if alert.next_attempt_at > started + timedelta(minutes=70):
                break
            clock.move_to(alert.next_attempt_at + timedelta(seconds=1))
            _sweep()
            runs += 1
        twilio.fail(0)
        clock.move_to(alert.next_attempt_at + timedelta(seconds=1))
        _sweep()
    alert.refresh_from_db()
    assert alert.status == Delivery.Status.SENT
    assert alert.attempts < settings.DELIVERY_OWNER_ALERT_MAX_ATTEMPTS and runs >= 8
    assert alert.attempt_rows.filter(outcome="sent").count() == 1


def test_opt_out_between_queue_and_send_sends_nothing(alpha, twilio, settings):
    from apps.conversations.models import OptOut

    settings.DELIVERY_HANDOFF_GRACE_SECONDS = 0
    delivery = _queue(alpha)
    with tenant_context(alpha):
        OptOut.objects.create(phone_number=RECIPIENT, source="staff")  # Not through the service: no cancel.
    assert _sweep() == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.CANCELED and delivery.attempts == 0
    assert twilio.messages() == []


def test_opting_out_cancels_what_waits(alpha, twilio):
    from apps.conversations.services import opt_out_set

    delivery = _queue(alpha)
    with tenant_context(alpha):
        opt_out_set(phone_number=RECIPIENT, source="keyword", keyword="STOP")
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.CANCELED


def test_validity_period_goes_to_twilio_per_kind(alpha, twilio, commit):
    with commit():
        _queue(alpha)
        _queue(alpha, to="+13125550162", expires_at=timezone.now() + timedelta(minutes=30))
    validity = {request.form["To"]: int(request.form["ValidityPeriod"]) for request in twilio.messages()}
    assert validity[RECIPIENT] == settings.SMS_VALIDITY_SECONDS["transactional"]
    assert 1790 <= validity["+13125550162"] <= 1800


def test_an_expired_text_is_never_sent_late(alpha, twilio, settings):
    settings.DELIVERY_HANDOFF_GRACE_SECONDS = 0
    delivery = _queue(alpha, expires_at=timezone.now() + timedelta(minutes=5))
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        _sweep()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and "Expired" in delivery.last_error
    assert twilio.messages() == []
