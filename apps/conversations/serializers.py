from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.conversations.models import (
    Conversation,
    ConversationNote,
    LeadOutcome,
    LeadOutcomeReason,
    LeadUrgency,
    Message,
    MessageStatusEvent,
)
from nevermisscall.choices import Trade


class LeadOutputSerializer(serializers.ModelSerializer):
    """The conversation's lead record (docs/assistant.md, "The lead record"): what the assistant
    learnt, kept whether or not it booked. Blank strings and nulls: not known (yet)."""

    customer_name = serializers.CharField(read_only=True, help_text="The customer's name, when given.")
    job_type = serializers.CharField(
        source="lead_job_type",
        read_only=True,
        help_text="The job: the business's own job key (the estimate the engine matched), else the engine's key.",
    )
    job_label = serializers.CharField(source="lead_job_label", read_only=True, help_text="The job in words.")
    trade = serializers.ChoiceField(
        source="lead_trade", choices=Trade.choices, allow_blank=True, read_only=True, help_text="The job's trade."
    )
    intent = serializers.CharField(
        source="lead_intent", read_only=True, help_text="appointment, pricing or emergency: the request, as last read."
    )
    urgency = serializers.ChoiceField(
        source="lead_urgency",
        choices=LeadUrgency.choices,
        allow_blank=True,
        read_only=True,
        help_text="emergency, urgent or normal; blank while unknown.",
    )
    urgency_reason = serializers.CharField(
        source="lead_urgency_reason",
        read_only=True,
        help_text="The customer's words behind the urgency (\u201cburst, flooding\u201d, \u201cno hot water\u201d, \u201cno rush\u201d).",
    )
    address = serializers.CharField(
        source="lead_address", read_only=True, help_text="The service address, as last corrected by the customer."
    )
    latitude = serializers.FloatField(source="lead_latitude", read_only=True, allow_null=True)
    longitude = serializers.FloatField(source="lead_longitude", read_only=True, allow_null=True)
    in_service_area = serializers.BooleanField(
        source="lead_in_service_area",
        read_only=True,
        allow_null=True,
        help_text="The service-area decision for the address; null when the address could not be located.",
    )
    distance_miles = serializers.FloatField(
        source="lead_distance_miles",
        read_only=True,
        allow_null=True,
        help_text="Miles from the business's service-area center to the address.",
    )
    time_window = serializers.CharField(
        source="lead_time_window",
        read_only=True,
        help_text="The customer's time window: the parsed window (business time) and their words.",
    )
    stage = serializers.CharField(read_only=True, help_text="The assistant's conversation stage.")
    outcome = serializers.ChoiceField(
        source="lead_outcome",
        choices=LeadOutcome.choices,
        allow_blank=True,
        read_only=True,
        help_text="How the conversation ended; blank while it is open.",
    )
    outcome_reason = serializers.ChoiceField(
        source="lead_outcome_reason",
        choices=LeadOutcomeReason.choices,
        allow_blank=True,
        read_only=True,
        help_text="Why it ended so (a code; outcome_reason_text says it in words).",
    )
    outcome_reason_text = serializers.CharField(
        source="get_lead_outcome_reason_display", read_only=True, help_text="outcome_reason in words."
    )
    appointment_id = serializers.UUIDField(read_only=True, allow_null=True, help_text="The appointment it booked.")
    updated_at = serializers.DateTimeField(
        source="lead_updated_at", read_only=True, allow_null=True, help_text="When the lead record last changed."
    )

    class Meta:
        model = Conversation
        fields = [
            "customer_name",
            "job_type",
            "job_label",
            "trade",
            "intent",
            "urgency",
            "urgency_reason",
            "address",
            "latitude",
            "longitude",
            "in_service_area",
            "distance_miles",
            "time_window",
            "stage",
            "outcome",
            "outcome_reason",
            "outcome_reason_text",
            "appointment_id",
            "updated_at",
        ]


class NeedsYouOutputSerializer(serializers.Serializer):
    """Null while nobody is needed; else why (emergency, handoff, escalated, delivery_failed,
    alert_failed), since when, and the text that raised it."""

    reason = serializers.CharField(source="needs_you_reason")
    since = serializers.DateTimeField(source="needs_you_at")
    text = serializers.CharField(source="needs_you_text")


class ConversationOutputSerializer(serializers.ModelSerializer):
    message_count = serializers.IntegerField(read_only=True, default=None)
    lead = LeadOutputSerializer(source="*", read_only=True)
    needs_you = serializers.SerializerMethodField(
        help_text="Set while the conversation waits for a person (docs/dashboard.md); cleared by a reply, "
        "take over, hand back, resolve or `POST …/handled`."
    )

    @extend_schema_field(NeedsYouOutputSerializer(allow_null=True))
    def get_needs_you(self, conversation):
        return NeedsYouOutputSerializer(conversation).data if conversation.needs_you_at else None

    class Meta:
        model = Conversation
        fields = [
            "id",
            "customer_number",
            "business_number",
            "customer_name",
            "status",
            "handled_by",
            "taken_over_by",
            "taken_over_at",
            "notes",
            "tags",
            "message_count",
            "lead",
            "last_message_at",
            "created_at",
            "updated_at",
            "resolved_at",
            "needs_you",
            "assigned_to",
        ]


class ConversationNoteOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConversationNote
        fields = ["id", "conversation_id", "author_id", "author_name", "body", "created_at"]


class MessageStatusEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageStatusEvent
        fields = ["status", "error_code", "received_at"]


class MessageOutputSerializer(serializers.ModelSerializer):
    status_history = MessageStatusEventSerializer(
        source="status_events",
        many=True,
        read_only=True,
        help_text="Every SMS status callback Twilio sent for this message, oldest first (retries once); "
        "`status` is the latest that moved it forward.",
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation_id",
            "direction",
            "kind",
            "from_number",
            "to_number",
            "body",
            "media",
            "status",
            "provider_sid",
            "sent_by",
            "segments",
            "error_code",
            "error_message",
            "created_at",
            "sent_at",
            "delivered_at",
            "status_history",
        ]
