"""The owner hears about an emergency at once. This is the extension point for that.

``emergency_owner_notify(...)`` runs every callable named in ``settings.DISPATCH_EMERGENCY_NOTIFIERS``
after the current transaction commits (so a rolled-back booking alerts nobody). The built-in
``dashboard_alert`` publishes a ``system_alert`` to the business's live dashboard. The telephony
app adds its own notifier that texts ``forwarding_number`` from a retrying Celery task:

    DISPATCH_EMERGENCY_NOTIFIERS = [
        "apps.dispatch.notifications.dashboard_alert",
        "apps.telephony.notifiers.owner_sms",   # def owner_sms(*, message, forwarding_number, appointment_id)
    ]

A notifier that raises is logged and does not stop the others.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from nevermisscall.events import publish_event

logger = logging.getLogger(__name__)


def dashboard_alert(*, message: str, forwarding_number: str, appointment_id: str | None) -> None:
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


def _notifiers():
    return [import_string(path) for path in settings.DISPATCH_EMERGENCY_NOTIFIERS]


def emergency_owner_notify(*, message: str, forwarding_number: str, appointment_id: str | None = None) -> int:
    """Tell the owner about an emergency, on commit. Returns how many notifiers were queued."""
    notifiers = _notifiers()

    def run():
        for notifier in notifiers:
            try:
                notifier(message=message, forwarding_number=forwarding_number, appointment_id=appointment_id)
            except Exception:
                logger.exception("emergency notifier %s failed", notifier)

    transaction.on_commit(run)
    return len(notifiers)
