"""System alerts for platform staff, raised and cleared by the beat in the public schema: an open
circuit breaker, a failing health check, a deep queue, dead letters in the outbox."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from apps.alerts import services
from apps.alerts.models import Alert, Severity
from apps.outbox.models import Delivery
from nevermisscall import breakers, health


def _queue_depth() -> int | None:
    """Messages waiting in the Celery broker's default queue (None when Redis cannot say)."""
    try:
        client = health._redis_client()
        return int(client.llen(getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")))
    except Exception:
        return None


def system_conditions(*, now: datetime) -> dict[str, dict]:
    """fingerprint → the alert to have open now. Anything not listed clears."""
    conditions = {}
    for name, state in breakers.stored_states().items():
        if state == "open":
            conditions[f"system:breaker:{name}"] = {
                "alert_type": "circuit_open",
                "service": name,
                "severity": Severity.CRITICAL,
                "title": f"Circuit breaker {name} is open",
                "message": f"Calls to {name} are failing and are short-circuited.",
            }
    _overall, results = health.run_checks()
    for name, result in results.items():
        if result.status == health.UNHEALTHY:
            conditions[f"system:health:{name}"] = {
                "alert_type": "health_check_failed",
                "service": name,
                "severity": Severity.CRITICAL,
                "title": f"Health check {name} is failing",
                "message": result.message or "",
            }
    deliveries = Delivery.objects.aggregate(
        backlog=Count("id", filter=Q(status=Delivery.Status.QUEUED, next_attempt_at__lte=now - timedelta(minutes=5))),
        dead=Count("id", filter=Q(status=Delivery.Status.DEAD, created_at__gte=now - timedelta(hours=24))),
    )
    depth = _queue_depth()
    limit = settings.ALERT_QUEUE_DEPTH_LIMIT
    if (depth or 0) > limit or deliveries["backlog"] > limit:
        conditions["system:queue_depth"] = {
            "alert_type": "queue_depth",
            "service": "celery",
            "severity": Severity.WARNING,
            "title": "Work is piling up",
            "message": f"{depth} tasks in the broker, {deliveries['backlog']} deliveries overdue by 5 minutes.",
            "value": float(max(depth or 0, deliveries["backlog"])),
            "threshold": float(limit),
        }
    if deliveries["dead"]:
        conditions["system:dead_letters"] = {
            "alert_type": "dead_letters",
            "service": "outbox",
            "severity": Severity.WARNING,
            "title": "Deliveries gave up (dead letters)",
            "message": f"{deliveries['dead']} deliveries became dead letters in the last 24 hours.",
            "value": float(deliveries["dead"]),
        }
    return conditions


def system_alerts_check(*, now: datetime | None = None) -> dict:
    """Raise what is wrong and not yet open, clear what is open and no longer wrong (public schema)."""
    now = now or timezone.now()
    conditions = system_conditions(now=now)
    open_alerts = {
        alert.fingerprint: alert
        for alert in Alert.objects.filter(source=Alert.Source.SYSTEM).exclude(state=Alert.State.RESOLVED)
    }
    raised = resolved = 0
    for fingerprint, fields in conditions.items():
        if fingerprint not in open_alerts and services.alert_raise(
            fingerprint=fingerprint, source=Alert.Source.SYSTEM, now=now, **fields
        ):
            raised += 1
    for fingerprint, alert in open_alerts.items():
        if fingerprint not in conditions and services.alert_resolve(alert=alert, actor="", now=now, automatic=True):
            resolved += 1
    return {"raised": raised, "resolved": resolved}
