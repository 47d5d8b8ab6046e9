from django.contrib import admin

from apps.alerts.models import Alert, AlertRule
from nevermisscall.admin import TenantModelAdmin


@admin.register(AlertRule)
class AlertRuleAdmin(TenantModelAdmin):
    list_display = ["name", "metric", "comparison", "threshold", "window_minutes", "severity", "is_enabled"]
    list_filter = ["metric", "severity", "is_enabled"]
    search_fields = ["name", "description"]


@admin.register(Alert)
class AlertAdmin(TenantModelAdmin):
    """Alerts change through their actions (API, dashboard), so read-only here."""

    list_display = ["created_at", "title", "severity", "state", "alert_type", "escalation_level"]
    list_filter = ["state", "severity", "source", "alert_type"]
    search_fields = ["title", "message", "fingerprint"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
