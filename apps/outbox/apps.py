from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """Every outbound text, e-mail and webhook (a shared app: rows in the public schema)."""

    name = "apps.outbox"
    verbose_name = "Outbox (deliveries)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.outbox import health

        health.register()
