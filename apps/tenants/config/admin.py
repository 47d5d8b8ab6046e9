from django.contrib import admin

from apps.tenants.config.models import BusinessConfig
from nevermisscall.admin import TenantModelAdmin


@admin.register(BusinessConfig)
class BusinessConfigAdmin(TenantModelAdmin):
    list_display = ["id", "forwarding_number", "ring_timeout", "call_screening", "language", "updated_at"]
    list_filter = ["call_screening", "language"]
    search_fields = ["forwarding_number", "greeting_template", "auto_reply_template"]
