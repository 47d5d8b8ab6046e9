from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Scheduled and on-demand messaging: appointment reminders and the customers' C / R / X
    answers, follow-ups to leads who never booked, retention texts and review requests
    (docs/campaigns.md). A business-schema app at the top of the dependency chain: nothing imports
    it; the inbound SMS turn reaches it through ``settings.SMS_REPLY_HOOK``."""

    name = "apps.campaigns"
    verbose_name = "Campaigns"
    default_auto_field = "django.db.models.BigAutoField"
