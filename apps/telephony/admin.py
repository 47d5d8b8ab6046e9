from django.contrib import admin

from apps.telephony.models import Call, CallParticipant, PhoneNumber
from nevermisscall.admin import TenantModelAdmin


@admin.register(PhoneNumber)
class PhoneNumberAdmin(TenantModelAdmin):
    list_display = ["phone_number", "friendly_name", "status", "is_primary", "twilio_sid", "created_at"]
    list_filter = ["status", "is_primary", "country"]
    search_fields = ["phone_number", "friendly_name", "twilio_sid"]


class CallParticipantInline(admin.TabularInline):
    model = CallParticipant
    extra = 0


@admin.register(Call)
class CallAdmin(TenantModelAdmin):
    list_display = ["call_sid", "from_number", "to_number", "status", "missed_reason", "duration", "started_at"]
    list_filter = ["status", "direction", "missed_reason", "screening", "started_at"]
    search_fields = ["call_sid", "from_number", "to_number", "caller_name"]
    readonly_fields = ["call_sid", "started_at", "updated_at"]
    inlines = [CallParticipantInline]


@admin.register(CallParticipant)
class CallParticipantAdmin(TenantModelAdmin):
    list_display = ["call", "role", "phone_number", "name", "joined_at"]
    list_filter = ["role"]
    search_fields = ["phone_number", "name", "call__call_sid"]
