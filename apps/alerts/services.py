"""Writes of the alerts app: rules, raising and clearing alerts from the metric rollups, notifying
and escalating through the outbox, and what people do to an alert (acknowledge, snooze, resolve).

Every state change is a conditional UPDATE that names the state it expects: two workers that
evaluate, notify or escalate the same alert at once change it once, and only the one whose UPDATE
returned the row sends anything.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.alerts.models import Alert, AlertEvent, AlertRule, Severity
from apps.analytics.metrics import RULE_METRICS, metric_windows_read, rule_metric_value
from apps.outbox import services as outbox
from nevermisscall import breakers
from nevermisscall.errors import BusinessRuleViolation, Conflict, ValidationFailed
from nevermisscall.events import publish_event

logger = logging.getLogger(__name__)

SOURCE = "alerts"
GAUGE_METRICS = {"circuit_open": "Circuit breaker open (1 when open)"}
MAX_SNOOZE = timedelta(days=7)
_COMPARE = {
    "gt": lambda value, threshold: value > threshold,
    "gte": lambda value, threshold: value >= threshold,
    "lt": lambda value, threshold: value < threshold,
    "lte": lambda value, threshold: value <= threshold,
    "eq": lambda value, threshold: value == threshold,
}
OPEN_STATES = (Alert.State.ACTIVE, Alert.State.ACKNOWLEDGED, Alert.State.SNOOZED)


def _business():
    tenant = getattr(connection, "tenant", None)
    return tenant if tenant is not None and getattr(tenant, "schema_name", "public") != "public" else None


def _zone() -> ZoneInfo:
    business = _business()
    try:
        return ZoneInfo(getattr(business, "timezone", "") or "UTC")
    except Exception:
        return ZoneInfo("UTC")


def _within(moment: time, start: time | None, end: time | None) -> bool:
    """Is the local ``moment`` in [start, end) (a range over midnight when start > end)?"""
    if start is None and end is None:
        return True
    start, end = start or time.min, end or time.max
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end


# --- rules ----------------------------------------------------------------------------------------


RULE_FIELDS = (
    "name",
    "description",
    "metric",
    "subject",
    "comparison",
    "threshold",
    "window_minutes",
    "severity",
    "channels",
    "escalation_policy",
    "quiet_hours_start",
    "quiet_hours_end",
    "active_from",
    "active_until",
    "is_enabled",
)


def rule_check(data: dict) -> None:
    """Refuse what cannot be evaluated, naming the field (nothing is stored)."""
    errors = {}
    metric = data.get("metric")
    if metric is not None and metric not in RULE_METRICS and metric not in GAUGE_METRICS:
        errors["metric"] = [f"Unknown metric {metric!r}; see GET /api/alerts/rules/by-metric for the list."]
    if metric in GAUGE_METRICS and not data.get("subject"):
        errors["subject"] = ["circuit_open needs the breaker's name (openai, twilio-sms, geocoding…)."]
    if (data.get("quiet_hours_start") is None) != (data.get("quiet_hours_end") is None):
        errors["quiet_hours_start"] = ["Give both ends of the quiet hours, or neither."]
    for channel in data.get("channels") or []:
        if channel not in AlertRule.Channel.values:
            errors["channels"] = [f"Unknown channel {channel!r} (email, sms, webhook)."]
    for index, step in enumerate(data.get("escalation_policy") or []):
        if not (step.get("email") or step.get("phone")):
            errors[f"escalation_policy.{index}"] = ["Each person needs an email or a phone number."]
    if errors:
        raise ValidationFailed("The rule cannot be stored.", details=errors)


def alert_rule_create(**data) -> AlertRule:
    rule_check(data)
    return AlertRule.objects.create(**{field: data[field] for field in RULE_FIELDS if field in data})


def alert_rule_update(*, rule: AlertRule, data: dict) -> AlertRule:
    merged = {field: getattr(rule, field) for field in RULE_FIELDS} | data
    rule_check(merged)
    for field in RULE_FIELDS:
        if field in data:
            setattr(rule, field, data[field])
    rule.save()
    return rule


def alert_rule_set_enabled(*, rule: AlertRule, enabled: bool) -> AlertRule:
    AlertRule.objects.filter(pk=rule.pk).update(is_enabled=enabled, updated_at=timezone.now())
    rule.is_enabled = enabled
    return rule


@transaction.atomic
def alert_rule_delete(*, rule: AlertRule, actor: str = "") -> None:
    """Delete the rule; its open alerts are resolved first (nothing would ever clear them)."""
    for alert in Alert.objects.filter(rule=rule, state__in=OPEN_STATES):
        alert_resolve(alert=alert, actor=actor, note="rule deleted")
    rule.delete()


# --- evaluation -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    raised: int = 0
    resolved: int = 0
    notified: int = 0


def _window_start(rule: AlertRule, now: datetime, zone: ZoneInfo) -> datetime:
    if rule.window_minutes == 0:
        local = now.astimezone(zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)
    return now - timedelta(minutes=rule.window_minutes)


def _gauge(rule: AlertRule) -> float:
    if rule.metric == "circuit_open":
        return 1.0 if breakers.stored_state(rule.subject) == "open" else 0.0
    raise ValueError(rule.metric)


def rules_evaluate(*, now: datetime | None = None) -> Outcome:
    """Evaluate the current business's enabled rules: one query for the rules, one for every
    window of their metrics (the 5-minute rollups), one for the open alerts; writes only when an
    alert is raised or clears."""
    now = now or timezone.now()
    outcome = Outcome()
    rules = list(AlertRule.objects.filter(is_enabled=True))
    if not rules:
        return outcome
    zone = _zone()
    local_now = now.astimezone(zone).time()
    due = [rule for rule in rules if _within(local_now, rule.active_from, rule.active_until)]
    windows = {}
    for rule in due:
        if rule.metric in RULE_METRICS:
            start = _window_start(rule, now, zone)
            windows[rule.pk] = [(name, start) for name in RULE_METRICS[rule.metric].metrics]
    figures = metric_windows_read(windows=[w for ws in windows.values() for w in ws])
    open_alerts = {
        alert.rule_id: alert
        for alert in Alert.objects.filter(rule__in=due, state__in=OPEN_STATES).only(
            "id", "rule_id", "state", "fingerprint"
        )
    }
    for rule in due:
        if rule.metric in RULE_METRICS:
            value = rule_metric_value(rule.metric, {name: figures[(name, start)] for name, start in windows[rule.pk]})
        else:
            value = _gauge(rule)
        firing = value is not None and _COMPARE[rule.comparison](value, rule.threshold)
        current = open_alerts.get(rule.pk)
        if firing and current is None:
            alert = alert_raise(
                fingerprint=f"rule:{rule.pk}",
                source=Alert.Source.RULE,
                rule=rule,
                alert_type=rule.metric,
                service=rule.subject,
                severity=rule.severity,
                title=rule.name,
                message=_describe(rule, value),
                value=value,
                threshold=rule.threshold,
                now=now,
            )
            if alert is not None:
                outcome.raised += 1
                outcome.notified += alert_notify_due(alert_id=alert.pk, now=now)
        elif not firing and current is not None and alert_resolve(alert=current, actor="", now=now, automatic=True):
            outcome.resolved += 1
    return outcome


def _describe(rule: AlertRule, value: float | None) -> str:
    spec = RULE_METRICS.get(rule.metric)
    unit = spec.unit if spec else ""
    window = "today" if rule.window_minutes == 0 else f"in {rule.window_minutes} min"
    label = str(spec.label) if spec else f"{rule.metric} {rule.subject}".strip()
    return f"{label}: {value:g}{unit} {window} ({rule.get_comparison_display()} {rule.threshold:g}{unit})"


def alert_raise(
    *,
    fingerprint: str,
    title: str,
    source: str,
    alert_type: str,
    severity: str = Severity.WARNING,
    message: str = "",
    rule: AlertRule | None = None,
    service: str = "",
    value: float | None = None,
    threshold: float | None = None,
    details: dict | None = None,
    actor: str = "",
    now: datetime | None = None,
) -> Alert | None:
    """Raise an alert unless one with ``fingerprint`` is open (then None): the partial unique index
    decides between two evaluations at once. Its first notification is due now, or when the rule's
    quiet hours end (critical alerts notify at once). Who raised it by hand (``actor``) and the
    context they gave (``details``) are kept on its triggered event (the history)."""
    now = now or timezone.now()
    first_notification = now
    if rule is not None and rule.quiet_hours_start is not None and severity != Severity.CRITICAL:
        zone = _zone()
        local = now.astimezone(zone)
        if _within(local.time(), rule.quiet_hours_start, rule.quiet_hours_end):
            end = local.replace(
                hour=rule.quiet_hours_end.hour, minute=rule.quiet_hours_end.minute, second=0, microsecond=0
            )
            first_notification = end if end > local else end + timedelta(days=1)
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule,
                source=source,
                alert_type=alert_type,
                service=service,
                fingerprint=fingerprint[:120],
                severity=severity,
                title=title[:200],
                message=message,
                value=value,
                threshold=threshold,
                next_notification_at=first_notification,
                created_at=now,
                updated_at=now,
            )
            AlertEvent.objects.create(
                alert=alert,
                kind=AlertEvent.Kind.TRIGGERED,
                actor=actor[:200],
                detail={"value": value, "threshold": threshold} | ({"details": details} if details else {}),
                at=now,
            )
            publish_event("system_alert", alert_payload(alert), source_service=SOURCE)
    except IntegrityError:
        return None  # Open already: raised by another evaluation a moment ago.
    return alert


def alert_payload(alert: Alert) -> dict:
    return {
        "alert_id": str(alert.id),
        "alert_type": alert.alert_type,
        "severity": alert.severity,
        "state": alert.state,
        "title": alert.title,
        "message": alert.message or alert.title,
        "value": alert.value,
        "threshold": alert.threshold,
        "created_at": alert.created_at,
    }


# --- notification and escalation ----------------------------------------------------------------


def _owners() -> list[dict]:
    """The business's owners; for system alerts (public schema) platform staff without a business
    and the addresses of ``OPS_ALERT_EMAILS`` (an on-call list), each address once."""
    business = _business()
    if business is None:
        users = User.objects.filter(is_staff=True, is_active=True, business__isnull=True)
    else:
        users = User.objects.filter(business=business, role=Role.OWNER, is_active=True)
    people = [
        {"name": f"{u.first_name} {u.last_name}".strip() or u.email, "email": u.email, "phone": u.phone}
        for u in users.order_by("date_joined", "id")
    ]
    if business is None:
        known = {person["email"].lower() for person in people}
        for email in settings.OPS_ALERT_EMAILS:
            if email.lower() not in known:
                known.add(email.lower())
                people.append({"name": email, "email": email, "phone": ""})
    return people


def _policy(alert: Alert) -> list[dict]:
    """The ordered people to notify: the rule's escalation policy, else the business's owners (all
    at the first step), else platform staff for system alerts."""
    if alert.rule is not None and alert.rule.escalation_policy:
        return list(alert.rule.escalation_policy)
    owners = _owners()
    return [{"people": owners, "delay_minutes": 0}] if owners else []


def _people(step: dict) -> list[dict]:
    return step.get("people") or [step]


def _channels(alert: Alert) -> list[str]:
    if alert.rule is not None and alert.rule.channels:
        return list(alert.rule.channels)
    return [AlertRule.Channel.EMAIL]


_CLAIM_SQL = """
    UPDATE {table} SET escalation_level = escalation_level + 1, next_notification_at = %s, updated_at = %s
    WHERE id = %s AND state = 'active' AND escalation_level = %s AND next_notification_at <= %s
    RETURNING id
"""


def alert_notify_due(*, alert_id, now: datetime | None = None) -> int:
    """Notify the next step of ``alert_id``'s policy if it is due: claimed by one conditional UPDATE
    (the level it expects), so two workers notify once. Returns the deliveries queued."""
    now = now or timezone.now()
    alert = Alert.objects.select_related("rule").filter(pk=alert_id).first()
    if alert is None or alert.state != Alert.State.ACTIVE or alert.next_notification_at is None:
        return 0
    policy = _policy(alert)
    level = alert.escalation_level + 1
    if level >= len(policy):
        Alert.objects.filter(pk=alert.pk, escalation_level=alert.escalation_level).update(next_notification_at=None)
        return 0
    following = (
        now + timedelta(minutes=float(policy[level + 1].get("delay_minutes") or 0)) if level + 1 < len(policy) else None
    )
    sql = _CLAIM_SQL.format(table=connection.ops.quote_name(Alert._meta.db_table))
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, [following, now, alert.pk, alert.escalation_level, now])
            if cursor.fetchone() is None:
                return 0  # Another worker notified this step, or someone acknowledged it.
        alert.escalation_level = level
        queued = _send(alert, people=_people(policy[level]), level=level, claimed_at=now)
        AlertEvent.objects.create(
            alert=alert,
            kind=AlertEvent.Kind.NOTIFIED if level == 0 else AlertEvent.Kind.ESCALATED,
            detail={
                "level": level,
                "people": [p.get("name") or p.get("email") or p.get("phone") for p in _people(policy[level])],
                "deliveries": queued,
            },
            at=now,
        )
    return queued


def _send(alert: Alert, *, people: list[dict], level: int, claimed_at: datetime) -> int:
    """Queue the step's notifications in the claim's transaction. The keys carry the claim's time:
    a step notified again after a snooze is a new notification, a retried claim is not."""
    round_ = int(claimed_at.timestamp())
    channels = _channels(alert)
    cause = ("alert", str(alert.id))
    context = {
        "title": alert.title,
        "message": alert.message,
        "severity": alert.severity,
        "alert_id": str(alert.id),
        "level": level,
    }
    queued = 0
    for person in people:
        if AlertRule.Channel.EMAIL in channels and person.get("email"):
            outbox.delivery_queue_email(
                to=person["email"],
                template="outbox/email/alert",
                context=context,
                purpose="alert",
                idempotency_key=f"alert:{alert.id}:{level}:{round_}:email:{person['email']}",
                cause=cause,
            )
            queued += 1
        if AlertRule.Channel.SMS in channels and person.get("phone"):
            try:
                outbox.delivery_queue_sms(
                    to=person["phone"],
                    body=f"[{alert.severity.upper()}] {alert.title}: {alert.message}"[:300],
                    purpose="alert",
                    idempotency_key=f"alert:{alert.id}:{level}:{round_}:sms:{person['phone']}",
                    cause=cause,
                )
                queued += 1
            except (BusinessRuleViolation, ValidationFailed) as exc:
                logger.warning("alert %s: no text to %s level %d: %s", alert.id, "a person", level, exc)
    if AlertRule.Channel.WEBHOOK in channels and level == 0:
        queued += len(
            outbox.webhook_event_emit(
                event_type="alert.triggered", data=alert_payload(alert), event_id=f"alert:{alert.id}", cause=cause
            )
        )
    return queued


def alerts_notify_due(*, now: datetime | None = None) -> int:
    """Every active alert of the business whose next step is due (escalation, quiet hours over)."""
    now = now or timezone.now()
    due = Alert.objects.filter(state=Alert.State.ACTIVE, next_notification_at__lte=now).values_list("pk", flat=True)
    return sum(alert_notify_due(alert_id=pk, now=now) for pk in list(due[:500]))


def alerts_unsnooze_expired(*, now: datetime | None = None) -> int:
    """Snoozes that ended: the alert is active again and its current step is notified again."""
    now = now or timezone.now()
    woken = 0
    for alert in Alert.objects.filter(state=Alert.State.SNOOZED, snoozed_until__lte=now)[:500]:
        changed = Alert.objects.filter(pk=alert.pk, state=Alert.State.SNOOZED, snoozed_until__lte=now).update(
            state=Alert.State.ACTIVE,
            snoozed_until=None,
            escalation_level=max(alert.escalation_level - 1, -1),
            next_notification_at=now,
            updated_at=now,
        )
        if changed:
            AlertEvent.objects.create(alert=alert, kind=AlertEvent.Kind.UNSNOOZED, at=now)
            woken += 1
            alert_notify_due(alert_id=alert.pk, now=now)
    return woken


# --- what people do -------------------------------------------------------------------------------


def _transition(*, alert: Alert, allowed: tuple, kind: str, actor: str, now: datetime, detail=None, **fields) -> bool:
    with transaction.atomic():
        changed = Alert.objects.filter(pk=alert.pk, state__in=allowed).update(updated_at=now, **fields)
        if not changed:
            return False
        AlertEvent.objects.create(alert=alert, kind=kind, actor=actor[:200], detail=detail or {}, at=now)
        for name, value in fields.items():
            setattr(alert, name, value)
        alert.updated_at = now
        publish_event("system_alert", alert_payload(alert), source_service=SOURCE)
    return True


def alert_acknowledge(*, alert: Alert, actor: str, now: datetime | None = None) -> Alert:
    now = now or timezone.now()
    if not _transition(
        alert=alert,
        allowed=(Alert.State.ACTIVE, Alert.State.SNOOZED),
        kind=AlertEvent.Kind.ACKNOWLEDGED,
        actor=actor,
        now=now,
        state=Alert.State.ACKNOWLEDGED,
        acknowledged_at=now,
        acknowledged_by=actor[:200],
        next_notification_at=None,
        snoozed_until=None,
    ):
        raise Conflict(
            f"This alert is {Alert.objects.get(pk=alert.pk).state}; only an active or snoozed one can be acknowledged."
        )
    return alert


def alerts_acknowledge_bulk(*, alert_ids: list, actor: str, now: datetime | None = None) -> list:
    """Acknowledge those of ``alert_ids`` that exist here and are active or snoozed; their ids."""
    now = now or timezone.now()
    done = []
    for alert in Alert.objects.filter(pk__in=alert_ids, state__in=(Alert.State.ACTIVE, Alert.State.SNOOZED)).order_by(
        "pk"
    ):
        try:
            alert_acknowledge(alert=alert, actor=actor, now=now)
            done.append(str(alert.pk))
        except Conflict:
            continue
    return done


def alert_snooze(*, alert: Alert, until: datetime, actor: str, now: datetime | None = None) -> Alert:
    now = now or timezone.now()
    if until <= now:
        raise ValidationFailed("Snooze until a moment in the future.", details={"until": ["Must be in the future."]})
    if until - now > MAX_SNOOZE:
        raise ValidationFailed("An alert can be snoozed for 7 days at most.", details={"until": ["At most 7 days."]})
    if not _transition(
        alert=alert,
        allowed=(Alert.State.ACTIVE, Alert.State.ACKNOWLEDGED, Alert.State.SNOOZED),
        kind=AlertEvent.Kind.SNOOZED,
        actor=actor,
        now=now,
        detail={"until": until.isoformat()},
        state=Alert.State.SNOOZED,
        snoozed_until=until,
        next_notification_at=None,
    ):
        raise Conflict("This alert is resolved; it cannot be snoozed.")
    return alert


def alert_resolve(
    *, alert: Alert, actor: str, now: datetime | None = None, automatic: bool = False, note: str = ""
) -> bool:
    now = now or timezone.now()
    return _transition(
        alert=alert,
        allowed=OPEN_STATES,
        kind=AlertEvent.Kind.AUTO_RESOLVED if automatic else AlertEvent.Kind.RESOLVED,
        actor=actor,
        now=now,
        detail={"note": note} if note else {},
        state=Alert.State.RESOLVED,
        resolved_at=now,
        resolved_by=actor[:200],
        resolution="auto" if automatic else "manual",
        next_notification_at=None,
        snoozed_until=None,
    )


def alert_resolve_manually(*, alert: Alert, actor: str, note: str = "", now: datetime | None = None) -> Alert:
    if not alert_resolve(alert=alert, actor=actor, now=now, note=note):
        raise Conflict("This alert is resolved already.")
    return alert


def alert_test(*, actor: str, now: datetime | None = None) -> Alert:
    """A test alert (info) that goes through the whole path: stored, shown live, notified."""
    now = now or timezone.now()
    alert = alert_raise(
        fingerprint=f"test:{now.timestamp()}",
        title="Test alert",
        source=Alert.Source.TEST,
        alert_type="test",
        severity=Severity.INFO,
        message=f"A test alert sent by {actor or 'the API'}: notifications reach you.",
        now=now,
    )
    alert_notify_due(alert_id=alert.pk, now=now)
    return alert


def alert_custom_create(
    *, title: str, message: str, severity: str, service: str, alert_type: str, actor: str, details: dict | None = None
) -> Alert:
    now = timezone.now()
    alert = alert_raise(
        details=details,
        actor=actor,
        fingerprint=f"custom:{alert_type}:{service}:{now.timestamp()}",
        title=title,
        message=message,
        severity=severity,
        service=service,
        alert_type=alert_type,
        source=Alert.Source.CUSTOM,
        now=now,
    )
    alert_notify_due(alert_id=alert.pk, now=now)
    return alert
