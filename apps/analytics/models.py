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
