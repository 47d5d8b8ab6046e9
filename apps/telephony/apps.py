from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "apps.telephony"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.outbox import hooks
        from apps.telephony.selectors import sending_number

        hooks.register_default_sms_sender(sending_number)

        from apps.conversations.hooks import register_recent_calls
        from apps.telephony.models import Call

        # The inbox's customer panel (conversations cannot import telephony).
        register_recent_calls(
            lambda phone_number, limit: list(
                Call.objects.filter(from_number=phone_number).order_by("-started_at")[:limit]
            )
        )

        from apps.crm.hooks import register_timeline_source
        from apps.telephony.timeline import call_items

        register_timeline_source("call", call_items)  # The CRM's customer timeline.
