"""Celery tasks: they take ids, and are safe to run twice."""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.conversations import engine, services
from apps.conversations.models import Conversation, Message
from apps.conversations.selectors import inbound_unhandled
from apps.outbox.tasks import deliver
from apps.tenants.fanout import businesses_with_rows
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
    visits each business."""
    enqueued = 0
    now = timezone.now()
    # Only the businesses holding an undecided inbound text in the window (apps/tenants/fanout.py).
    busy = businesses_with_rows(
        table=Message._meta.db_table,
        where="direction = 'inbound' AND handled_at IS NULL AND created_at < %s AND created_at >= %s",
        params=[
            now - timedelta(seconds=settings.INBOUND_STALE_SECONDS),
            now - timedelta(hours=settings.CONVERSATION_IDLE_HOURS),
        ],
    )
    for business in busy:
        with tenant_context(business):
            due = [
                str(message_id)
                for message_id in inbound_unhandled(
                    older_than_seconds=settings.INBOUND_STALE_SECONDS, within_hours=settings.CONVERSATION_IDLE_HOURS
                )
            ]
            after_commit.publish_now(handle_inbound_message, due, schema=business.schema_name)
            enqueued += len(due)
    if enqueued:
        logger.info("inbound sweep handed %d messages to the engine", enqueued)
    return enqueued


@app.task(name="conversations.lead_idle_sweep", ignore_result=True)
def lead_idle_sweep() -> int:
    """Beat, every 10 minutes: a conversation quiet for ``CONVERSATION_IDLE_HOURS`` with no outcome
    gets one (price only or abandoned) on its lead record. One statement per business; safe to run
    twice."""
    closed = 0
    # Only the businesses with a quiet conversation still open (apps/tenants/fanout.py).
    busy = businesses_with_rows(
        table=Conversation._meta.db_table,
        where="status = 'active' AND lead_outcome = '' AND last_message_at < %s",
        params=[timezone.now() - timedelta(hours=settings.CONVERSATION_IDLE_HOURS)],
    )
    for business in busy:
        with tenant_context(business):
            closed += services.conversations_idle_close_leads(idle_hours=settings.CONVERSATION_IDLE_HOURS)
    if closed:
        logger.info("lead idle sweep closed %d conversations' leads", closed)
    return closed
