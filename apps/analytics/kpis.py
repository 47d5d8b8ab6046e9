"""Stored KPI snapshots (``POST /api/kpis``): the figures ``GET /api/kpis`` computes, frozen at a
moment so an owner can compare this week with the one before after the 5-minute rollups are gone."""

from datetime import datetime

from apps.analytics import usage
from apps.analytics.models import KpiSnapshot

SNAPSHOTS_LISTED = 100


def kpi_snapshot_create(*, period: str, since: datetime, now: datetime) -> KpiSnapshot:
    """Compute the period's KPIs from the rollups now (one query) and store them (one insert)."""
    figures = usage.kpi_snapshot(usage.usage_read(since=since))
    return KpiSnapshot.objects.create(period=period, since=since, calculated_at=now, figures=figures)


def kpi_snapshots_list(*, since: datetime | None, until: datetime | None, period: str | None) -> list[KpiSnapshot]:
    """The newest ``SNAPSHOTS_LISTED`` snapshots calculated in [since, until), of one period or all."""
    rows = KpiSnapshot.objects.order_by("-calculated_at", "-id")
    if since:
        rows = rows.filter(calculated_at__gte=since)
    if until:
        rows = rows.filter(calculated_at__lt=until)
    if period:
        rows = rows.filter(period=period)
    return list(rows[:SNAPSHOTS_LISTED])


def kpi_snapshot_body(snapshot: KpiSnapshot) -> dict:
    return {
        "id": snapshot.id,
        "period": snapshot.period,
        "since": snapshot.since,
        "calculated_at": snapshot.calculated_at,
    } | snapshot.figures
