from django.urls import path

from apps.campaigns import api

urlpatterns = [
    path("v1/reminders/send-upcoming", api.SendUpcomingRemindersApi.as_view(), name="reminders-send-upcoming"),
    path("v1/reminders/send-followups", api.SendFollowupsApi.as_view(), name="reminders-send-followups"),
    path("v1/retention/send-retention", api.SendRetentionApi.as_view(), name="retention-send-retention"),
    path("v1/campaigns/settings", api.CampaignSettingsApi.as_view(), name="campaigns-settings"),
    path("v1/campaigns/runs", api.CampaignRunListApi.as_view(), name="campaigns-runs"),
]
