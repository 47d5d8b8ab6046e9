"""Reads of the alerts app (the current schema: a business, or the public schema's system alerts)."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Count, Q, QuerySet

from apps.alerts.models import Alert, AlertEvent, AlertRule


@dataclass(frozen=True)
class AlertingWork:
    has_rules: bool
    notifications_due: bool
    snoozes_ended: bool


_WORK_SQL = """
    SELECT EXISTS (SELECT 1 FROM {rule} WHERE is_enabled),
           EXISTS (SELECT 1 FROM {alert} WHERE state = 'active' AND next_notification_at <= %s),
           EXISTS (SELECT 1 FROM {alert} WHERE state = 'snoozed' AND snoozed_until <= %s)
"""
_TIMES_SQL = """
    SELECT avg(extract(epoch FROM acknowledged_at - created_at)) / 60,
           avg(extract(epoch FROM resolved_at - created_at)) / 60
    FROM {alert} WHERE created_at >= %s
"""


def alerting_work(*, now: datetime) -> AlertingWork:
    """What a beat cycle has to do in the current schema, in one query."""
    rule = connection.ops.quote_name(AlertRule._meta.db_table)
    alert = connection.ops.quote_name(Alert._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            _WORK_SQL.format(rule=rule, alert=alert),
            [now, now],
        )
        return AlertingWork(*cursor.fetchone())


def alert_rule_list(*, metric: str | None = None, enabled: bool | None = None) -> QuerySet:
    rules = AlertRule.objects.all()
    if metric:
        rules = rules.filter(metric=metric)
    if enabled is not None:
        rules = rules.filter(is_enabled=enabled)
    return rules


def alert_rule_get(*, rule_id) -> AlertRule | None:
    return AlertRule.objects.filter(pk=rule_id).first()


def alert_list(
    *,
    state: str | None = None,
    severity: str | None = None,
    alert_type: str | None = None,
    service: str | None = None,
    rule_id=None,
    since: datetime | None = None,
    until: datetime | None = None,
    open_only: bool = False,
) -> QuerySet:
    alerts = Alert.objects.all()
    if open_only:
        alerts = alerts.exclude(state=Alert.State.RESOLVED)
    if state:
        alerts = alerts.filter(state=state)
    if severity:
        alerts = alerts.filter(severity=severity)
    if alert_type:
        alerts = alerts.filter(alert_type=alert_type)
    if service:
        alerts = alerts.filter(service=service)
    if rule_id:
        alerts = alerts.filter(rule_id=rule_id)
    if since:
        alerts = alerts.filter(created_at__gte=since)
    if until:
        alerts = alerts.filter(created_at__lt=until)
    return alerts.order_by("-created_at", "-id")


def alert_get(*, alert_id) -> Alert | None:
    return Alert.objects.filter(pk=alert_id).first()


def alert_history(*, alert: Alert) -> QuerySet:
    return AlertEvent.objects.filter(alert=alert).order_by("at", "id")


def alert_statistics(*, since: datetime) -> dict:
    """Counts by state and severity, and the mean minutes to acknowledge and to resolve, in one query."""
    open_ = ~Q(state=Alert.State.RESOLVED)
    figures = Alert.objects.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(state=Alert.State.ACTIVE)),
        acknowledged=Count("id", filter=Q(state=Alert.State.ACKNOWLEDGED)),
        snoozed=Count("id", filter=Q(state=Alert.State.SNOOZED)),
        resolved=Count("id", filter=Q(state=Alert.State.RESOLVED)),
        auto_resolved=Count("id", filter=Q(resolution="auto")),
        critical_open=Count("id", filter=open_ & Q(severity="critical")),
        warning_open=Count("id", filter=open_ & Q(severity="warning")),
        info_open=Count("id", filter=open_ & Q(severity="info")),
        raised_since=Count("id", filter=Q(created_at__gte=since)),
    )
    alert = connection.ops.quote_name(Alert._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            _TIMES_SQL.format(alert=alert),
            [since],
        )
        ack, resolve = cursor.fetchone()
    figures["mean_minutes_to_acknowledge"] = round(float(ack), 1) if ack is not None else None
    figures["mean_minutes_to_resolve"] = round(float(resolve), 1) if resolve is not None else None
    return figures
