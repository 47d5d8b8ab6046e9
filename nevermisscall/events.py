"""Domain events for the live dashboard: one publisher, sent after the commit that caused them.

Every event goes to the Channels group ``tenant.<schema>.dashboard`` in seed 000's websocket
envelope ``{type, payload, metadata: {timestamp, source_service, correlation_id}}``.
"""

import asyncio
import json
import logging
import os
import threading
from datetime import UTC, datetime

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


class _Publisher:
    """One event loop per process, on a daemon thread, that sends queued events in order.

    ``async_to_sync(group_send)`` from a thread without a running loop builds a new event loop and a
    new Redis connection for every event (about 5 ms each, measured); a request or task handing its
    events to this loop pays a thread-safe queue put instead and never waits for Redis.
    """

    def __init__(self):
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.queue: asyncio.Queue | None = None
        started = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.queue = asyncio.Queue()
            self.loop.create_task(self._drain())
            started.set()
            self.loop.run_forever()

        threading.Thread(target=run, name="event-publisher", daemon=True).start()
        started.wait()

    async def _drain(self) -> None:
        while True:
            group, event = await self.queue.get()
            layer = get_channel_layer()
            if layer is None:
                continue
            try:
                await layer.group_send(group, {"type": CHANNEL_MESSAGE_TYPE, "event": event})
            except Exception:  # The dashboard is best effort; the state change is already committed.
                logger.warning("could not publish %s to %s", event["type"], group, exc_info=True)

    def submit(self, group: str, event: dict) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, (group, event))


_publisher: _Publisher | None = None
_publisher_lock = threading.Lock()


def _send(group: str, event: dict) -> None:
    global _publisher
    with _publisher_lock:
        if _publisher is None or _publisher.pid != os.getpid():  # New process (Celery prefork child).
            _publisher = _Publisher()
        publisher = _publisher
    publisher.submit(group, event)


def publish_event(tenant, event_type: str, payload: dict, *, source_service: str = "nevermisscall") -> None:
    """Publish ``event_type`` to ``tenant``'s dashboard once the current transaction commits."""
    event = build_event(event_type, payload, source_service=source_service)
    group = dashboard_group(tenant.schema_name)
    transaction.on_commit(lambda: _send(group, event))
