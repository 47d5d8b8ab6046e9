"""Emergency notifiers for ``settings.DISPATCH_EMERGENCY_NOTIFIERS``: text the owner's forwarding
number from the business's own Twilio number, through the SMS backend and its circuit breaker.

Runs after the booking's commit (``emergency_owner_notify``) and hands the text to a Celery task,
which retries with exponential backoff for about an hour while the provider fails or its circuit is
open, so an outage delays the alert instead of losing it. The alert is not a customer message, so
it is not stored in a conversation; a number that replied STOP to the business is never texted.
A provider that did not answer in time is asked again: a doubled emergency alert costs the owner
less than a missing one.
"""

import logging

import pybreaker
from django.db import connection
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from apps.conversations.selectors import is_opted_out
from apps.conversations.sending import sms_breaker
from apps.conversations.sms.backends import SmsRequest, TransientSmsError, UncertainSmsError, get_backend
from apps.telephony.selectors import sending_number

logger = logging.getLogger(__name__)


def owner_sms(*, message: str, forwarding_number: str, appointment_id: str | None) -> str:
    """Queue the owner's alert for the current business. Returns ``queued`` or ``no_number``."""
    from apps.telephony.tasks import owner_alert_sms

    if not forwarding_number:
        return "no_number"
    owner_alert_sms.apply_async(
        kwargs={"message": message, "forwarding_number": forwarding_number},
        headers={"_schema_name": connection.schema_name},
    )
    return "queued"


def owner_sms_send(*, message: str, forwarding_number: str) -> str:
    """One round of attempts. Returns sent, no_number, opted_out, failed, or retry (the provider
    failed or its circuit is open: worth trying again later)."""
    sender = sending_number()
    if not forwarding_number or not sender:
        return "no_number"
    if is_opted_out(phone_number=forwarding_number):
        return "opted_out"
    sms = SmsRequest(to=forwarding_number, from_=sender, body=message[:1500], status_callback="")
    backend, breaker = get_backend(), sms_breaker()
    retrying = Retrying(
        retry=retry_if_exception_type((TransientSmsError, UncertainSmsError)),
        wait=wait_random_exponential(multiplier=0.1, max=1.0),
        stop=stop_after_attempt(3),
        reraise=True,
    )
    try:
        retrying(breaker.call, backend.send, sms)
    except pybreaker.CircuitBreakerError:
        logger.warning("owner emergency SMS held: the provider's circuit is open")
        return "retry"
    except (TransientSmsError, UncertainSmsError) as exc:
        logger.warning("owner emergency SMS to %s not sent yet: %s", forwarding_number, exc)
        return "retry"
    except Exception:
        logger.exception("owner emergency SMS to %s failed", forwarding_number)
        return "failed"
    return "sent"
