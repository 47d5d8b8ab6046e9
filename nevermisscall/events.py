"""Domain events for the live dashboard, published after the commit that caused them.

Envelope (seed 000): ``{type, payload, metadata: {timestamp, source_service, correlation_id}}``,
sent to the business's Channels group. Delivery is best effort: the database stays the source of
truth, so a channel-layer outage is logged and never fails the state change that raised the event.
"""

import asyncio
import json
import logging
import os
import threading
from datetime import UTC, datetime

from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

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
# The Channels message type consumers implement (``dashboard_event`` handler).
CHANNEL_MESSAGE_TYPE = "dashboard.event"


def dashboard_group(schema_name: str) -> str:
    """The group every dashboard of one business joins; the schema keeps businesses apart."""
    return f"tenant.{schema_name}.dashboard"


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


class _Publisher:
    """One event loop per process, on a daemon thread, that sends queued events in order.

    ``async_to_sync(group_send)`` from a thread without a running loop (a Celery task, a
    management command) builds a new event loop and a new Redis connection for every event, about
    5 ms each on this machine; handing the event to this loop costs a thread-safe queue put, and the
    request or task never waits for Redis.
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
            if isinstance(event, threading.Event):  # A flush() marker: everything before it is sent.
                event.set()
                continue
            layer = get_channel_layer()
            if layer is None:
                continue
            try:
                await layer.group_send(group, {"type": CHANNEL_MESSAGE_TYPE, "event": event})
            except Exception:
                logger.exception("could not deliver %s to %s", event.get("type"), group)

    def submit(self, group: str, event) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, (group, event))


_publisher: _Publisher | None = None
_publisher_lock = threading.Lock()


def _current_publisher() -> _Publisher:
    global _publisher
    with _publisher_lock:
        if _publisher is None or _publisher.pid != os.getpid():  # First use, or a forked child.
            _publisher = _Publisher()
        return _publisher


def send_to_group(group: str, event: dict) -> None:
    """Hand ``event`` to this process's publisher loop; it is sent in order, without waiting."""
    _current_publisher().submit(group, event)


def flush(timeout: float = 5.0) -> bool:
    """Wait until every event handed over so far has been sent (tests, graceful shutdown)."""
    marker = threading.Event()
    _current_publisher().submit("", marker)
    return marker.wait(timeout)


def publish_event(
    event_type: str,
    payload: dict,
    *,
    source_service: str,
    schema_name: str | None = None,
    user_id=None,
    correlation_id: str | None = None,
) -> dict:
    """Queue ``event_type`` for the current business's dashboards (or one user's), sent on commit.

    The schema is captured now, not at commit time, so the event goes to the business whose
    transaction raised it.
    """
    schema = schema_name or connection.schema_name
    event = build_event(event_type, payload, source_service=source_service, correlation_id=correlation_id)
    group = user_group(schema, user_id) if user_id is not None else dashboard_group(schema)
    transaction.on_commit(lambda: send_to_group(group, event))
    return event
