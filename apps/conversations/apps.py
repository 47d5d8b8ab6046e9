from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "apps.conversations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.conversations import selectors, services, views
        from apps.outbox import hooks

        hooks.register_opt_out(
            opt_out_rows=lambda phone_number: selectors.opt_out_rows(phone_number=phone_number),
            record_opt_out=services.opt_out_record_from_provider,
        )
        hooks.register_cause_listener("message", services.message_delivery_changed)
        # The owner's alerts about a conversation (or the appointment it booked): a failure needs you.
        hooks.register_cause_listener("conversation", services.owner_alert_delivery_changed)
        hooks.register_cause_listener("appointment", services.owner_alert_delivery_changed)
        hooks.register_cause_link("message", views.thread_url_of_message)
        hooks.register_cause_link("conversation", views.thread_url_of_conversation)

        from apps.conversations import timeline
        from apps.crm.hooks import register_timeline_source

        # The CRM's customer timeline (crm cannot import conversations).
        register_timeline_source("conversation", timeline.conversation_items)
        register_timeline_source("message", timeline.message_items)
