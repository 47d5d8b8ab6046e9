from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "apps.analytics"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Analytics and live connections"

    def ready(self):
        # AI turns are measured from their usage row (tokens, latency): analytics listens, dispatch
        # does not know it exists.
        from django.db.models.signals import post_save

        from apps.analytics.metrics import ai_usage_recorded
        from apps.dispatch.models import AiUsage

        post_save.connect(ai_usage_recorded, sender=AiUsage, dispatch_uid="analytics.ai_usage_recorded")
