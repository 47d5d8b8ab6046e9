"""Conversations with customers, their SMS messages and opt-outs. An outbound message is sent by
the outbox (``apps.outbox``): its delivery row, whose status the message mirrors."""

import uuid

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from nevermisscall.choices import Trade


class LeadUrgency(models.TextChoices):
    EMERGENCY = "emergency", _("Emergency")
    URGENT = "urgent", _("Urgent")
    NORMAL = "normal", _("Normal")


class LeadOutcome(models.TextChoices):
    BOOKED = "booked", pgettext_lazy("lead outcome", "Booked")
    DECLINED_OUT_OF_AREA = "declined_out_of_area", _("Declined: outside the service area")
    DECLINED_OUT_OF_TRADE = "declined_out_of_trade", _("Declined: not a service we offer")
    PRICE_ONLY = "price_only", _("Price only")
    HANDED_TO_HUMAN = "handed_to_human", _("Handed to a person")
    OPTED_OUT = "opted_out", _("Opted out")
    SPAM = "spam", _("Spam")
    ABANDONED = "abandoned", _("Abandoned")


class LeadOutcomeReason(models.TextChoices):
    CUSTOMER_CONFIRMED = "customer_confirmed", _("The customer confirmed the proposed time")
    OUTSIDE_SERVICE_AREA = "outside_service_area", _("The address is outside the service area")
    OUTSIDE_TRADES = "outside_trades", _("The job is not one of the business's trades")
    PRICE_ANSWERED = "price_answered", _("The customer asked for a price and did not book")
    OWNER_TOOK_OVER = "owner_took_over", _("A team member took over the conversation")
    NO_AVAILABILITY = "no_availability", _("No opening in the booking horizon")
    AUTO_BOOK_OFF = "auto_book_off", _("The assistant does not book for this business: the team confirms")
    EMERGENCY_SERVICE_OFF = "emergency_service_off", _("An emergency, and the business does not take emergencies")
    ESCALATED = "escalated", _("The assistant handed the conversation to the team")
    HUMAN_REQUESTED = "human_requested", _("The customer asked for a person")
    MESSAGE_LIMIT = "message_limit", _("The assistant reached its message limit")
    STOP_KEYWORD = "stop_keyword", _("The customer replied STOP")
    ASKED_TO_STOP = "asked_to_stop", _("The customer asked in their own words to get no more texts")
    CARRIER_UNSUBSCRIBED = "carrier_unsubscribed", _("The carrier reports the number as unsubscribed")
    STAFF_OPT_OUT = "staff_opt_out", _("A team member recorded the opt-out")
    SUSPECTED_SPAM = "suspected_spam", _("A marketing or scam text, not a customer")
    RESOLVED = "resolved", _("Resolved without an outcome")
    IDLE = "idle", _("The conversation went quiet")
    SESSION_ENDED = "session_ended", _("The call or chat ended without an outcome")


class LeadRecord(models.Model):
    """What the assistant learnt about the lead, kept whether or not it booked (docs/assistant.md).

    Plain columns so they can be filtered. Extracted values (job, urgency, address, time window)
    come from the dispatch engine's turns and are only replaced by non-empty ones; the outcome is
    blank while the conversation is open (``apps/conversations/leads.py``).
    """

    lead_job_type = models.CharField(
        max_length=100,
        blank=True,
        db_default="",
        help_text=_("The business's job key (its estimate), else the engine's"),
    )
    lead_job_label = models.CharField(max_length=100, blank=True, db_default="")
    lead_trade = models.CharField(max_length=20, choices=Trade.choices, blank=True, db_default="")
    lead_intent = models.CharField(
        max_length=20, blank=True, db_default="", help_text=_("appointment, pricing or emergency, as last read")
    )
    lead_urgency = models.CharField(max_length=10, choices=LeadUrgency.choices, blank=True, db_default="")
    lead_urgency_reason = models.CharField(max_length=200, blank=True, db_default="")
    lead_address = models.CharField(max_length=300, blank=True, db_default="", help_text=_("As last corrected"))
    lead_latitude = models.FloatField(null=True, blank=True)
    lead_longitude = models.FloatField(null=True, blank=True)
    lead_in_service_area = models.BooleanField(null=True, blank=True, help_text=_("Null: not decided (not located)"))
    lead_distance_miles = models.FloatField(null=True, blank=True)
    lead_time_window = models.CharField(max_length=200, blank=True, db_default="")
    lead_outcome = models.CharField(max_length=30, choices=LeadOutcome.choices, blank=True, db_default="")
    lead_outcome_reason = models.CharField(max_length=40, choices=LeadOutcomeReason.choices, blank=True, db_default="")
    lead_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class NeedsYouReason(models.TextChoices):
    """Why a conversation waits for a person (docs/dashboard.md, "Needs you")."""

    EMERGENCY = "emergency", _("Emergency")
    HANDOFF = "handoff", _("Asked for a person")
    ESCALATED = "escalated", _("Handed to the team")
    DELIVERY_FAILED = "delivery_failed", _("A text was not delivered")
    ALERT_FAILED = "alert_failed", _("The owner alert was not delivered")


# A lower number wins: an emergency is never replaced by a lesser reason until someone acts.
NEEDS_YOU_PRIORITY = {
    NeedsYouReason.EMERGENCY: 0,
    NeedsYouReason.HANDOFF: 1,
    NeedsYouReason.ALERT_FAILED: 2,
    NeedsYouReason.DELIVERY_FAILED: 3,
    NeedsYouReason.ESCALATED: 4,
}


class Conversation(LeadRecord):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RESOLVED = "resolved", _("Resolved")

    class Handler(models.TextChoices):
        AI = "ai", _("AI assistant")
        HUMAN = "human", _("Human")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer_number = models.CharField(max_length=20, help_text=_("E.164"))
    business_number = models.CharField(max_length=20, help_text=_("The business's Twilio number, E.164"))
    customer_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    handled_by = models.CharField(max_length=10, choices=Handler.choices, default=Handler.AI)
    taken_over_by = models.UUIDField(null=True, blank=True, help_text=_("User who took over (public schema id)"))
    taken_over_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    # The assistant's progress: its last conversation_stage, the appointment it booked, and when it
    # alerted the owner about an emergency (once per conversation).
    stage = models.CharField(max_length=30, blank=True, db_default="")
    appointment_id = models.UUIDField(null=True, blank=True, help_text=_("Appointment the assistant booked"))
    owner_alerted_at = models.DateTimeField(null=True, blank=True)
    # "Needs you": set by the event that needs a person (emergency, hand-off, failed delivery),
    # cleared by a person's action (reply, take over, hand back, resolve, mark handled).
    needs_you_reason = models.CharField(max_length=20, choices=NeedsYouReason.choices, blank=True, db_default="")
    needs_you_at = models.DateTimeField(null=True, blank=True)
    needs_you_text = models.CharField(
        max_length=500, blank=True, db_default="", help_text=_("What raised it: the customer's text or the error")
    )
    assigned_to = models.UUIDField(null=True, blank=True, help_text=_("Teammate in charge (public schema id)"))
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["customer_number", "-created_at"]),
            models.Index(fields=["status", "-last_message_at"]),
            models.Index(
                fields=["needs_you_at"], condition=Q(needs_you_at__isnull=False), name="conversation_needs_you"
            ),
        ]
        constraints = [
            # One active conversation per customer: concurrent missed calls and texts share it.
            models.UniqueConstraint(
                fields=["customer_number"], condition=Q(status="active"), name="one_active_conversation_per_customer"
            ),
        ]

    def __str__(self):
        return f"{self.customer_number} ({self.status})"


class ConversationNote(models.Model):
    """An internal note of the team on a conversation: shown in the thread, never sent to anyone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="internal_notes")
    author_id = models.UUIDField(null=True, blank=True, help_text=_("User who wrote it (public schema id)"))
    author_name = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["conversation", "created_at"])]

    def __str__(self):
        return f"note on {self.conversation_id}"


class ConversationRead(models.Model):
    """When one user last read a conversation: unread is a message after it, per user."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reads")
    user_id = models.UUIDField()
    read_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "user_id"], name="conversation_read_once")]

    def __str__(self):
        return f"{self.user_id} read {self.conversation_id}"


class QuickReply(models.Model):
    """A business's canned text, inserted into the composer (the owner edits it before sending)."""

    title = models.CharField(max_length=60)
    body = models.TextField(max_length=1600)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.title


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        UNDELIVERED = "undelivered", _("Undelivered")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")

    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("From the customer")
        AUTO_REPLY = "auto_reply", _("Missed-call auto-reply")
        AI = "ai", _("Assistant reply")
        HUMAN = "human", _("Staff reply")
        KEYWORD = "keyword", _("Keyword reply (HELP, START)")
        OPT_OUT_CONFIRMATION = "opt_out_confirmation", _("Confirmation of an opt-out in the customer's words")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_number = models.CharField(max_length=20)
    to_number = models.CharField(max_length=20)
    body = models.TextField(blank=True)
    media = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    provider_sid = models.CharField(max_length=64, null=True, blank=True, unique=True, help_text=_("Twilio MessageSid"))
    # Makes "send X once" a database fact, e.g. ``auto-reply:<CallSid>``.
    idempotency_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    sent_by = models.UUIDField(null=True, blank=True, help_text=_("Staff user who wrote it"))
    # On assistant replies: the slot this reply offered, so a later "yes" confirms that one.
    proposed_slot = models.JSONField(null=True, blank=True)
    segments = models.PositiveSmallIntegerField(null=True, blank=True, help_text=_("SMS segments it costs"))
    # Inbound: when the conversation engine claimed it (its decision runs with no transaction open;
    # a claim older than INBOUND_CLAIM_STALE_SECONDS belonged to a worker that died).
    claimed_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Inbound: when the conversation engine took its decision (answer or not). Null only while a
    # message waits for the engine; the inbound sweep hands over the ones whose hand-off was lost.
    handled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["conversation", "created_at"]),
            models.Index(fields=["to_number", "kind", "-created_at"]),
            models.Index(
                fields=["created_at"],
                condition=Q(direction="inbound", handled_at__isnull=True),
                name="message_unhandled",
            ),
        ]

    def __str__(self):
        return f"{self.direction} {self.to_number} ({self.status})"


class MessageStatusEvent(models.Model):
    """One SMS status callback, as Twilio sent it: the message's delivery history.

    The message keeps only its latest status, which never moves backwards; this keeps every step,
    including a ``sent`` arriving after ``delivered``. Twilio's retries of one callback carry the
    same fields, so (message, MessageSid, status, payload hash) is unique and a retry adds nothing.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="status_events")
    message_sid = models.CharField(max_length=64, blank=True, help_text=_("Twilio MessageSid"))
    status = models.CharField(max_length=20, help_text=_("Twilio's MessageStatus, as sent"))
    error_code = models.CharField(max_length=20, blank=True)
    payload = models.JSONField(default=dict, blank=True, help_text=_("The callback's fields"))
    payload_sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "message_sid", "status", "payload_sha256"], name="message_status_event_once"
            ),
        ]

    def __str__(self):
        return f"{self.message_sid} {self.status}"


class OptOut(models.Model):
    """A customer number that said STOP to this business (or that Twilio reported as unsubscribed)."""

    class Source(models.TextChoices):
        KEYWORD = "keyword", _("Keyword from the customer")
        PROVIDER = "provider", _("Provider error 21610")
        STAFF = "staff", _("Staff")
        MESSAGE = "message", _("Asked in the customer's own words")

    phone_number = models.CharField(max_length=20, unique=True)
    opted_out = models.BooleanField(default=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    keyword = models.CharField(max_length=20, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    opted_in_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self):
        return f"{self.phone_number} ({'out' if self.opted_out else 'in'})"


class AssistantSession(LeadRecord):
    """A voice call or web-chat conversation with the assistant, turn by turn.

    Persisted (not in process memory) so any web process can serve the next turn. ``history`` holds
    the dispatch engine's conversation history: ``{"role", "content", "proposed_slot"}`` dicts.
    """

    class Channel(models.TextChoices):
        VOICE = "voice", _("Voice call")
        WEB = "web", _("Web chat widget")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        BOOKED = "booked", _("Appointment booked")
        TRANSFERRED = "transferred", _("Handed to the owner or voicemail")
        ENDED = "ended", _("Ended")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    call_sid = models.CharField(max_length=64, null=True, blank=True, unique=True, help_text=_("Twilio CallSid"))
    caller_phone = models.CharField(max_length=20, blank=True)
    called_number = models.CharField(max_length=20, blank=True)
    customer_name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=10, default="en")
    history = models.JSONField(default=list, blank=True)
    stage = models.CharField(max_length=30, blank=True)
    turns = models.PositiveSmallIntegerField(default=0)
    appointment_id = models.UUIDField(null=True, blank=True)
    owner_alerted_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(auto_now=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["channel", "-created_at"])]

    def __str__(self):
        return f"{self.channel} {self.caller_phone or self.id} ({self.status})"
