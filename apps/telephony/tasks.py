"""Celery tasks: they take ids, and are safe to run twice."""

import logging

from django.conf import settings
from django_tenants.utils import tenant_context

from apps.conversations import sending
from apps.conversations import services as conversation_services
from apps.telephony import notifiers, services
from apps.tenants.models import Business
from nevermisscall import handoff
from nevermisscall.celery import app

logger = logging.getLogger(__name__)


@app.task(name="telephony.apply_call_status_events", acks_late=True, ignore_result=True)
def apply_call_status_events(*call_sids: str) -> int:
    """Settle each call from its recorded status callbacks (missed → conversation, auto-text, events),
    then send the text it queued, after that call's commit, instead of through a second task.

    The publisher batches the calls of one business (nevermisscall/handoff.py); each is settled in
    its own transaction, and one that fails is left to the sweep without holding up the others."""
    applied = 0
    for call_sid in call_sids:
        try:
            with conversation_services.sends_collected() as queued:
                applied += services.call_status_events_apply(call_sid=call_sid)
        except Exception:
            logger.exception("could not settle call %s; the call status sweep will retry it", call_sid)
            continue
        for message_id in queued:
            sending.sms_send(message_id=message_id)
    return applied


@app.task(name="telephony.call_status_sweep", ignore_result=True)
def call_status_sweep() -> int:
    """Beat, every 30 s: re-enqueue call outcomes recorded but never applied (the process died
    between the commit and the enqueue, the broker was down, a worker died). Runs in the public
    schema and visits each business."""
    enqueued = 0
    for business in Business.objects.exclude(schema_name="public").filter(status=Business.Status.ACTIVE):
        with tenant_context(business):
            due = services.call_status_events_due(older_than_seconds=settings.CALL_STATUS_STALE_SECONDS)
            handoff.publish(apply_call_status_events, due, schema=business.schema_name)
            enqueued += len(due)
    if enqueued:
        logger.info("call status sweep re-enqueued %d calls", enqueued)
    return enqueued


OWNER_ALERT_MAX_RETRIES = 12  # 5 s doubling to 10 minutes: about an hour in all.


@app.task(name="telephony.owner_alert_sms", bind=True, acks_late=True, ignore_result=True)
def owner_alert_sms(self, *, message: str, forwarding_number: str) -> str:
    """Text the owner an emergency alert; while the provider fails, try again with backoff."""
    outcome = notifiers.owner_sms_send(message=message, forwarding_number=forwarding_number)
    if outcome == "retry" and self.request.retries < OWNER_ALERT_MAX_RETRIES:
        raise self.retry(countdown=min(600, 5 * 2**self.request.retries), max_retries=OWNER_ALERT_MAX_RETRIES)
    if outcome == "retry":
        logger.error("owner emergency SMS to %s abandoned after %d tries", forwarding_number, self.request.retries + 1)
    return outcome
