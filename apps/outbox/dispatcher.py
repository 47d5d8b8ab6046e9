"""Send one delivery: claim it, let the channel's policy decide (at send time, not only when it was
queued), call the provider through its circuit breaker with a few quick retries, store every
attempt, and settle the row by the error taxonomy (``apps.outbox.channels``).

Safe to run twice and concurrently: the claim is a conditional UPDATE, so two dispatchers never
send one row. Slow I/O happens with no transaction open; each outcome is written in its own short
transaction that re-checks the row is still ours. A request the provider may have accepted is not
repeated blind: the row stays claimed until its status callback settles it or the claim goes stale
(a late text rather than a doubled one).
"""

import logging
from contextlib import nullcontext
from datetime import timedelta

import pybreaker
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from apps.outbox import policy, selectors, services
from apps.outbox.channels import ChannelError, PermanentError, TransientError, UncertainError, transport_for
from apps.outbox.models import Channel, Delivery, DeliveryAttempt
from nevermisscall import demo_guard
from nevermisscall.breakers import get_breaker

logger = logging.getLogger(__name__)

BREAKERS = {
    Channel.SMS: "twilio-sms",
    Channel.EMAIL: "smtp",
    Channel.WEBHOOK: "outgoing-webhooks",
    Channel.PUSH: "web-push",
}


def breaker_for(channel: str) -> pybreaker.CircuitBreaker:
    return get_breaker(
        BREAKERS[channel],
        fail_max=settings.CIRCUIT_BREAKER_FAIL_MAX,
        reset_timeout=settings.CIRCUIT_BREAKER_RESET_SECONDS,
        exclude=(PermanentError,),
    )


def _business_context(delivery: Delivery):
    business = delivery.business
    if business is None or getattr(connection, "schema_name", None) == business.schema_name:
        return nullcontext()
    return tenant_context(business)


def delivery_send(*, delivery_id) -> str:
    """Returns what happened: sent, delivered, skipped, held, canceled, failed, retry, dead,
    unconfirmed or circuit_open."""
    now = timezone.now()
    delivery = services.delivery_claim(delivery_id=delivery_id, now=now)
    if delivery is None:
        return "skipped"
    with _business_context(delivery):
        return _send_claimed(delivery, now=now)


def _decide(delivery: Delivery, now) -> policy.Decision:
    business = delivery.business
    if business is not None and business.status != business.Status.ACTIVE:
        # A suspended business sends nothing, not even what was queued before (docs/admin.md).
        return policy.Decision("fail", "The business is suspended.")
    if delivery.channel == Channel.SMS:
        return policy.sms_decide(delivery, now=now)
    if delivery.expires_at is not None and now >= delivery.expires_at:
        return policy.Decision("fail", "Expired before it could be sent.")
    return policy.SEND


def _send_claimed(delivery: Delivery, *, now) -> str:
    refused = demo_guard.refusal(business=delivery.business, channel=delivery.channel, recipient=delivery.recipient)
    if refused:  # A demo business's customers are invented: nothing of theirs reaches a provider.
        services.delivery_fail(delivery=delivery, code=demo_guard.DEMO_CODE, error=refused)
        return "failed"
    decision = _decide(delivery, now)
    if decision.action == "cancel":
        services.delivery_fail(
            delivery=delivery, code="opted_out", error=decision.reason, status=Delivery.Status.CANCELED
        )
        return "canceled"
    if decision.action == "fail":
        services.delivery_fail(delivery=delivery, code="policy", error=decision.reason)
        return "failed"
    if decision.action == "hold":
        services.delivery_hold(delivery=delivery, until=decision.until, reason=decision.reason, hold=decision.hold)
        return "held"

    transport = transport_for(delivery.channel)
    unconfirmed = delivery.last_error_code == services.UNCONFIRMED
    if unconfirmed and (outcome := _accepted_after_all(transport, delivery)) is not None:
        return outcome
    breaker = breaker_for(delivery.channel)
    options = {}
    if delivery.channel == Channel.SMS:
        options["validity_period"] = policy.sms_validity_seconds(delivery, now=now)
    retrying = Retrying(
        retry=retry_if_exception_type(TransientError),
        wait=wait_random_exponential(multiplier=0.1, max=2.0),
        stop=stop_after_attempt(
            max(1, min(settings.DELIVERY_ATTEMPTS_PER_RUN, delivery.max_attempts - delivery.attempts))
        ),
        reraise=False,
    )
    attempts_before = delivery.attempts
    try:
        result, started = retrying(breaker.call, _attempt, transport, delivery, options)
    except pybreaker.CircuitBreakerError as exc:
        if delivery.attempts > attempts_before:  # Our own failure tripped it: back off like any failure.
            return services.delivery_retry_later(delivery=delivery, error=str(exc), now=timezone.now(), code="circuit")
        until = timezone.now() + timedelta(seconds=max(1.0, float(breaker.reset_timeout)))
        services.delivery_hold(
            delivery=delivery, until=until, reason="The provider's circuit is open.", hold=Delivery.Hold.CIRCUIT_OPEN
        )
        logger.warning("delivery %s held: the %s circuit is open", delivery.id, breaker.name)
        return "circuit_open"
    except UncertainError as exc:
        services.delivery_hold_unconfirmed(delivery=delivery, error=str(exc), now=timezone.now())
        logger.warning("delivery %s: %s; waiting for its status callback before sending again", delivery.id, exc)
        return "unconfirmed"
    except PermanentError as exc:
        services.delivery_fail(delivery=delivery, code=exc.code, error=str(exc))
        logger.warning("delivery %s failed permanently: %s %s", delivery.id, exc.code, exc)
        return "failed"
    except RetryError as exc:
        error = exc.last_attempt.exception()
        return services.delivery_retry_later(
            delivery=delivery, error=str(error), now=timezone.now(), code=getattr(error, "provider_status", "")
        )
    services.delivery_mark_sent(delivery=delivery, result=result, started_at=started, now=timezone.now())
    return "delivered" if result.delivered else "sent"


def _accepted_after_all(transport, delivery: Delivery) -> str | None:
    """Before repeating a request that got no answer (and no status callback since): ask the
    provider whether it accepted it. A found message settles the row as sent; a failed lookup
    retries later rather than sending blind; ``None``: not there, send it."""
    since = selectors.delivery_first_uncertain_attempt_at(delivery=delivery)
    started = timezone.now()
    try:
        result = transport.find_accepted(delivery, since=since)
    except TransientError as exc:  # Counted as an attempt (it backs off, and dead-letters in the end).
        error = f"lookup: {exc}"
        services.attempt_record(
            delivery=delivery, started_at=started, outcome=DeliveryAttempt.Outcome.TRANSIENT, error=error
        )
        return services.delivery_retry_later(
            delivery=delivery, error=error, now=timezone.now(), code=services.UNCONFIRMED
        )
    if result is None:
        return None
    now = timezone.now()
    services.delivery_mark_sent(delivery=delivery, result=result, started_at=now, now=now)
    logger.warning("delivery %s: the provider had it after all (%s); not sent again", delivery.id, result.provider_ref)
    return "sent"


OUTCOMES = {
    TransientError: DeliveryAttempt.Outcome.TRANSIENT,
    UncertainError: DeliveryAttempt.Outcome.UNCERTAIN,
    PermanentError: DeliveryAttempt.Outcome.PERMANENT,
}


def _attempt(transport, delivery: Delivery, options: dict):
    """One call to the provider; a failure is stored as an attempt here (inside the breaker, so a
    failure that trips it is recorded too), a success with the outcome, in its transaction (one
    commit fewer on every text). Returns the result and when the attempt started."""
    started = timezone.now()
    try:
        return transport.send(delivery, **options), started
    except ChannelError as exc:
        services.attempt_record(
            delivery=delivery,
            started_at=started,
            outcome=OUTCOMES[type(exc)],
            provider_status=exc.provider_status,
            provider_answer=exc.provider_answer,
            error=str(exc),
        )
        raise
    except Exception as exc:  # A bug or an unexpected library error: retried, then dead-lettered.
        logger.exception("delivery %s: unexpected error from the %s transport", delivery.id, delivery.channel)
        services.attempt_record(
            delivery=delivery, started_at=started, outcome=DeliveryAttempt.Outcome.TRANSIENT, error=repr(exc)
        )
        raise TransientError(f"unexpected error: {exc!r}") from exc
