from django.contrib import admin

from apps.campaigns.models import CampaignMessage, CampaignRun, CampaignSettings
from nevermisscall.admin import TenantModelAdmin


@admin.register(CampaignSettings)
class CampaignSettingsAdmin(TenantModelAdmin):
    list_display = ["id", "reminders_paused", "followups_paused", "retention_paused", "reviews_paused", "updated_at"]


@admin.register(CampaignRun)
class CampaignRunAdmin(TenantModelAdmin):
    list_display = ["kind", "trigger", "started_at", "finished_at", "selected", "sent", "skipped", "failed"]
    list_filter = ["kind", "trigger", "started_at"]
    date_hierarchy = "started_at"


@admin.register(CampaignMessage)
class CampaignMessageAdmin(TenantModelAdmin):
    list_display = ["kind", "subject_id", "phone", "status", "skip_reason", "answer", "created_at"]
    list_filter = ["kind", "status", "answer", "created_at"]
    search_fields = ["phone", "subject_id"]
