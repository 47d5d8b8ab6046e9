"""The one way anything leaves a transaction: dashboard events, Celery hand-offs and in-process
callbacks are registered here and run only once the transaction that caused them commits.

Nothing else in the codebase calls ``transaction.on_commit`` or ``apply_async``.

- ``publish_to_group(group, event)``: a Channels group message (the live dashboard), best effort.
- ``enqueue(task, ident, schema=…)``: ``task(ident)`` for one business. Work handed off this way is
  committed as rows first (deliveries, call status events, inbound messages) and a beat sweep
  re-publishes what stays undone, so a lost hand-off only delays it.
- ``call(function)``: an in-process callback (a cache invalidation).

One daemon thread per process publishes after the commit, so a request never waits for Redis: the
thread drains whatever piled up, publishes one Celery message per (task, business) carrying all
their ids (publishing in the request was 18 % of the status webhook's CPU, bench/README.md), then
sends the events, in order, on its own event loop (``async_to_sync`` from a thread without a loop
built a loop and a Redis connection per event, about 5 ms each).

``running_here(task)``: inside, hand-offs of ``task`` run in this thread right after their commit
instead of being published, e.g. the missed-call task sends the text it queued itself (one task per
missed call). With ``task_always_eager`` (the tests) hand-offs run inline at the commit.
"""

import asyncio
import atexit
import logging
import os
import queue
import threading
from contextlib import contextmanager

from django.db import transaction

logger = logging.getLogger(__name__)

MAX_IDS_PER_MESSAGE = 50
# The Channels message type consumers implement (``dashboard_event`` handler).
CHANNEL_MESSAGE_TYPE = "dashboard.event"


class _Publisher:
    def __init__(self):
        self.pid = os.getpid()
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self._run, name="after-commit-publisher", daemon=True).start()

    def submit(self, item) -> None:
        self.queue.put(item)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        while True:
            batch = [self.queue.get()]
            while True:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._publish(batch)
            except Exception:  # A bug in one batch must not silence every later event of the process.
                logger.exception("could not publish a batch of %d items", len(batch))
                for item in batch:
                    if isinstance(item, threading.Event):
                        item.set()

    def _publish(self, batch: list) -> None:
        hand_offs: dict = {}  # (task name, schema) → (task, ids in arrival order)
        group_messages, markers = [], []
        for item in batch:
            if isinstance(item, threading.Event):
                markers.append(item)
            elif item[0] == "task":
                _, task, schema, ident, origin = item
                hand_offs.setdefault((task.name, schema), (task, [], origin))[1].append(ident)
            else:
                group_messages.append(item[1:])
        for (name, schema), (task, ids, origin) in hand_offs.items():
            try:
                with _origin(origin):
                    publish_now(task, ids, schema=schema)
            except Exception:  # Broker down: the rows are committed and the sweep re-publishes them.
                logger.warning("could not publish %s for %s (%d ids); the sweep will", name, schema, len(ids))
        if group_messages:
            self.loop.run_until_complete(_send_to_groups(group_messages))
        for marker in markers:  # flush(): everything submitted before the marker is out.
            marker.set()


async def _send_to_groups(group_messages: list) -> None:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    for group, event in group_messages:
        message = {"type": CHANNEL_MESSAGE_TYPE, "event": event}
        # Once more on a failure: after a Redis restart the first send of a process meets the
        # layer's dead connection, and the event would be lost although Redis is back.
        for attempt in (1, 2):
            try:
                await layer.group_send(group, message)
                break
            except Exception:
                if attempt == 2:
                    logger.exception("could not deliver %s to %s", event.get("type"), group)


def _capture_origin() -> tuple:
    """The request ID and trace context of the request whose commit hands work off, so the task
    message the publisher thread sends carries them (nevermisscall/celery.py, nevermisscall/tracing.py).
    A message carrying the ids of several requests carries the first one's."""
    from opentelemetry import context as otel_context

    from nevermisscall.middleware import request_id_var

    return request_id_var.get(), otel_context.get_current()


@contextmanager
def _origin(origin: tuple):
    from opentelemetry import context as otel_context

    from nevermisscall.middleware import request_id_var

    request_id, trace_context = origin
    request_token = request_id_var.set(request_id)
    trace_token = otel_context.attach(trace_context)
    try:
        yield
    finally:
        otel_context.detach(trace_token)
        request_id_var.reset(request_token)


_publisher: _Publisher | None = None
_publisher_lock = threading.Lock()


def _current_publisher() -> _Publisher:
    global _publisher
    with _publisher_lock:
        if _publisher is None or _publisher.pid != os.getpid():  # First use, or a forked child.
            _publisher = _Publisher()
        return _publisher


_here = threading.local()


@contextmanager
def running_here(task):
    """Hand-offs of ``task`` made inside run in this thread after their commit, not in a worker."""
    previous = getattr(_here, "tasks", frozenset())
    _here.tasks = previous | {task.name}
    try:
        yield
    finally:
        _here.tasks = previous


def publish_now(task, ids: list, *, schema: str) -> None:
    """Publish ``task(*ids)`` for the business ``schema`` now, ``MAX_IDS_PER_MESSAGE`` ids a message
    (the publisher thread, and the sweeps that re-publish what was lost)."""
    for start in range(0, len(ids), MAX_IDS_PER_MESSAGE):
        task.apply_async(args=ids[start : start + MAX_IDS_PER_MESSAGE], headers={"_schema_name": schema})


def enqueue(task, ident: str, *, schema: str) -> None:
    """Publish ``task(ident)`` for the business ``schema`` once the current transaction commits."""
    run_here = task.name in getattr(_here, "tasks", frozenset())

    def hand_off():
        if run_here:
            try:
                task.run(ident)
            except Exception:  # The row stays due; its sweep retries it.
                logger.exception("%s(%s) failed after the commit; the sweep will retry it", task.name, ident)
        elif task.app.conf.task_always_eager:
            task.apply_async(args=[ident], headers={"_schema_name": schema})
        else:
            _current_publisher().submit(("task", task, schema, ident, _capture_origin()))

    transaction.on_commit(hand_off)


def publish_to_group(group: str, event: dict) -> None:
    """Send ``event`` to a Channels group once the current transaction commits (best effort)."""
    transaction.on_commit(lambda: _current_publisher().submit(("group", group, event)))


def call(function) -> None:
    """Run ``function()`` in this process once the current transaction commits."""
    transaction.on_commit(function)


def flush(timeout: float = 5.0) -> bool:
    """Wait until everything submitted so far has been published (tests, shutdown)."""
    if _publisher is None or _publisher.pid != os.getpid():
        return True
    marker = threading.Event()
    _publisher.submit(marker)
    return marker.wait(timeout)


atexit.register(flush, 2.0)
