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


class Reschedule(models.Model):
    """One move of an appointment, or a customer's request for one not yet placed.

    Written by ``crm.services.appointment_update`` in the savepoint of the move itself (a move the
    exclusion constraint refuses leaves no record), and as ``requested`` when a customer answers a
    reminder with R: the move that lands next completes that row instead of adding one."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        MOVED = "moved", _("Moved")

    class MovedBy(models.TextChoices):
        CALENDAR = "calendar", _("Calendar (dashboard)")
        CRM_API = "crm_api", _("CRM API")
        APPOINTMENTS_API = "appointments_api", _("Appointments API")
        ASSISTANT = "assistant", _("Assistant")
        REMINDER_REPLY = "reminder_reply", _("Customer's reply to a reminder")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="reschedules")
    status = models.CharField(max_length=20, choices=Status.choices)
    # Who placed the move; for a request still open, how it was asked.
    moved_by = models.CharField(max_length=20, choices=MovedBy.choices)
    from_start = models.DateTimeField()
    from_end = models.DateTimeField()
    to_start = models.DateTimeField(null=True, blank=True)
    to_end = models.DateTimeField(null=True, blank=True)
    # Users are in the public schema and conversations above this app: their ids are kept.
    actor_id = models.UUIDField(null=True, blank=True, help_text=_("User who moved it (public schema id)"))
    conversation_id = models.UUIDField(null=True, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True, help_text=_("When the customer asked"))
    moved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        # The owner's window: recorded or moved since (an OR of the two, a bitmap OR of these).
        indexes = [models.Index(fields=["created_at"]), models.Index(fields=["moved_at"])]
        constraints = [
            # One open request per appointment: a second R finds it; the next move completes it.
            models.UniqueConstraint(
                fields=["appointment"], condition=Q(status="requested"), name="reschedule_one_open_request"
            ),
            models.CheckConstraint(
                condition=Q(status="requested", to_start__isnull=True, moved_at__isnull=True)
                | Q(status="moved", to_start__isnull=False, to_end__isnull=False, moved_at__isnull=False),
                name="reschedule_moved_has_its_times",
            ),
        ]

    def __str__(self):
        return f"{self.status} {self.appointment_id} {self.from_start:%Y-%m-%d %H:%M}"
