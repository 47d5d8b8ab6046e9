from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "apps.telephony"
    default_auto_field = "django.db.models.BigAutoField"
