from rest_framework import serializers

from apps.outbox.models import Channel, Delivery, DeliveryAttempt, WebhookEndpoint

WEBHOOK_EVENT_TYPES = ["emergency.detected", "appointment.booked", "conversation.handoff_requested", "webhook.test"]


class DeliveryAttemptOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "started_at", "duration_ms", "outcome", "provider_status", "provider_answer", "error"]


class DeliveryOutputSerializer(serializers.ModelSerializer):
    cause = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = [
            "id",
            "channel",
            "kind",
            "purpose",
            "recipient",
            "sender",
            "body",
            "cause",
            "idempotency_key",
            "status",
            "hold_reason",
            "attempts",
            "max_attempts",
            "next_attempt_at",
            "expires_at",
            "provider_ref",
            "segments",
            "encoding",
            "last_error",
            "last_error_code",
            "created_at",
            "sent_at",
            "delivered_at",
        ]

    def get_cause(self, delivery) -> dict:
        return {"type": delivery.cause_type or None, "id": delivery.cause_id or None}

    def get_body(self, delivery) -> str | None:
        """An SMS's text, an e-mail's template, a webhook's event type."""
        payload = delivery.payload or {}
        return payload.get("body") or payload.get("template") or payload.get("event")


class DeliveryDetailOutputSerializer(DeliveryOutputSerializer):
    attempt_history = DeliveryAttemptOutputSerializer(source="attempt_rows", many=True, read_only=True)

    class Meta(DeliveryOutputSerializer.Meta):
        fields = [*DeliveryOutputSerializer.Meta.fields, "attempt_history"]


class DeliveryFilterSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    status = serializers.ChoiceField(choices=Delivery.Status.choices, required=False)
    kind = serializers.ChoiceField(choices=Delivery.Kind.choices, required=False)
    purpose = serializers.CharField(max_length=40, required=False)
    recipient = serializers.CharField(max_length=200, required=False)
    cause_type = serializers.CharField(max_length=40, required=False)
    cause_id = serializers.CharField(max_length=64, required=False)
    date_from = serializers.DateTimeField(required=False)
    date_to = serializers.DateTimeField(required=False)


class WebhookEndpointOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "secret_prefix",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]


class WebhookEndpointCreatedSerializer(WebhookEndpointOutputSerializer):
    secret = serializers.CharField(help_text="The signing secret: shown only in this response.")

    class Meta(WebhookEndpointOutputSerializer.Meta):
        fields = [*WebhookEndpointOutputSerializer.Meta.fields, "secret"]


class WebhookEndpointInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    description = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=WEBHOOK_EVENT_TYPES), required=False, default=list, max_length=20
    )
    is_active = serializers.BooleanField(required=False)
