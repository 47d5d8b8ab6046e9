"""Send one outbox message: claim it, re-check opt-out, call the provider through its circuit
breaker with bounded retries (exponential backoff, jitter), record the outcome.

Safe to run twice and concurrently: the claim is a conditional UPDATE, and a message that is not
``queued`` (or stale ``sending``) is left alone. Transient failures put it back to ``queued`` for
the outbox sweep; an open circuit does the same without touching the provider.

A request the provider did not answer in time may have been accepted. It is not sent again at once:
the message stays claimed, and its status callback (which names the message) marks it sent if
Twilio took it; only if no callback came once the claim is stale (``SMS_SENDING_STALE_SECONDS``)
does the sweep send it again. A late text rather than a doubled one.
"""

import logging

import pybreaker
from django.conf import settings
from django.db import connection
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from apps.conversations import services
from apps.conversations.selectors import is_opted_out
from apps.conversations.sms.backends import (
    PermanentSmsError,
    SmsRequest,
    TransientSmsError,
    UncertainSmsError,
    get_backend,
)
from nevermisscall.breakers import get_breaker

logger = logging.getLogger(__name__)

ATTEMPTS_PER_RUN = 3


def sms_breaker() -> pybreaker.CircuitBreaker:
    return get_breaker(
        "twilio-sms",
        fail_max=settings.CIRCUIT_BREAKER_FAIL_MAX,
        reset_timeout=settings.CIRCUIT_BREAKER_RESET_SECONDS,
        exclude=(PermanentSmsError,),
    )


def status_callback_url(message) -> str:
    return (
        f"{settings.PUBLIC_BASE_URL}/webhooks/twilio/sms/status"
        f"?business_id={connection.tenant.id}&message_id={message.id}"
    )


def sms_send(*, message_id) -> str:
    """Returns what happened: sent, skipped, opted_out, failed, retry, unconfirmed or circuit_open."""
    message = services.message_claim(message_id=message_id)
    if message is None:
        return "skipped"
    if is_opted_out(phone_number=message.to_number):
        services.message_cancel(message=message, reason="opted out")
        return "opted_out"
    sms = SmsRequest(
        to=message.to_number,
        from_=message.from_number,
        body=message.body,
        status_callback=status_callback_url(message),
    )
    backend = get_backend()
    breaker = sms_breaker()

    first = True

    def attempt() -> str:
        nonlocal first
        if not first:  # The claim counted the first attempt.
            services.message_count_attempt(message=message)
        first = False
        return breaker.call(backend.send, sms)

    retrying = Retrying(
        retry=retry_if_exception_type(TransientSmsError),
        wait=wait_random_exponential(multiplier=0.1, max=2.0),
        stop=stop_after_attempt(ATTEMPTS_PER_RUN),
        reraise=False,
    )
    try:
        sid = retrying(attempt)
    except pybreaker.CircuitBreakerError:
        services.message_release(message=message, error="circuit open")
        logger.warning("SMS %s held: the provider's circuit is open", message.id)
        return "circuit_open"
    except UncertainSmsError as exc:
        services.message_hold_unconfirmed(message=message, error=str(exc))
        logger.warning("SMS %s: %s; waiting for its status callback before sending again", message.id, exc)
        return "unconfirmed"
    except PermanentSmsError as exc:
        services.message_mark_failed(message=message, code=exc.code, error=str(exc))
        logger.warning("SMS %s failed permanently: %s %s", message.id, exc.code, exc)
        return "failed"
    except RetryError as exc:
        error = str(exc.last_attempt.exception())
        if message.attempts >= settings.SMS_MAX_ATTEMPTS:
            services.message_mark_failed(message=message, code="max_attempts", error=error)
            return "failed"
        services.message_release(message=message, error=error)
        return "retry"
    services.message_mark_sent(message=message, provider_sid=sid)
    return "sent"
