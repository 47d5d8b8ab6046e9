"""Celery tasks: they take ids, and are safe to run twice."""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.outbox.tasks import deliver
from apps.telephony import services
from apps.tenants.fanout import CALL_STATUS, business_marks_replace, businesses_marked
from nevermisscall import after_commit
from nevermisscall.celery import app

logger = logging.getLogger(__name__)


@app.task(name="telephony.apply_call_status_events", acks_late=True, ignore_result=True)
def apply_call_status_events(*call_sids: str) -> int:
    """Settle each call from its recorded status callbacks (missed → conversation, auto-text, events)
    and send the text it queued right after that call's commit, here rather than in a second task.

    The publisher batches the calls of one business (nevermisscall/after_commit.py); each is settled
    in its own transaction, and one that fails is left to the sweep without holding up the others."""
    applied = 0
    with after_commit.running_here(deliver):
        for call_sid in call_sids:
            try:
                applied += services.call_status_events_apply(call_sid=call_sid)
            except Exception:
                logger.exception("could not settle call %s; the call status sweep will retry it", call_sid)
    return applied


@app.task(name="telephony.call_status_sweep", ignore_result=True)
def call_status_sweep() -> int:
    """Beat, every 30 s: re-enqueue call outcomes recorded but never applied (the process died
    between the commit and the enqueue, the broker was down, a worker died). Runs in the public
    schema and visits only the businesses marked with such work."""
    enqueued = 0
    due_by = timezone.now() - timedelta(seconds=settings.CALL_STATUS_STALE_SECONDS)
    # Only the businesses marked with an unapplied outcome that old (apps/tenants/fanout.py).
    for business, marks in businesses_marked(kind=CALL_STATUS, due_by=due_by):
        with tenant_context(business):
            due = services.call_status_events_due(older_than_seconds=settings.CALL_STATUS_STALE_SECONDS)
            after_commit.publish_now(apply_call_status_events, due, schema=business.schema_name)
            enqueued += len(due)
            business_marks_replace(
                business=business, kind=CALL_STATUS, seen=marks, next_at=services.call_status_events_pending_since()
            )
    if enqueued:
        logger.info("call status sweep re-enqueued %d calls", enqueued)
    return enqueued
