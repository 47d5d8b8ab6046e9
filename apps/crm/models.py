"""Customers and their appointments, in the business's schema.

No double booking is a database invariant: an exclusion constraint refuses two active
appointments whose time ranges overlap, whatever process or thread inserts them.
"""

import uuid

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.db import models
from django.db.models import Func, Q
from django.utils.translation import gettext_lazy as _

from nevermisscall.choices import Trade


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class Customer(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=20, unique=True, help_text=_("E.164"))
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)
    language = models.CharField(max_length=5, default="en", choices=[("en", "English"), ("es", "Español")])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.phone})" if self.name else self.phone


class Appointment(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CONFIRMED = "confirmed", _("Confirmed")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No show")

    class Source(models.TextChoices):
        SMS = "sms", _("SMS")
        VOICE = "voice", _("Voice")
        WEB = "web", _("Web chat")
        API = "api", _("API")
        MANUAL = "manual", _("Manual")

    # Statuses that hold their time slot; cancelled and no-show appointments free it.
    ACTIVE_STATUSES = (Status.SCHEDULED, Status.CONFIRMED, Status.COMPLETED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="appointments")
    job_type = models.CharField(max_length=100, blank=True)
    trade = models.CharField(max_length=20, choices=Trade.choices, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    is_emergency = models.BooleanField(default=False)
    start = models.DateTimeField()
    end = models.DateTimeField()
    estimated_value = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    address = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)
    # Users live in the public schema; a cross-schema foreign key is not possible, so the id is kept.
    technician_id = models.UUIDField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.SMS)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["status", "start"])]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="appointment_end_after_start"),
            ExclusionConstraint(
                name="appointment_no_overlap",
                expressions=[(TsTzRange("start", "end"), RangeOperators.OVERLAPS)],
                condition=Q(status__in=["scheduled", "confirmed", "completed"]),
            ),
        ]

    def __str__(self):
        return f"{self.job_type or self.trade or 'appointment'} {self.start:%Y-%m-%d %H:%M}"


class CustomerPhone(models.Model):
    """Another number of a customer: a duplicate record's number, kept when it was merged in.

    Calls, conversations, messages, opt-outs and consents are keyed by number, so the survivor
    reaches every one of them through its own number and these."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="extra_phones")
    phone = models.CharField(max_length=20, unique=True, help_text=_("E.164"))
    merged_from = models.UUIDField(null=True, blank=True, help_text=_("The customer record it came from"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.phone


class ConversationReview(models.Model):
    """A person's quality review of a conversation (seed 002's conversation QA): kept apart from the
    assistant's own lead outcome so a reviewer's verdict never overwrites what the assistant decided."""

    class Outcome(models.TextChoices):
        BOOKED = "booked", _("Booked")
        FOLLOW_UP = "follow_up", _("Needs a follow-up")
        LOST = "lost", _("Lost")
        NOT_A_LEAD = "not_a_lead", _("Not a lead")
        SPAM = "spam", _("Spam")
        OTHER = "other", _("Other")

    # The conversations app sits above this one (it may import crm, not the reverse): the id is kept.
    conversation_id = models.UUIDField(primary_key=True)
    flags = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    notes = models.TextField(blank=True)
    reviewed_by = models.UUIDField(null=True, blank=True, help_text=_("User who reviewed (public schema id)"))
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"review {self.conversation_id}"
