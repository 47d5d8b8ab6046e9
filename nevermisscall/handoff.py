"""Celery hand-offs published by one background thread per process, after the commit, in batches.

For work whose rows are committed before its task is published and which a beat sweep re-publishes
when they stay unapplied (the call status events), a lost hand-off only delays the work. So the
request need not wait for the broker: ``enqueue_on_commit()`` costs a queue put once the
transaction commits, and the publisher thread drains whatever has piled up and publishes one task
message per (task, business) carrying all their ids. The task takes ``*ids``. Publishing in the
request was 18 % of the status webhook's CPU under load (py-spy; bench/README.md), most of it
Celery's and kombu's per-message bookkeeping, paid once per batch here.

With ``task_always_eager`` (the tests) the task runs inline at the commit, as ``apply_async`` would.
"""

import atexit
import logging
import os
import queue
import threading

from django.db import transaction

logger = logging.getLogger(__name__)

MAX_IDS_PER_MESSAGE = 50


class _Publisher:
    def __init__(self):
        self.pid = os.getpid()
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._run, name="task-handoff", daemon=True).start()

    def submit(self, item) -> None:
        self.queue.put(item)

    def _run(self) -> None:
        while True:
            batch = [self.queue.get()]
            while True:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            self._publish(batch)

    @staticmethod
    def _publish(batch: list) -> None:
        groups: dict = {}  # (task name, schema) → (task, ids in arrival order)
        markers = []
        for item in batch:
            if isinstance(item, threading.Event):
                markers.append(item)
                continue
            task, schema, ident = item
            groups.setdefault((task.name, schema), (task, []))[1].append(ident)
        for (name, schema), (task, ids) in groups.items():
            try:
                publish(task, ids, schema=schema)
            except Exception:  # Broker down: the rows are committed and the sweep re-publishes them.
                logger.warning("could not publish %s for %s (%d ids); the sweep will", name, schema, len(ids))
        for marker in markers:  # flush(): everything submitted before the marker is published.
            marker.set()


_publisher: _Publisher | None = None
_publisher_lock = threading.Lock()


def _current_publisher() -> _Publisher:
    global _publisher
    with _publisher_lock:
        if _publisher is None or _publisher.pid != os.getpid():  # First use, or a forked child.
            _publisher = _Publisher()
        return _publisher


def publish(task, ids: list, *, schema: str) -> None:
    """Publish ``task(*ids)`` for the business ``schema`` now, ``MAX_IDS_PER_MESSAGE`` ids a message
    (the publisher thread, and the sweeps that re-publish what was lost)."""
    for start in range(0, len(ids), MAX_IDS_PER_MESSAGE):
        task.apply_async(args=ids[start : start + MAX_IDS_PER_MESSAGE], headers={"_schema_name": schema})


def enqueue_on_commit(task, ident: str, *, schema: str) -> None:
    """Publish ``task(ident)`` for the business ``schema`` once the current transaction commits."""

    def hand_off():
        if task.app.conf.task_always_eager:
            task.apply_async(args=[ident], headers={"_schema_name": schema})
        else:
            _current_publisher().submit((task, schema, ident))

    transaction.on_commit(hand_off)


def flush(timeout: float = 5.0) -> bool:
    """Wait until every hand-off submitted so far has been published (tests, shutdown)."""
    if _publisher is None or _publisher.pid != os.getpid():
        return True
    marker = threading.Event()
    _publisher.submit(marker)
    return marker.wait(timeout)


atexit.register(flush, 2.0)
