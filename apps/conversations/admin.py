from django.contrib import admin

from apps.conversations.leads import LEAD_FIELDS
from apps.conversations.models import AssistantSession, Conversation, Message, OptOut
from nevermisscall.admin import TenantModelAdmin


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ["direction", "kind", "body", "status", "created_at"]
    readonly_fields = fields


@admin.register(Conversation)
class ConversationAdmin(TenantModelAdmin):
    list_display = [
        "customer_number",
        "business_number",
        "status",
        "handled_by",
        "lead_outcome",
        "lead_urgency",
        "last_message_at",
        "created_at",
    ]
    list_filter = ["status", "handled_by", "lead_outcome", "lead_urgency", "lead_in_service_area", "created_at"]
    search_fields = ["customer_number", "customer_name", "business_number", "lead_address"]
    readonly_fields = LEAD_FIELDS
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(TenantModelAdmin):
    list_display = ["to_number", "direction", "kind", "status", "segments", "error_code", "created_at"]
    list_filter = ["direction", "kind", "status", "created_at"]
    search_fields = ["to_number", "from_number", "body", "provider_sid", "idempotency_key"]
    readonly_fields = ["provider_sid", "idempotency_key", "created_at", "sent_at", "delivered_at"]


@admin.register(OptOut)
class OptOutAdmin(TenantModelAdmin):
    list_display = ["phone_number", "opted_out", "source", "keyword", "opted_out_at", "opted_in_at"]
    list_filter = ["opted_out", "source"]
    search_fields = ["phone_number"]


@admin.register(AssistantSession)
class AssistantSessionAdmin(TenantModelAdmin):
    list_display = ["channel", "caller_phone", "status", "stage", "lead_outcome", "turns", "language", "created_at"]
    list_filter = ["channel", "status", "lead_outcome", "lead_urgency", "created_at"]
    search_fields = ["caller_phone", "call_sid", "customer_name", "lead_address"]
    readonly_fields = ["history", "appointment_id", "owner_alerted_at", "created_at", "ended_at", *LEAD_FIELDS]
