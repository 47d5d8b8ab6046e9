"""The stored activity feed: every dashboard event of a business, kept for ``FEED_KEEP_DAYS``."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FeedEvent(models.Model):
    """One published dashboard event (``nevermisscall.events.publish_event``), in the business's
    schema. Written in the transaction that raised the event, so the feed and the live stream agree:
    a rolled-back change leaves neither a row nor a message."""

    class Actor(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        ASSISTANT = "assistant", _("Assistant")
        STAFF = "staff", _("Staff")
        SYSTEM = "system", _("System")

    id = models.BigAutoField(primary_key=True)
    event_type = models.CharField(max_length=30)
    payload = models.JSONField(default=dict)
    customer_number = models.CharField(max_length=20, blank=True)
    customer_name = models.CharField(max_length=200, blank=True)
    actor = models.CharField(max_length=10, choices=Actor.choices, blank=True)
    actor_name = models.CharField(max_length=200, blank=True, help_text=_("The team member, when staff acted"))
    text = models.TextField(blank=True, help_text=_("What was said (a message's body), if anything"))
    conversation_id = models.UUIDField(null=True, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["-created_at", "-id"], name="feed_newest_first")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.created_at:%Y-%m-%d %H:%M}"


class MetricEvent(models.Model):
    """One measured domain event (a call, a text, an AI turn, a booking…), kept for
    ``METRIC_RAW_KEEP_DAYS`` (pruned by beat). Figures are read from ``MetricRollup``, never here."""

    id = models.BigAutoField(primary_key=True)
    metric = models.CharField(max_length=40)
    value = models.FloatField(default=1)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["at"], name="metric_event_at")]

    def __str__(self) -> str:
        return f"{self.metric}={self.value:g} at {self.at:%Y-%m-%d %H:%M}"


class MetricRollup(models.Model):
    """Per business (the schema) and metric, one row per 5-minute or hour bucket: how many events
    (``n``), the sum of their values (``total``) and the largest (``peak``). Kept current by the
    write of each event (``INSERT … ON CONFLICT DO UPDATE SET n = n + EXCLUDED.n``)."""

    class Grain(models.IntegerChoices):
        FIVE_MINUTES = 5, _("5 minutes")
        HOUR = 60, _("1 hour")

    id = models.BigAutoField(primary_key=True)
    metric = models.CharField(max_length=40)
    grain = models.PositiveSmallIntegerField(choices=Grain.choices)
    bucket = models.DateTimeField()
    n = models.BigIntegerField(default=0)
    total = models.FloatField(default=0)
    peak = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["metric", "grain", "bucket"], name="metric_rollup_one_per_bucket")
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.grain}m {self.bucket:%Y-%m-%d %H:%M}: {self.n}"


class CustomMetric(models.Model):
    """A metric a business records itself (``POST /api/metrics``): its name and its one unit. Its
    points are counted into ``MetricRollup`` as ``custom.<name>`` beside the computed metrics."""

    name = models.CharField(max_length=32, unique=True)
    unit = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"custom.{self.name} ({self.unit})" if self.unit else f"custom.{self.name}"


class CustomMetricPoint(models.Model):
    """One recorded point of a ``CustomMetric`` with its tags, kept like the raw events for
    ``METRIC_RAW_KEEP_DAYS``; figures come from the rollups. ``idempotency_key`` (optional, unique)
    makes a retried POST record nothing twice."""

    id = models.BigAutoField(primary_key=True)
    metric = models.ForeignKey(CustomMetric, on_delete=models.CASCADE, related_name="points")
    value = models.FloatField()
    tags = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["at"], name="custom_metric_point_at")]

    def __str__(self) -> str:
        return f"{self.metric_id}={self.value:g} at {self.at:%Y-%m-%d %H:%M}"


class KpiSnapshot(models.Model):
    """The KPIs of a period as computed at one moment (``POST /api/kpis``), kept to compare later."""

    id = models.BigAutoField(primary_key=True)
    period = models.CharField(max_length=10)
    since = models.DateTimeField()
    calculated_at = models.DateTimeField()
    figures = models.JSONField()

    class Meta:
        indexes = [models.Index(fields=["-calculated_at", "-id"], name="kpi_snapshot_newest_first")]

    def __str__(self) -> str:
        return f"KPIs {self.period} at {self.calculated_at:%Y-%m-%d %H:%M}"
