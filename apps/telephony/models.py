"""A business's phone numbers and calls (in the business's schema)."""

import uuid

from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


class PhoneNumber(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RELEASED = "released", _("Released")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    phone_number = models.CharField(max_length=20, unique=True, help_text=_("E.164"))
    twilio_sid = models.CharField(max_length=64, blank=True, help_text=_("IncomingPhoneNumber sid (PN…)"))
    friendly_name = models.CharField(max_length=64, blank=True)
    locality = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, default="US")
    capabilities = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    is_primary = models.BooleanField(default=False)
    voice_url = models.URLField(blank=True)
    sms_url = models.URLField(blank=True)
    status_callback = models.URLField(blank=True)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(auto_now=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.phone_number


class Call(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class Status(models.TextChoices):
        RINGING = "ringing", _("Ringing (forwarding)")
        IN_PROGRESS = "in-progress", _("Answered, in progress")
        ANSWERED = "answered", _("Answered")
        MISSED = "missed", _("Missed")

    class MissedReason(models.TextChoices):
        NO_ANSWER = "no-answer", _("Nobody answered")
        BUSY = "busy", _("Busy")
        FAILED = "failed", _("Forwarding failed")
        CANCELED = "canceled", _("Caller hung up while ringing")
        NOT_ACCEPTED = "not-accepted", _("Screened: nobody pressed 1 (voicemail)")
        NOT_BRIDGED = "not-bridged", _("Completed without reaching anyone")
        NO_FORWARDING = "no-forwarding", _("No forwarding number configured")
        MANUAL = "manual", _("Marked missed by staff or a service")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    call_sid = models.CharField(max_length=64, unique=True)
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.INBOUND)
    from_number = models.CharField(max_length=20, help_text=_("The caller, E.164 when it parses"))
    to_number = models.CharField(max_length=20, help_text=_("The business number called"))
    forwarded_to = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RINGING)
    twilio_status = models.CharField(max_length=20, blank=True, help_text=_("Last CallStatus from Twilio"))
    dial_status = models.CharField(max_length=20, blank=True, help_text=_("DialCallStatus of the forwarded leg"))
    dial_call_sid = models.CharField(max_length=64, blank=True)
    missed_reason = models.CharField(max_length=20, choices=MissedReason.choices, blank=True)
    screening = models.BooleanField(default=False, help_text=_("The forwarded leg played the press-1 whisper"))
    screen_accepted_at = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True, help_text=_("Talk time in seconds"))
    caller_name = models.CharField(max_length=200, blank=True)
    caller_city = models.CharField(max_length=100, blank=True)
    caller_state = models.CharField(max_length=50, blank=True)
    notes = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    conversation = models.ForeignKey(
        "conversations.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    auto_reply_skipped = models.CharField(
        max_length=40, blank=True, help_text=_("Why a missed call got no auto-text (cooldown, opted out, …)")
    )
    started_at = models.DateTimeField(db_default=Now())
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["from_number", "-started_at"]),
            models.Index(fields=["status", "-started_at"]),
            # The calls page (newest first) and the overview's day ranges.
            models.Index(fields=["-started_at", "-id"], name="call_newest_first"),
        ]

    def __str__(self):
        return f"{self.call_sid} {self.from_number} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.ANSWERED, self.Status.MISSED)


class CallParticipant(models.Model):
    class Role(models.TextChoices):
        CALLER = "caller", _("Caller")
        BUSINESS = "business", _("Business (forwarded to)")
        STAFF = "staff", _("Staff")
        OTHER = "other", _("Other")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="participants")
    role = models.CharField(max_length=20, choices=Role.choices)
    phone_number = models.CharField(max_length=20, blank=True)
    name = models.CharField(max_length=200, blank=True)
    joined_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["joined_at"]
        constraints = [
            models.UniqueConstraint(fields=["call", "role", "phone_number"], name="unique_call_participant"),
        ]

    def __str__(self):
        return f"{self.role} {self.phone_number}"


class CallStatusEvent(models.Model):
    """A call outcome as Twilio reported it (``<Dial action>`` or the call's status callback),
    recorded by the webhook in one statement and applied to the call by a task.

    Unique on (call_sid, kind, status): a redelivered callback inserts nothing and schedules nothing.
    ``processed_at`` stays empty until the task has applied it in the same transaction as the call's
    update, so the sweep finds anything recorded but never applied (a process that died after the
    commit, a broker outage).
    """

    class Kind(models.TextChoices):
        DIAL = "dial", _("Dial result (<Dial action>)")
        STATUS = "status", _("Call status callback")

    id = models.BigAutoField(primary_key=True)
    call_sid = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=20, help_text=_("DialCallStatus or CallStatus"))
    data = models.JSONField(default=dict, help_text=_("The callback's fields the call needs"))
    created_at = models.DateTimeField(db_default=Now())
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["call_sid", "kind", "status"], name="unique_call_status_event"),
        ]
        indexes = [
            models.Index(
                fields=["created_at"], condition=models.Q(processed_at__isnull=True), name="call_event_unprocessed"
            ),
        ]

    def __str__(self):
        return f"{self.call_sid} {self.kind} {self.status}"
