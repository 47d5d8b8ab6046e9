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
