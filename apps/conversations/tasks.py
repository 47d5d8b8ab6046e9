"""Celery tasks: they take ids, and are safe to run twice."""

import logging

from django.conf import settings
from django_tenants.utils import tenant_context

from apps.conversations import engine, sending
from apps.conversations.selectors import message_outbox_due
from apps.tenants.models import Business
from nevermisscall.celery import app

logger = logging.getLogger(__name__)


@app.task(name="conversations.send_sms", acks_late=True, ignore_result=True)
def send_sms(message_id: str) -> str:
    return sending.sms_send(message_id=message_id)


@app.task(name="conversations.handle_inbound_message", acks_late=True, ignore_result=True)
def handle_inbound_message(message_id: str) -> None:
    engine.conversation_handle_inbound(message_id=message_id)


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
