"""The outbox: every text, e-mail and webhook the product sends is a ``Delivery`` row, committed in
the transaction that caused it, then sent by one dispatcher (docs/outbox.md).

A shared app: the rows live in the public schema with their business, so one sweep and one index
cover every business; every read goes through ``selectors`` and is filtered by business.
"""

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")
    PUSH = "push", _("Web Push")


class Delivery(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        DEAD = "dead", _("Dead letter")
        CANCELED = "canceled", _("Canceled")

    class Kind(models.TextChoices):
        TRANSACTIONAL = "transactional", _("Transactional")
        MARKETING = "marketing", _("Marketing")

    class Hold(models.TextChoices):
        NONE = "", _("Not held")
        QUIET_HOURS = "quiet_hours", _("Held for the recipient's quiet hours")
        QUOTA = "quota", _("Held: daily SMS quota reached")
        CIRCUIT_OPEN = "circuit_open", _("Held: the provider's circuit is open")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the composite indexes below lead with it (every text writes each index).
    business = models.ForeignKey(
        "tenants.Business",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TRANSACTIONAL)
    purpose = models.CharField(max_length=40, help_text=_("What it is: auto_reply, owner_alert, webhook_event…"))
    recipient = models.CharField(max_length=500, help_text=_("E.164 number, e-mail address or webhook URL"))
    sender = models.CharField(max_length=200, blank=True)
    payload = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    language = models.CharField(max_length=10, default="en")
    cause_type = models.CharField(max_length=40, blank=True, help_text=_("conversation, message, appointment…"))
    cause_id = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    hold_reason = models.CharField(max_length=20, choices=Hold.choices, blank=True, default=Hold.NONE)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=12)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text=_("Worthless after this: never sent late"))
    provider_ref = models.CharField(max_length=100, null=True, blank=True, unique=True, help_text=_("e.g. MessageSid"))
    provider_status = models.CharField(max_length=20, blank=True, help_text=_("Last status the provider reported"))
    segments = models.PositiveSmallIntegerField(null=True, blank=True)
    encoding = models.CharField(max_length=10, blank=True, help_text=_("GSM-7 or UCS-2"))
    last_error = models.CharField(max_length=500, blank=True)
    last_error_code = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["business", "-created_at"]),
            models.Index(fields=["business", "cause_type", "cause_id"]),
            # The daily quota counts a business's SMS sent since its local midnight.
            models.Index(fields=["business", "channel", "sent_at"], name="delivery_quota"),
            # The sweep: a small partial index over what is waiting to go out.
            models.Index(
                fields=["next_attempt_at"], condition=Q(status__in=["queued", "sending"]), name="delivery_pending"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=["sms", "email", "webhook", "push"]), name="delivery_channel"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["queued", "sending", "sent", "delivered", "failed", "dead", "canceled"]),
                name="delivery_status",
            ),
        ]

    def __str__(self):
        return f"{self.channel} {self.purpose} → {self.recipient} ({self.status})"

    @property
    def is_retryable(self) -> bool:
        return self.status in (self.Status.FAILED, self.Status.DEAD)


class DeliveryAttempt(models.Model):
    """One try at the provider: when, what happened, and what the provider answered."""

    class Outcome(models.TextChoices):
        SENT = "sent", _("Accepted by the provider")
        DELIVERED = "delivered", _("Delivered")
        TRANSIENT = "transient", _("Transient failure: retried")
        UNCERTAIN = "uncertain", _("No answer in time: waiting for the status callback")
        PERMANENT = "permanent", _("Permanent failure")

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    provider_status = models.CharField(max_length=20, blank=True, help_text=_("HTTP status or provider code"))
    provider_answer = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="one_attempt_per_number")]

    def __str__(self):
        return f"attempt {self.number} of {self.delivery_id}: {self.outcome}"


class WebhookEndpoint(models.Model):
    """Where a business wants its events POSTed. The signing secret is stored encrypted
    (``apps.outbox.crypto``) and shown to the owner only when it is made."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    business = models.ForeignKey("tenants.Business", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, blank=True, help_text=_("Empty: every event"))
    secret_encrypted = models.TextField()
    secret_prefix = models.CharField(max_length=16)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["business", "is_active"])]

    def __str__(self):
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class SmsConsent(models.Model):
    """A customer's recorded consent to marketing texts from one business; marketing SMS need one."""

    business = models.ForeignKey("tenants.Business", on_delete=models.CASCADE, related_name="sms_consents")
    phone_number = models.CharField(max_length=20)
    source = models.CharField(max_length=40, help_text=_("web_form, keyword, staff, import…"))
    evidence = models.TextField(blank=True, help_text=_("What the customer agreed to, and how"))
    granted_at = models.DateTimeField(db_default=Now())
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(fields=["business", "phone_number"], name="one_consent_per_business_number")
        ]

    def __str__(self):
        return f"{self.phone_number} ({'revoked' if self.revoked_at else 'granted'})"


class PushSubscription(models.Model):
    """One browser of one person, subscribed to Web Push (the endpoint its push service gave it and
    the keys its messages are encrypted to). Forgotten when the push service says it is gone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    business = models.ForeignKey("tenants.Business", on_delete=models.CASCADE, related_name="push_subscriptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200, help_text=_("The browser's public key (base64url)"))
    auth = models.CharField(max_length=100, help_text=_("The browser's auth secret (base64url)"))
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["business", "user"])]

    def __str__(self):
        return f"push to {self.user_id} ({self.endpoint[:40]}…)"
