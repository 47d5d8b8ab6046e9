from django.contrib import admin

from apps.dispatch.models import AiUsage
from nevermisscall.admin import TenantModelAdmin


@admin.register(AiUsage)
class AiUsageAdmin(TenantModelAdmin):
    list_display = [
        "created_at",
        "engine",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "latency_ms",
        "cost_usd",
        "fallback_used",
        "error",
    ]
    list_filter = ["engine", "fallback_used", "model", "purpose", "created_at"]
    search_fields = ["model", "error", "conversation_ref", "intent"]
    date_hierarchy = "created_at"
