"""Celery tasks: they take ids, and are safe to run twice."""

import logging

from django.conf import settings
from django_tenants.utils import tenant_context

from apps.conversations import engine, sending
from apps.conversations.selectors import inbound_unhandled, message_outbox_due
from apps.tenants.models import Business
from nevermisscall import handoff
from nevermisscall.celery import app

logger = logging.getLogger(__name__)


@app.task(name="conversations.send_sms", acks_late=True, ignore_result=True)
def send_sms(message_id: str) -> str:
    return sending.sms_send(message_id=message_id)


@app.task(name="conversations.handle_inbound_message", acks_late=True, ignore_result=True)
def handle_inbound_message(*message_ids: str) -> None:
    """The engine's decision on each message, in its own transaction (the publisher batches the
    messages of one business, nevermisscall/handoff.py); one that fails is left to the sweep."""
    for message_id in message_ids:
        try:
            engine.conversation_handle_inbound(message_id=message_id)
        except Exception:
            logger.exception("could not handle inbound message %s; the inbound sweep will retry it", message_id)


@app.task(name="conversations.sms_outbox_sweep", ignore_result=True)
def sms_outbox_sweep() -> int:
    """Beat, every 30 s: re-enqueue what was committed but never sent (lost hand-off, dead worker,
    transient provider failure, open circuit). Runs in the public schema and visits each business."""
    enqueued = 0
    for business in Business.objects.exclude(schema_name="public").filter(status=Business.Status.ACTIVE):
        with tenant_context(business):
            due = message_outbox_due(
                older_than_seconds=settings.SMS_OUTBOX_STALE_SECONDS,
                sending_stale_seconds=settings.SMS_SENDING_STALE_SECONDS,
            )
            for message_id in due:
                send_sms.apply_async(args=[str(message_id)], headers={"_schema_name": business.schema_name})
            enqueued += len(due)
    if enqueued:
        logger.info("outbox sweep re-enqueued %d SMS", enqueued)
    return enqueued


@app.task(name="conversations.inbound_sweep", ignore_result=True)
def inbound_sweep() -> int:
    """Beat, every 30 s: hand to the engine the customers' texts it never decided on (the process
    died between the commit and the hand-off, the broker was down). Runs in the public schema and
    visits each business."""
    enqueued = 0
    for business in Business.objects.exclude(schema_name="public").filter(status=Business.Status.ACTIVE):
        with tenant_context(business):
            due = [
                str(message_id)
                for message_id in inbound_unhandled(
                    older_than_seconds=settings.INBOUND_STALE_SECONDS, within_hours=settings.CONVERSATION_IDLE_HOURS
                )
            ]
            handoff.publish(handle_inbound_message, due, schema=business.schema_name)
            enqueued += len(due)
    if enqueued:
        logger.info("inbound sweep handed %d messages to the engine", enqueued)
    return enqueued
