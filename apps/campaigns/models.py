"""A business's campaign settings, each campaign run, and each message a campaign sent (or chose
not to send): in the business's schema.

"Never two reminders" is a database invariant: ``CampaignMessage`` is unique per (kind, subject),
so two beats, a run redelivered after its worker died, or a clock change can only ever insert the
row once, and the outbox delivery is inserted in the same transaction as that row.
"""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    REMINDER = "reminder", _("Appointment reminder")
    FOLLOWUP = "followup", _("Lead follow-up")
    RETENTION = "retention", _("Retention")
    REVIEW = "review", _("Review request")
    RECOVERY = "recovery", _("Owner alert: a lead waits")
    CALL_SUMMARY = "call_summary", _("Owner's text after a handled missed call")
    DIGEST = "digest", _("Owner's daily digest")


class CampaignSettings(models.Model):
    """The singleton row (``id = 1``) of a business's campaign settings; defaults until saved."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    reminders_paused = models.BooleanField(default=False)
    followups_paused = models.BooleanField(default=False)
    retention_paused = models.BooleanField(default=False)
    reviews_paused = models.BooleanField(default=False)
    followup_delay_hours = models.PositiveSmallIntegerField(
        default=24, help_text=_("Hours after a lead's last message before the one follow-up")
    )
    followup_max_age_days = models.PositiveSmallIntegerField(
        default=7, help_text=_("Leads quiet for longer than this are not followed up")
    )
    min_days_since_last_visit = models.PositiveSmallIntegerField(default=180)
    review_link = models.URLField(blank=True, help_text=_("Where a review request sends the customer"))
    review_delay_hours = models.PositiveSmallIntegerField(default=2)
    recovery_alerts_paused = models.BooleanField(default=False)
    recovery_target_minutes = models.PositiveSmallIntegerField(
        default=15, help_text=_("How soon a lead nobody booked should be answered before the owner is alerted")
    )
    call_summary_enabled = models.BooleanField(
        default=False, help_text=_("Text the owner a one-line summary after each missed call the assistant handled")
    )

    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "campaign settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="campaign_settings_singleton"),
        ]

    def __str__(self):
        return "campaign settings"

    PAUSE_FIELDS = {
        Kind.REMINDER: "reminders_paused",
        Kind.FOLLOWUP: "followups_paused",
        Kind.RETENTION: "retention_paused",
        Kind.REVIEW: "reviews_paused",
        Kind.RECOVERY: "recovery_alerts_paused",
    }

    def paused(self, kind: str) -> bool:
        if kind == Kind.CALL_SUMMARY:  # Opt-in: off until the owner asks for it.
            return not self.call_summary_enabled
        if kind == Kind.DIGEST:  # Each owner's and manager's own choice (accounts.User.digest_channel).
            return False
        return bool(getattr(self, self.PAUSE_FIELDS[kind]))


class CampaignRun(models.Model):
    """One run of one campaign in one business: what it selected and what became of each."""

    class Trigger(models.TextChoices):
        BEAT = "beat", _("Schedule")
        API = "api", _("API")
        COMMAND = "command", _("Command")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.BEAT)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    selected = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped_reasons = models.JSONField(default=dict, blank=True, help_text=_("reason → count"))
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["kind", "-started_at"])]

    def __str__(self):
        return f"{self.kind} run {self.started_at:%Y-%m-%d %H:%M}"


class CampaignMessage(models.Model):
    """One campaign text per (kind, subject): the appointment for a reminder or review request, the
    conversation for a follow-up, the customer's last visit for a retention text. A skipped one is
    recorded too (opted out, no consent), so it is decided once and not selected again."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued in the outbox")
        SKIPPED = "skipped", _("Skipped")

    class Answer(models.TextChoices):
        NONE = "", _("No answer")
        CONFIRMED = "confirmed", _("Confirmed")
        RESCHEDULE = "reschedule", _("Asked to reschedule")
        CANCELLED = "cancelled", _("Cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    subject_id = models.CharField(max_length=80)
    run = models.ForeignKey(CampaignRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    appointment_id = models.UUIDField(null=True, blank=True)
    phone = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    skip_reason = models.CharField(max_length=40, blank=True)
    delivery_id = models.UUIDField(null=True, blank=True)
    answer = models.CharField(max_length=20, choices=Answer.choices, blank=True, default=Answer.NONE)
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["kind", "subject_id"], name="campaign_message_once")]
        indexes = [models.Index(fields=["phone", "kind", "-created_at"]), models.Index(fields=["appointment_id"])]

    def __str__(self):
        return f"{self.kind} {self.subject_id} → {self.phone} ({self.status})"
