"""Celery tasks: they take ids, and are safe to run twice."""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.conversations import engine, services
from apps.conversations.selectors import inbound_unhandled, inbound_unhandled_since, open_leads_quiet_since
from apps.outbox.tasks import deliver
from apps.tenants.fanout import INBOUND, LEAD_IDLE, business_marks_replace, businesses_marked
from nevermisscall import after_commit
from nevermisscall.celery import app

logger = logging.getLogger(__name__)


@app.task(name="conversations.handle_inbound_message", acks_late=True, ignore_result=True)
def handle_inbound_message(*message_ids: str) -> None:
    """The engine's decision on each message, in its own transaction (the publisher batches the
    messages of one business, nevermisscall/after_commit.py); one that fails is left to the sweep.

    The reply is sent from here, right after the commit that queued it, rather than by a second task
    (as the missed-call text is, ``telephony.apply_call_status_events``): the dispatcher's claim still
    guards it, and a worker that dies before sending leaves the committed delivery to the outbox
    sweep."""
    with after_commit.running_here(deliver):
        for message_id in message_ids:
            try:
                engine.conversation_handle_inbound(message_id=message_id)
            except Exception:
                logger.exception("could not handle inbound message %s; the inbound sweep will retry it", message_id)


@app.task(name="conversations.inbound_sweep", ignore_result=True)
def inbound_sweep() -> int:
    """Beat, every 30 s: hand to the engine the customers' texts it never decided on (the process
    died between the commit and the hand-off, the broker was down). Runs in the public schema and
    visits only the businesses marked with such work."""
    enqueued = 0
    due_by = timezone.now() - timedelta(seconds=settings.INBOUND_STALE_SECONDS)
    # Only the businesses marked with an undecided inbound text (apps/tenants/fanout.py).
    for business, marks in businesses_marked(kind=INBOUND, due_by=due_by):
        with tenant_context(business):
            due = [
                str(message_id)
                for message_id in inbound_unhandled(
                    older_than_seconds=settings.INBOUND_STALE_SECONDS, within_hours=settings.CONVERSATION_IDLE_HOURS
                )
            ]
            after_commit.publish_now(handle_inbound_message, due, schema=business.schema_name)
            enqueued += len(due)
            business_marks_replace(
                business=business,
                kind=INBOUND,
                seen=marks,
                next_at=inbound_unhandled_since(within_hours=settings.CONVERSATION_IDLE_HOURS),
            )
    if enqueued:
        logger.info("inbound sweep handed %d messages to the engine", enqueued)
    return enqueued


@app.task(name="conversations.lead_idle_sweep", ignore_result=True)
def lead_idle_sweep() -> int:
    """Beat, every 10 minutes: a conversation quiet for ``CONVERSATION_IDLE_HOURS`` with no outcome
    gets one (price only or abandoned) on its lead record. One statement per business; safe to run
    twice."""
    closed = 0
    due_by = timezone.now() - timedelta(hours=settings.CONVERSATION_IDLE_HOURS)
    # Only the businesses marked with an open lead that may have gone quiet (apps/tenants/fanout.py).
    for business, marks in businesses_marked(kind=LEAD_IDLE, due_by=due_by):
        with tenant_context(business):
            closed += services.conversations_idle_close_leads(idle_hours=settings.CONVERSATION_IDLE_HOURS)
            business_marks_replace(business=business, kind=LEAD_IDLE, seen=marks, next_at=open_leads_quiet_since())
    if closed:
        logger.info("lead idle sweep closed %d conversations' leads", closed)
    return closed
