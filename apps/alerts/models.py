"""Alert rules and the alerts they raise, in each business's schema; the public schema holds the
platform's own (system) alerts in the same tables (the app is in both app lists)."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Severity(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class AlertRule(models.Model):
    """ "More than 3 missed calls in 1 hour": ``metric`` (apps.analytics.metrics.RULE_METRICS, or
    ``circuit_open`` with the breaker in ``subject``) ``comparison`` ``threshold`` over the last
    ``window_minutes`` (0: since local midnight). Evaluated only between ``active_from`` and
    ``active_until`` local time when set ("by noon", "in business hours"); nobody is notified in
    ``quiet_hours`` unless the alert is critical (notified when they end)."""

    class Comparison(models.TextChoices):
        GT = "gt", ">"
        GTE = "gte", "≥"
        LT = "lt", "<"
        LTE = "lte", "≤"
        EQ = "eq", "="

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")
        WEBHOOK = "webhook", _("Webhook")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=500, blank=True)
    metric = models.CharField(max_length=40)
    subject = models.CharField(max_length=40, blank=True, help_text=_("The circuit breaker, for circuit_open"))
    comparison = models.CharField(max_length=3, choices=Comparison.choices)
    threshold = models.FloatField()
    window_minutes = models.PositiveIntegerField(default=60, help_text=_("0: since midnight, local time"))
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    channels = models.JSONField(default=list)
    escalation_policy = models.JSONField(
        default=list, help_text=_("Ordered people: name, email, phone, delay_minutes after the previous one")
    )
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    active_from = models.TimeField(null=True, blank=True)
    active_until = models.TimeField(null=True, blank=True)
    is_enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["metric"], name="alert_rule_metric")]
        constraints = [
            models.CheckConstraint(
                condition=Q(comparison__in=["gt", "gte", "lt", "lte", "eq"]), name="alert_rule_comparison_known"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Alert(models.Model):
    """One raised alert. While it is open (not resolved) its ``fingerprint`` is unique, so two
    evaluations at once raise it once. ``escalation_level`` is the step of the rule's policy last
    notified (-1: nobody yet) and ``next_notification_at`` when the next step is due."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        SNOOZED = "snoozed", _("Snoozed")
        RESOLVED = "resolved", _("Resolved")

    class Source(models.TextChoices):
        RULE = "rule", _("Rule")
        SYSTEM = "system", _("System")
        CUSTOM = "custom", _("Custom")
        TEST = "test", _("Test")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    rule = models.ForeignKey(AlertRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.RULE)
    alert_type = models.CharField(max_length=40)
    service = models.CharField(max_length=40, blank=True)
    fingerprint = models.CharField(max_length=120)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    state = models.CharField(max_length=15, choices=State.choices, default=State.ACTIVE)
    title = models.CharField(max_length=200)
    message = models.TextField(blank=True)
    value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    escalation_level = models.SmallIntegerField(default=-1)
    next_notification_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=200, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=200, blank=True)
    resolution = models.CharField(max_length=10, blank=True, help_text=_("manual or auto"))
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"], condition=~Q(state="resolved"), name="alert_one_open_per_fingerprint"
            )
        ]
        indexes = [
            models.Index(fields=["state", "next_notification_at"], name="alert_due"),
            models.Index(fields=["-created_at"], name="alert_newest"),
        ]

    def __str__(self) -> str:
        return self.title


class AlertEvent(models.Model):
    """The alert's timeline: raised, notified, escalated, acknowledged, snoozed, resolved…"""

    class Kind(models.TextChoices):
        TRIGGERED = "triggered", _("Raised")
        NOTIFIED = "notified", _("Notified")
        ESCALATED = "escalated", _("Escalated")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        SNOOZED = "snoozed", _("Snoozed")
        UNSNOOZED = "unsnoozed", _("Snooze ended")
        RESOLVED = "resolved", _("Resolved")
        AUTO_RESOLVED = "auto_resolved", _("Resolved by itself")

    id = models.BigAutoField(primary_key=True)
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    actor = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"
