"""Where outbound SMS go, chosen by ``SMS_BACKEND``: ``twilio`` (REST API through the twilio SDK),
``console`` (logs the message and treats it as sent) or ``locmem`` (kept in memory, for tests).

Backends raise ``TransientSmsError`` for what is worth retrying (429, 5xx, connection errors,
connect timeouts), ``UncertainSmsError`` when the request may have been accepted (no answer within
the read timeout) and ``PermanentSmsError`` for what is not worth retrying (Twilio's 4xx, e.g.
21610 unsubscribed).
"""

import logging
import threading
import uuid
from dataclasses import dataclass

import requests
from django.conf import settings
from twilio.base import values
from twilio.base.exceptions import TwilioRestException

from nevermisscall.twilio_rest import twilio_client

logger = logging.getLogger(__name__)


class TransientSmsError(Exception):
    pass


class UncertainSmsError(Exception):
    """The provider got the request but did not answer in time: it may have accepted the message,
    and Twilio's Messages API has no idempotency key, so sending again could text someone twice."""


class PermanentSmsError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SmsRequest:
    to: str
    from_: str
    body: str
    status_callback: str


class TwilioBackend:
    name = "twilio"

    def send(self, sms: SmsRequest) -> str:
        try:
            created = twilio_client().messages.create(
                to=sms.to, from_=sms.from_, body=sms.body, status_callback=sms.status_callback or values.unset
            )
        except TwilioRestException as exc:
            if exc.status == 429 or exc.status >= 500:
                raise TransientSmsError(f"Twilio answered {exc.status}: {exc.msg}") from exc
            raise PermanentSmsError(str(exc.code or exc.status), str(exc.msg)) from exc
        except requests.ReadTimeout as exc:
            raise UncertainSmsError(f"Twilio did not answer within {settings.TWILIO_HTTP_TIMEOUT} s") from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientSmsError(f"Twilio unreachable: {exc.__class__.__name__}") from exc
        return created.sid


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
