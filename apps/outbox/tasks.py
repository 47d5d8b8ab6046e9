"""Celery tasks: they take ids, and are safe to run twice."""

import logging
from collections import defaultdict

from django.conf import settings
from django.utils import timezone

from apps.outbox import dispatcher, selectors
from nevermisscall import after_commit
from nevermisscall.celery import app

logger = logging.getLogger(__name__)


@app.task(name="outbox.deliver", acks_late=True, ignore_result=True)
def deliver(*delivery_ids: str) -> list[str]:
    """Send each delivery (one business's batch, nevermisscall/after_commit.py); one that fails
    unexpectedly stays due and is left to the sweep without holding up the others."""
    outcomes = []
    for delivery_id in delivery_ids:
        try:
            outcomes.append(dispatcher.delivery_send(delivery_id=delivery_id))
        except Exception:
            logger.exception("could not send delivery %s; the outbox sweep will retry it", delivery_id)
            outcomes.append("error")
    return outcomes


@app.task(name="outbox.sweep", ignore_result=True)
def outbox_sweep() -> int:
    """Beat: hand over every delivery that is due and nobody is sending: a lost hand-off (after
    ``DELIVERY_HANDOFF_GRACE_SECONDS``), a retry or hold whose time came, a claim gone stale. One
    query over the public table for every business; one Celery message per business batch."""
    due = selectors.deliveries_due(now=timezone.now(), limit=settings.DELIVERY_SWEEP_LIMIT)
    by_schema = defaultdict(list)
    for delivery_id, schema in due:
        by_schema[schema or "public"].append(str(delivery_id))
    for schema, ids in by_schema.items():
        after_commit.publish_now(deliver, ids, schema=schema)
    if due:
        logger.info("outbox sweep handed over %d deliveries", len(due))
    return len(due)
