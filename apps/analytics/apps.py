from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "apps.analytics"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Analytics and live connections"

    def ready(self):
        # AI turns are measured from their usage row (tokens, latency): analytics listens, dispatch
        # does not know it exists.
        from django.db.models.signals import post_save

        from apps.analytics.metrics import ai_usage_recorded, delivery_settled_sql
        from apps.dispatch.models import AiUsage
        from apps.outbox.hooks import register_settled_sql

        post_save.connect(ai_usage_recorded, sender=AiUsage, dispatch_uid="analytics.ai_usage_recorded")

        # E-mails, webhooks and pushes are counted by the statement that settles their delivery.
        register_settled_sql(delivery_settled_sql)
