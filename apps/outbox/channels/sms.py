"""SMS, through the backend ``SMS_BACKEND`` names: ``twilio`` (the REST API through the twilio SDK),
``console`` (logs the message and treats it as sent) or ``locmem`` (kept in memory, for tests).

The Twilio backend maps the SDK's errors onto the outbox's taxonomy: 429 and 5xx, refused
connections and connect timeouts are transient; a read timeout is uncertain (Twilio's Messages
API has no idempotency key, so the request may have been accepted); any other 4xx is permanent
(21610: the number replied STOP to Twilio).
"""

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from twilio.base import values
from twilio.base.exceptions import TwilioRestException

from apps.outbox.channels import PermanentError, SendResult, TransientError, UncertainError
from nevermisscall.twilio_rest import twilio_client

logger = logging.getLogger(__name__)

BREAKER = "twilio-sms"
# The lookup before a repeat reads this many of the recipient's newest messages from this sender,
# created no earlier than the first unanswered request (less this, for clocks that disagree).
LOOKUP_PAGE = 20
LOOKUP_CLOCK_SKEW = timedelta(minutes=2)


@dataclass(frozen=True)
class SmsRequest:
    to: str
    from_: str
    body: str
    status_callback: str
    validity_period: int | None = None


class TwilioBackend:
    name = "twilio"

    def send(self, sms: SmsRequest) -> str:
        try:
            created = twilio_client().messages.create(
                to=sms.to,
                from_=sms.from_,
                body=sms.body,
                status_callback=sms.status_callback or values.unset,
                validity_period=sms.validity_period or values.unset,
            )
        except TwilioRestException as exc:
            answer = f"{exc.status} {exc.code or ''} {exc.msg}".strip()
            if exc.status == 429 or exc.status >= 500:
                raise TransientError(
                    f"Twilio answered {exc.status}: {exc.msg}", provider_status=str(exc.status), provider_answer=answer
                ) from exc
            raise PermanentError(str(exc.code or exc.status), str(exc.msg), provider_answer=answer) from exc
        except requests.ReadTimeout as exc:
            raise UncertainError(f"Twilio did not answer within {settings.TWILIO_HTTP_TIMEOUT} s") from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(f"Twilio unreachable: {exc.__class__.__name__}") from exc
        return created.sid

    def find(self, sms: SmsRequest, *, since: datetime) -> str | None:
        """The sid of a message Twilio accepted for ``sms`` since ``since``, if any: Twilio's
        Messages API takes no idempotency key, so before a request that got no answer is repeated
        the message list (by recipient and sender, newest first) is asked whether it arrived."""
        try:
            recent = twilio_client().messages.list(to=sms.to, from_=sms.from_, limit=LOOKUP_PAGE)
        except TwilioRestException as exc:
            raise TransientError(f"Twilio answered {exc.status} to the message lookup: {exc.msg}") from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(f"Twilio unreachable for the message lookup: {exc.__class__.__name__}") from exc
        earliest = since - LOOKUP_CLOCK_SKEW
        for message in recent:
            if message.body == sms.body and message.date_created and message.date_created >= earliest:
                return message.sid
        return None


class ConsoleBackend:
    name = "console"

    def send(self, sms: SmsRequest) -> str:
        sid = "SMconsole" + uuid.uuid4().hex[:23]
        logger.info("SMS (console backend) %s -> %s: %s", sms.from_, sms.to, sms.body)
        return sid


class LocmemBackend:
    """Keeps every message in ``outbox`` (tests read it)."""

    name = "locmem"
    outbox: list[SmsRequest] = []
    _lock = threading.Lock()

    def send(self, sms: SmsRequest) -> str:
        with self._lock:
            self.outbox.append(sms)
        return "SMlocmem" + uuid.uuid4().hex[:24]


BACKENDS = {"twilio": TwilioBackend, "console": ConsoleBackend, "locmem": LocmemBackend}


def get_backend():
    return BACKENDS[settings.SMS_BACKEND]()


def status_callback_url(delivery) -> str:
    base = f"{settings.PUBLIC_BASE_URL}/webhooks/twilio/sms/status?"
    business = f"business_id={delivery.business_id}&" if delivery.business_id else ""
    return f"{base}{business}delivery_id={delivery.id}"


def _request(delivery, *, validity_period: int | None = None) -> SmsRequest:
    return SmsRequest(
        to=delivery.recipient,
        from_=delivery.sender,
        body=delivery.payload["body"],
        status_callback=status_callback_url(delivery),
        validity_period=validity_period,
    )


def send(delivery, *, validity_period: int | None) -> SendResult:
    return SendResult(
        provider_ref=get_backend().send(_request(delivery, validity_period=validity_period)), provider_status="201"
    )


def find_accepted(delivery, *, since: datetime) -> SendResult | None:
    """The message an unanswered request for ``delivery`` created at the provider, if it did
    (backends that always answer have nothing to look up)."""
    backend = get_backend()
    find = getattr(backend, "find", None)
    sid = find(_request(delivery), since=since) if find else None
    return SendResult(provider_ref=sid, provider_status="found") if sid else None
