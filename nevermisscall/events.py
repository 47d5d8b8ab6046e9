"""Domain events for the live dashboard, published after the commit that caused them.

Envelope (seed 000): ``{type, payload, metadata: {timestamp, source_service, correlation_id}}``,
sent to the business's Channels group. Delivery is best effort: the database stays the source of
truth, so a channel-layer outage is logged and never fails the state change that raised the event.
"""

import json
import logging
from datetime import UTC, datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils.module_loading import import_string
from django_tenants.utils import schema_context

from nevermisscall import after_commit
from nevermisscall.middleware import current_request_id

logger = logging.getLogger(__name__)

EVENT_TYPES = frozenset(
    {
        "connection_established",
        "heartbeat",
        "incoming_call",
        "call_answered",
        "call_missed",
        "call_ended",
        "new_message",
        "message_sent",
        "message_delivered",
        "ai_takeover",
        "ai_response",
        "human_takeover",
        "dashboard_update",
        "metrics_update",
        "widget_refresh",
        "service_status",
        "system_alert",
        "maintenance_mode",
    }
)


def dashboard_group(schema_name: str) -> str:
    """The group every dashboard of one business joins; the schema keeps businesses apart."""
    return f"tenant.{schema_name}.dashboard"


STAFF_GROUP = "platform.staff"


def staff_group() -> str:
    """Platform staff's live views (the operator page). Events published in the public schema (the
    system alerts) go here and only here: no business's socket ever joins it."""
    return STAFF_GROUP


def user_group(schema_name: str, user_id) -> str:
    return f"tenant.{schema_name}.user.{user_id}"


def build_event(event_type: str, payload: dict, *, source_service: str, correlation_id: str | None = None) -> dict:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    return {
        "type": event_type,
        "payload": json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),  # UUIDs, datetimes → strings
        "metadata": {
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "source_service": source_service,
            "correlation_id": correlation_id or current_request_id(),
        },
    }


def send_to_group(group: str, event: dict) -> None:
    """Hand ``event`` to the group once the current transaction commits (at once outside one)."""
    after_commit.publish_to_group(group, event)


def flush(timeout: float = 5.0) -> bool:
    """Wait until every event handed over so far has been sent (tests, graceful shutdown)."""
    return after_commit.flush(timeout)


_event_store = None


def _store(schema: str, event: dict) -> None:
    """Hand a business-wide event to ``settings.EVENT_STORE`` (the stored activity feed, written in
    the current transaction); what it returns travels with the live event as ``event["feed"]``."""
    global _event_store
    path = getattr(settings, "EVENT_STORE", None)
    if not path or schema == "public":
        return
    if _event_store is None or _event_store[0] != path:
        _event_store = (path, import_string(path))
    if schema == connection.schema_name:
        extra = _event_store[1](event)
    else:
        with schema_context(schema):
            extra = _event_store[1](event)
    if extra:
        event["feed"] = extra


def publish_event(
    event_type: str,
    payload: dict,
    *,
    source_service: str,
    schema_name: str | None = None,
    user_id=None,
    correlation_id: str | None = None,
) -> dict:
    """Queue ``event_type`` for the current business's dashboards (or one user's), sent on commit;
    in the public schema, for platform staff (``staff_group``).

    The schema is captured now, not at commit time, so the event goes to the business whose
    transaction raised it. Business-wide events are also stored (``settings.EVENT_STORE``) in the
    same transaction, so the feed survives a reload and a rollback leaves neither row nor message.
    """
    schema = schema_name or connection.schema_name
    event = build_event(event_type, payload, source_service=source_service, correlation_id=correlation_id)
    if user_id is None:
        _store(schema, event)
    if schema == "public":
        group = staff_group()
    elif user_id is not None:
        group = user_group(schema, user_id)
    else:
        group = dashboard_group(schema)
    after_commit.publish_to_group(group, event)
    return event
