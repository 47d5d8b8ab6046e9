from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "apps.crm"
    default_auto_field = "django.db.models.BigAutoField"
