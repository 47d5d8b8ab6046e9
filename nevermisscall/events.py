"""Domain events for the live dashboard: one publisher, sent after the commit that caused them.

Every event goes to the Channels group ``tenant.<schema>.dashboard`` in seed 000's websocket
envelope ``{type, payload, metadata: {timestamp, source_service, correlation_id}}``.
"""

import json
import logging
from datetime import UTC, datetime

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

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
# The consumer method that receives these group messages (``dashboard_event``).
CHANNEL_MESSAGE_TYPE = "dashboard.event"


def dashboard_group(schema_name: str) -> str:
    return f"tenant.{schema_name}.dashboard"


def _jsonable(payload: dict) -> dict:
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


def build_event(event_type: str, payload: dict, *, source_service: str, correlation_id: str | None = None) -> dict:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    rid = correlation_id or current_request_id()
    return {
        "type": event_type,
        "payload": _jsonable(payload),
        "metadata": {
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "source_service": source_service,
            "correlation_id": None if rid == "-" else rid,
        },
    }


def _send(group: str, event: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": CHANNEL_MESSAGE_TYPE, "event": event})
    except Exception:  # The dashboard is best effort; the state change is already committed.
        logger.warning("could not publish %s to %s", event["type"], group, exc_info=True)


def publish_event(tenant, event_type: str, payload: dict, *, source_service: str = "nevermisscall") -> None:
    """Publish ``event_type`` to ``tenant``'s dashboard once the current transaction commits."""
    event = build_event(event_type, payload, source_service=source_service)
    group = dashboard_group(tenant.schema_name)
    transaction.on_commit(lambda: _send(group, event))
