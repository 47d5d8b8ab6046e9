"""The outbox in ``/health/detailed`` and ``/metrics/prometheus``: how many deliveries are waiting
(queued, sending, and held for quiet hours, quota or an open circuit) and how many of the last
24 hours were sent, delivered, failed, dead or canceled, over every business."""

from datetime import timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily

from nevermisscall import health

_registered = False


def _counts() -> dict:
    from apps.outbox import selectors

    counts = selectors.delivery_counts(since=timezone.now() - timedelta(hours=24))
    counts["oldest_due_seconds"] = selectors.delivery_oldest_pending_seconds()
    return counts


def check_outbox() -> health.CheckResult:
    try:
        counts = _counts()
    finally:
        connections["default"].close()  # Runs on a health-check thread: give the connection back.
    oldest = counts["oldest_due_seconds"]
    if counts["dead"] or (oldest is not None and oldest > settings.DELIVERY_BACKLOG_WARNING_SECONDS):
        message = (
            f"{counts['dead']} dead deliveries" if counts["dead"] else f"oldest due delivery waited {oldest:.0f} s"
        )
        return health.CheckResult(health.DEGRADED, message, counts)
    return health.CheckResult(health.HEALTHY, details=counts)


class OutboxCollector:
    def describe(self):
        """Names only: without this, registering would query the database at start-up."""
        yield GaugeMetricFamily("nmc_outbox_deliveries", "Deliveries in the outbox by status", labels=["status"])
        yield GaugeMetricFamily("nmc_outbox_held", "Queued deliveries held back, by reason", labels=["reason"])
        yield GaugeMetricFamily("nmc_outbox_oldest_due_seconds", "Age of the oldest delivery due and not sent")

    def collect(self):
        counts = _counts()
        by_status = GaugeMetricFamily("nmc_outbox_deliveries", "Deliveries in the outbox by status", labels=["status"])
        for status in ("queued", "sending", "sent", "delivered", "failed", "dead", "canceled"):
            by_status.add_metric([status], counts[status])
        yield by_status
        held = GaugeMetricFamily("nmc_outbox_held", "Queued deliveries held back, by reason", labels=["reason"])
        for reason in ("quiet_hours", "quota", "circuit_open"):
            held.add_metric([reason], counts[f"held_{reason}"])
        yield held
        yield GaugeMetricFamily(
            "nmc_outbox_oldest_due_seconds",
            "Age of the oldest delivery due and not sent",
            value=counts["oldest_due_seconds"] or 0,
        )


def register() -> None:
    global _registered
    health.register_check("outbox", check_outbox, timeout=3.0)
    if not _registered:
        REGISTRY.register(OutboxCollector())
        _registered = True
