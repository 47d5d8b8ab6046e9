"""Beat: alert evaluation, notification, escalation and snoozes for every business, then the
platform's own (system) alerts. Safe to run twice: every change is a conditional UPDATE."""

import logging

from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from apps.alerts import services, system
from apps.alerts.selectors import alerting_work
from apps.tenants.models import Business
from nevermisscall.celery import app

logger = logging.getLogger(__name__)


def business_alerts_cycle(*, now=None) -> services.Outcome:
    """One beat cycle for the current business: one query tells whether anything is to do (enabled
    rules, a notification or escalation due, a snooze ending); a business with nothing costs that."""
    now = now or timezone.now()
    work = alerting_work(now=now)
    outcome = services.Outcome()
    if work.snoozes_ended:
        services.alerts_unsnooze_expired(now=now)
    if work.has_rules:
        outcome = services.rules_evaluate(now=now)
    if work.notifications_due:
        outcome.notified += services.alerts_notify_due(now=now)
    return outcome


@app.task(name="alerts.evaluate_all", ignore_result=True)
def evaluate_all() -> int:
    """Every active business's cycle, then the system alerts (public schema)."""
    now = timezone.now()
    raised = 0
    for business in Business.objects.exclude(schema_name="public").filter(status=Business.Status.ACTIVE):
        try:
            with tenant_context(business):
                raised += business_alerts_cycle(now=now).raised
        except Exception:  # One business's broken rule must not stop the others'.
            logger.exception("alert cycle failed for business %s", business.id)
    with schema_context("public"):
        system.system_alerts_check(now=now)
        services.alerts_notify_due(now=now)
    return raised
