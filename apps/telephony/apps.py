from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "apps.telephony"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.outbox import hooks
        from apps.telephony.selectors import sending_number

        hooks.register_default_sms_sender(sending_number)
