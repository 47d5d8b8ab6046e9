from django.apps import AppConfig


class PeriodicConfig(AppConfig):
    """Celery beat's schedule run once per slot across beats (a shared app: rows in the public schema)."""

    name = "apps.periodic"
    verbose_name = "Periodic task slots"
    default_auto_field = "django.db.models.BigAutoField"
