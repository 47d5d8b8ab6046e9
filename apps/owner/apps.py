from django.apps import AppConfig


class OwnerConfig(AppConfig):
    name = "apps.owner"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Owner API: schedules, summaries, analytics and exports"
