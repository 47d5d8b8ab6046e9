from rest_framework import serializers

from apps.conversations.models import Conversation, Message


class ConversationOutputSerializer(serializers.ModelSerializer):
    message_count = serializers.IntegerField(read_only=True, default=None)

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
            "last_message_at",
            "created_at",
            "updated_at",
            "resolved_at",
        ]


class MessageOutputSerializer(serializers.ModelSerializer):
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
        ]
