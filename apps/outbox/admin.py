"""The outbox on the public admin site (its rows live in the public schema, each with its business).

Deliveries and attempts are read-only here: their state changes go through ``services`` (the retry
action), never through a form. Webhook secrets are never shown: only their first characters.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from apps.outbox import services
from apps.outbox.models import Delivery, DeliveryAttempt, SmsConsent, WebhookEndpoint
from nevermisscall.errors import BusinessRuleViolation

ATTEMPT_FIELDS = ["number", "started_at", "duration_ms", "outcome", "provider_status", "provider_answer", "error"]


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ATTEMPT_FIELDS
    readonly_fields = ATTEMPT_FIELDS

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _retry(delivery: Delivery) -> None:
    """In the business's schema, where the delivery's cause (a message) is told of the change."""
    context = tenant_context(delivery.business) if delivery.business_id else schema_context(get_public_schema_name())
    with context:
        services.delivery_retry(delivery=delivery)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "business",
        "channel",
        "purpose",
        "kind",
        "recipient",
        "status",
        "hold_reason",
        "attempts",
        "last_error_code",
    ]
    list_filter = ["channel", "status", "kind", "hold_reason", "purpose", "business"]
    search_fields = ["recipient", "idempotency_key", "provider_ref", "cause_id"]
    list_select_related = ["business"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    inlines = [DeliveryAttemptInline]
    actions = ["retry_deliveries"]
    fieldsets = [
        (None, {"fields": ["business", "channel", "kind", "purpose", "recipient", "sender", "language"]}),
        (_("Content"), {"fields": ["payload", "segments", "encoding"]}),
        (_("Cause"), {"fields": ["cause_type", "cause_id", "idempotency_key"]}),
        (
            _("Sending"),
            {
                "fields": [
                    "status",
                    "hold_reason",
                    "attempts",
                    "max_attempts",
                    "next_attempt_at",
                    "claimed_at",
                    "expires_at",
                    "provider_ref",
                    "last_error",
                    "last_error_code",
                ]
            },
        ),
        (_("Dates"), {"fields": ["created_at", "sent_at", "delivered_at", "updated_at"]}),
    ]
    readonly_fields = [field for _name, options in fieldsets for field in options["fields"]]

    def has_add_permission(self, request):
        return False  # Deliveries are queued by the product, in the transaction that causes them.

    @admin.action(description=_("Retry selected failed/dead deliveries"), permissions=["change"])
    def retry_deliveries(self, request, queryset):
        retried = skipped = 0
        for delivery in queryset.select_related("business").order_by("pk"):
            if not delivery.is_retryable:
                skipped += 1
                continue
            try:
                _retry(delivery)
            except BusinessRuleViolation:  # Changed since the list was shown.
                skipped += 1
            else:
                retried += 1
        message = ngettext("%(count)d delivery queued again", "%(count)d deliveries queued again", retried) % {
            "count": retried
        }
        if skipped:
            message += "; " + ngettext(
                "%(count)d skipped (only failed or dead deliveries can be retried).",
                "%(count)d skipped (only failed or dead deliveries can be retried).",
                skipped,
            ) % {"count": skipped}
        self.message_user(request, message, messages.SUCCESS if retried else messages.WARNING)


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = ["delivery", "number", "outcome", "provider_status", "started_at", "duration_ms"]
    list_filter = ["outcome", "started_at"]
    search_fields = ["delivery__recipient", "delivery__idempotency_key", "delivery__provider_ref", "error"]
    list_select_related = ["delivery"]
    readonly_fields = ["delivery", *ATTEMPT_FIELDS]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "business", "is_active", "secret_prefix", "disabled_reason", "created_at"]
    list_filter = ["is_active", "business"]
    search_fields = ["url", "description", "secret_prefix", "business__name"]
    list_select_related = ["business"]
    actions = ["disable_endpoints", "enable_endpoints"]
    # Never the encrypted secret: its first characters identify it. The business edits its endpoints;
    # here they are switched off and on through the service, like the dashboard does.
    fields = [
        "business",
        "url",
        "description",
        "event_types",
        "secret_prefix",
        "is_active",
        "disabled_at",
        "disabled_reason",
        "created_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # Made by the business (dashboard or API), which is shown the secret once.

    def _set_active(self, request, queryset, active: bool):
        changed = 0
        for endpoint in queryset.order_by("pk"):
            if endpoint.is_active != active:
                services.webhook_endpoint_update(endpoint=endpoint, data={"is_active": active})
                changed += 1
        self.message_user(
            request,
            ngettext("%(count)d endpoint changed.", "%(count)d endpoints changed.", changed) % {"count": changed},
        )

    @admin.action(description=_("Disable selected endpoints"), permissions=["change"])
    def disable_endpoints(self, request, queryset):
        self._set_active(request, queryset, False)

    @admin.action(description=_("Enable selected endpoints"), permissions=["change"])
    def enable_endpoints(self, request, queryset):
        self._set_active(request, queryset, True)


@admin.register(SmsConsent)
class SmsConsentAdmin(admin.ModelAdmin):
    list_display = ["phone_number", "business", "source", "granted_at", "revoked_at"]
    list_filter = ["source", "revoked_at", "business"]
    search_fields = ["phone_number", "business__name", "evidence"]
    list_select_related = ["business"]
    readonly_fields = ["granted_at"]
