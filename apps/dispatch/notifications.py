"""The owner hears about an emergency at once: a ``system_alert`` on the live dashboard, a text to
the forwarding number, an e-mail to the business's address, and an ``emergency.detected`` event to
the business's webhook endpoints. Everything but the dashboard event is a delivery in the outbox,
committed with the booking (or the conversation turn) that found the emergency: a rolled-back
booking alerts nobody, and a provider outage delays the text (retried for hours) instead of losing
it.
"""

import logging
import uuid

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from apps.outbox import services as outbox
from apps.outbox.hooks import hooks
from apps.tenants.config.services import config_get
from nevermisscall.events import publish_event

logger = logging.getLogger(__name__)

OWNER_SMS_MAX_CHARACTERS = 600


def emergency_owner_notify(
    *, message: str, forwarding_number: str, reference: str, appointment_id: str | None = None
) -> list:
    """Alert the owner once per ``reference`` (the conversation or session that found it), in the
    caller's transaction. Returns the deliveries queued."""
    business = connection.tenant
    reference = reference or appointment_id or str(uuid.uuid4())
    publish_event(
        "system_alert",
        {
            "alert_type": "emergency_job",
            "severity": "critical",
            "message": message,
            "forwarding_number": forwarding_number,
            "appointment_id": appointment_id,
        },
        source_service="dispatch",
    )
    cause = ("appointment", appointment_id) if appointment_id else ("conversation", reference)
    deliveries = _owner_sms(
        message=message, forwarding_number=forwarding_number, key=f"owner-alert:sms:{reference}", cause=cause
    )
    if business.email:
        deliveries += _once(
            lambda: outbox.delivery_queue_email(
                to=business.email,
                template="outbox/email/emergency_alert",
                context={"business_name": business.name, "message": message, "appointment_id": appointment_id},
                purpose="owner_alert",
                idempotency_key=f"owner-alert:email:{reference}",
                language=config_get().language,
                cause=cause,
            )
        )
    deliveries += outbox.webhook_event_emit(
        event_type="emergency.detected",
        data={"message": message, "appointment_id": appointment_id, "reference": reference},
        event_id=f"emergency:{reference}",
        cause=cause,
    )
    return deliveries


OWNER_NOTICES = {
    # kind: (dashboard alert type, severity, webhook event or None)
    "handoff": ("customer_wants_a_person", "warning", "conversation.handoff_requested"),
    "follow_up": ("team_follow_up", "info", None),
}


def owner_notify(*, kind: str, message: str, forwarding_number: str, reference: str) -> list:
    """Tell the owner something the assistant promised the customer they would hear about (a
    customer asked for a person; a request the team must answer): a text, once per conversation
    (``reference``) and ``kind``, and the dashboard. Returns the deliveries queued."""
    alert_type, severity, webhook_event = OWNER_NOTICES[kind]
    publish_event(
        "system_alert",
        {"alert_type": alert_type, "severity": severity, "message": message, "reference": reference},
        source_service="dispatch",
    )
    cause = ("conversation", reference)
    deliveries = _owner_sms(
        message=message, forwarding_number=forwarding_number, key=f"owner-{kind}:sms:{reference}", cause=cause
    )
    if webhook_event:
        deliveries += outbox.webhook_event_emit(
            event_type=webhook_event,
            data={"message": message, "reference": reference},
            event_id=f"{kind}:{reference}",
            cause=cause,
        )
    return deliveries


def _owner_sms(*, message: str, forwarding_number: str, key: str, cause: tuple) -> list:
    """A text to the owner's phone that survives long outages, once per ``key``."""
    if not forwarding_number or hooks.is_opted_out(forwarding_number):
        return []
    return _once(
        lambda: outbox.delivery_queue_sms(
            to=forwarding_number,
            body=message[:OWNER_SMS_MAX_CHARACTERS],
            purpose="owner_alert",
            idempotency_key=key,
            cause=cause,
            max_attempts=settings.DELIVERY_OWNER_ALERT_MAX_ATTEMPTS,
            check_opt_out=False,
        )
    )


def _once(queue) -> list:
    """The delivery ``queue()`` makes, or nothing when this alert was queued before (same key)."""
    try:
        with transaction.atomic():
            return [queue()]
    except IntegrityError:
        return []
