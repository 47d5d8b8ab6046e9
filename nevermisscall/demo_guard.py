"""Demo businesses never reach a provider (docs/admin.md, "Demo businesses").

A demo business's customers, numbers and addresses are invented: a text, a call, a number bought,
an e-mail to a real address, a webhook, a push, a model call or a geocode made for it would spend
money on, or write to, somebody real. Every provider boundary asks ``refusal()`` (or
``current_business_is_demo()``) of the business it works for — the delivery's, or the current tenant
(``connection.tenant``) — whatever the backend settings:

- the outbox dispatcher (SMS, e-mail, webhooks, push): the delivery fails (code ``demo``, error
  ``demo: not sent …``) before any policy or transport runs, when its transport reaches somebody:
  SMS through Twilio (the console and locmem backends print or keep it: the README's missed-call
  walk-through on the demo business), e-mail through a mail server to an address outside the
  reserved domains (``.test``, ``.example``, ``example.com`` …, RFC 2606 — the demo's own
  addresses), every webhook and push;
- the Twilio REST client (SMS, calls, phone numbers): ``twilio_client()`` raises ``DemoNotSent``;
- OpenAI: ``openai_client()`` raises ``DemoNotSent``; the assistant and the owner's spoken
  summaries see no OpenAI configured and use the offline rules and espeak-ng;
- geocoding: ``get_geocoder()`` answers from the offline table, Google is not asked.
"""

from django.conf import settings
from django.db import connection

from nevermisscall.errors import BusinessRuleViolation

DEMO_NOT_SENT = "demo: not sent"
DEMO_CODE = "demo"  # A refused delivery's ``last_error_code``.

# RFC 2606 / RFC 6761: names that are nobody's mailbox.
RESERVED_TOP_LEVEL = {"test", "example", "invalid", "localhost"}
RESERVED_MAIL_DOMAINS = {"example.com", "example.net", "example.org"}
# Django's e-mail backends that deliver to nobody (they print, write a file, keep or drop it).
LOCAL_EMAIL_BACKENDS = {"console", "filebased", "locmem", "dummy"}


class DemoNotSent(BusinessRuleViolation):
    """Raised at a provider's client; never counts as the provider failing (nevermisscall/breakers.py)."""

    def __init__(self, provider: str):
        super().__init__(f"{DEMO_NOT_SENT} (demo business; {provider} is never called for it)")
        self.provider = provider


def current_business_is_demo() -> bool:
    """Whether the tenant the connection is set to is a demo business (never the public schema)."""
    return bool(getattr(getattr(connection, "tenant", None), "is_demo", False))


def reserved_mail_address(address: str) -> bool:
    labels = address.rpartition("@")[2].strip().lower().rstrip(".").split(".")
    return labels[-1] in RESERVED_TOP_LEVEL or ".".join(labels[-2:]) in RESERVED_MAIL_DOMAINS


def _reaches_somebody(channel: str, recipient: str) -> bool:
    if channel == "sms":
        return settings.SMS_BACKEND == "twilio"
    if channel == "email":
        local = settings.EMAIL_BACKEND.rsplit(".", 2)[-2] in LOCAL_EMAIL_BACKENDS
        return not local and not reserved_mail_address(recipient)
    return True  # A webhook or a push is a request to somebody's server.


def refusal(*, business, channel: str, recipient: str = "") -> str | None:
    """Why a delivery of ``business`` on ``channel`` to ``recipient`` must not be sent (None: it may)."""
    if business is None or not business.is_demo or not _reaches_somebody(channel, recipient):
        return None
    return f"{DEMO_NOT_SENT} (demo business; no {channel} leaves for it)"


def ensure_not_demo(provider: str) -> None:
    """At a provider's client: refuse when working for a demo business."""
    if current_business_is_demo():
        raise DemoNotSent(provider)
