"""What the outbox needs from the apps above it, registered from their ``AppConfig.ready`` so that
the dependencies point one way (every app may import the outbox; the outbox imports none of them).

- ``opt_out``: ``opt_out_rows(phone_number)``, a queryset that is non-empty when the number replied
  STOP to the current business (a queryset, so the send-time policy reads it in the statement that
  reads the quota), and ``record_opt_out(phone_number)`` (conversations owns the STOP list);
- ``default_sms_sender() -> str``: the business's texting number (telephony);
- ``cause listeners``: told, inside the transaction that changes it, whenever a delivery caused by
  one of their rows changes status (conversations mirrors its messages' status and publishes the
  dashboard events);
- ``cause links``: the dashboard page of a delivery's cause (conversations: a message's thread), so
  the deliveries page can link to it without importing the app that owns it;
- ``settled_sql(delivery, status, at, after=, previous=) -> (sql, params) | None``: more CTEs for
  the statement that changes a delivery's status from ``previous`` (out of ``sending``, or a
  provider's status callback; analytics: the business's delivery metrics), written only when that
  change matched (the CTE named ``after`` returned its row), so the figure costs no round trip and
  is rolled back with the change. Named parameters must not start with ``set_`` or ``delivery_``.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet


@dataclass
class _Hooks:
    opt_out_rows: Callable[[str], QuerySet | None] = lambda phone_number: None
    record_opt_out: Callable[[str], None] = lambda phone_number: None
    default_sms_sender: Callable[[], str] = lambda: ""
    settled_sql: Callable[..., tuple[str, dict] | None] = lambda delivery, status, at, after, previous: None

    def is_opted_out(self, phone_number: str) -> bool:
        rows = self.opt_out_rows(phone_number)
        return rows is not None and rows.exists()


hooks = _Hooks()
_cause_listeners: dict[str, Callable] = {}
_cause_links: dict[str, Callable[[str], str | None]] = {}


def register_opt_out(*, opt_out_rows: Callable[[str], QuerySet], record_opt_out: Callable[[str], None]) -> None:
    hooks.opt_out_rows, hooks.record_opt_out = opt_out_rows, record_opt_out


def register_default_sms_sender(function: Callable[[], str]) -> None:
    hooks.default_sms_sender = function


def register_settled_sql(function: Callable[..., tuple[str, dict] | None]) -> None:
    hooks.settled_sql = function


def register_cause_listener(cause_type: str, listener: Callable) -> None:
    """``listener(delivery, previous_status)`` runs in the transaction of every status change."""
    _cause_listeners[cause_type] = listener


def notify_cause(delivery, previous_status: str) -> None:
    listener = _cause_listeners.get(delivery.cause_type)
    if listener is not None:
        listener(delivery, previous_status)


def register_cause_link(cause_type: str, link: Callable[[str], str | None]) -> None:
    """``link(cause_id)``: the URL of the cause's dashboard page, read in the current business's
    schema, or None when it is gone."""
    _cause_links[cause_type] = link


def cause_link(delivery) -> str | None:
    link = _cause_links.get(delivery.cause_type)
    return link(delivery.cause_id) if link is not None and delivery.cause_id else None
