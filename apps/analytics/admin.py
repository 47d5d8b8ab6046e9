from django.contrib import admin

from apps.analytics.models import FeedEvent, MetricRollup
from nevermisscall.admin import TenantModelAdmin


@admin.register(FeedEvent)
class FeedEventAdmin(TenantModelAdmin):
    """The stored activity feed: written by the event publisher only, so read-only here."""

    list_display = ["created_at", "event_type", "customer_name", "customer_number", "actor", "text"]
    list_filter = ["event_type", "actor", "created_at"]
    search_fields = ["customer_name", "customer_number", "text", "correlation_id"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MetricRollup)
class MetricRollupAdmin(TenantModelAdmin):
    """The rollups the figures and alert rules read; written by the metric store only."""

    list_display = ["bucket", "grain", "metric", "n", "total", "peak"]
    list_filter = ["grain", "metric"]
    date_hierarchy = "bucket"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
