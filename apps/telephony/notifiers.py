"""Emergency notifiers for ``settings.DISPATCH_EMERGENCY_NOTIFIERS``: text the owner's forwarding
number from the business's own Twilio number, through the SMS backend and its circuit breaker.

Runs after the booking's commit (``emergency_owner_notify``). The alert is not a customer message,
so it is not stored in a conversation; a number that replied STOP to the business is never texted.
"""

import logging

import pybreaker
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from apps.conversations.selectors import is_opted_out
from apps.conversations.sending import sms_breaker
from apps.conversations.sms.backends import SmsRequest, TransientSmsError, get_backend
from apps.telephony.selectors import sending_number

logger = logging.getLogger(__name__)


def owner_sms(*, message: str, forwarding_number: str, appointment_id: str | None) -> str:
    """Returns what happened: sent, no_number, opted_out, circuit_open or failed."""
    sender = sending_number()
    if not forwarding_number or not sender:
        return "no_number"
    if is_opted_out(phone_number=forwarding_number):
        return "opted_out"
    sms = SmsRequest(to=forwarding_number, from_=sender, body=message[:1500], status_callback="")
    backend, breaker = get_backend(), sms_breaker()
    retrying = Retrying(
        retry=retry_if_exception_type(TransientSmsError),
        wait=wait_random_exponential(multiplier=0.1, max=1.0),
        stop=stop_after_attempt(3),
        reraise=True,
    )
    try:
        retrying(breaker.call, backend.send, sms)
    except pybreaker.CircuitBreakerError:
        logger.warning("owner emergency SMS not sent: the provider's circuit is open")
        return "circuit_open"
    except Exception:
        logger.exception("owner emergency SMS to %s failed", forwarding_number)
        return "failed"
    return "sent"
