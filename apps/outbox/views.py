"""Dashboard pages: the deliveries (every text, e-mail and webhook the business sent or will send),
one delivery with its attempts and a retry, and the business's webhook endpoints in settings."""

import json
import zoneinfo
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from apps.outbox import hooks, selectors, services
from apps.outbox.models import Channel, Delivery, WebhookEndpoint
from apps.outbox.serializers import WEBHOOK_EVENT_TYPES, WebhookEndpointInputSerializer
from apps.tenants.views import SETTINGS_SECTIONS
from nevermisscall.errors import BusinessRuleViolation, ValidationFailed
from nevermisscall.views import (
    BadQuery,
    business_member_required,
    error_lines,
    flatten_errors,
    paginate,
    query_choice,
    query_date,
    query_without_page,
)

# The summary strip counts the last month, plus whatever still waits whatever its age.
SUMMARY_DAYS = 30

PURPOSES = {
    "auto_reply": gettext_lazy("Missed-call text"),
    "ai": gettext_lazy("Assistant reply"),
    "human": gettext_lazy("Staff reply"),
    "keyword": gettext_lazy("Keyword reply"),
    "owner_alert": gettext_lazy("Owner alert"),
    "webhook_event": gettext_lazy("Webhook"),
    "webhook_test": gettext_lazy("Webhook (test)"),
}

HOLDS = {
    Delivery.Hold.QUIET_HOURS: gettext_lazy("Waiting for the end of the recipient's quiet hours"),
    Delivery.Hold.QUOTA: gettext_lazy("Waiting for midnight: daily text limit reached"),
    Delivery.Hold.CIRCUIT_OPEN: gettext_lazy("Waiting: the provider is not answering, we will try again shortly"),
}

# Why a delivery failed, by the code the dispatcher stored (Twilio's error codes for texts).
FAILURES = {
    "opted_out": gettext_lazy("The customer replied STOP, so nothing more is sent to this number."),
    "21610": gettext_lazy("The customer replied STOP, so nothing more is sent to this number."),
    "21211": gettext_lazy("This is not a valid phone number."),
    "21614": gettext_lazy("This number cannot receive texts (it is not a mobile number)."),
    "30003": gettext_lazy("The phone was unreachable: switched off or out of coverage."),
    "30004": gettext_lazy("The recipient's carrier blocked the text."),
    "30005": gettext_lazy("The number does not exist or is no longer in service."),
    "30006": gettext_lazy("The number is a landline or cannot receive texts."),
    "30007": gettext_lazy("The carrier filtered the text as spam."),
    "30008": gettext_lazy("The carrier could not deliver the text (unknown error)."),
    "410": gettext_lazy("The webhook endpoint answered 410 Gone, so it was disabled."),
    "endpoint_disabled": gettext_lazy("The webhook endpoint was removed or disabled."),
}
POLICY_FAILURES = {
    "Expired": gettext_lazy("It expired before it could be sent (it would have arrived too late)."),
    "No marketing consent": gettext_lazy("No marketing consent is recorded for this number."),
}

EVENT_TYPES = {
    "emergency.detected": gettext_lazy("Emergency detected"),
    "appointment.booked": gettext_lazy("Appointment booked"),
    "conversation.handoff_requested": gettext_lazy("A customer asked for a person"),
    "webhook.test": gettext_lazy("Test event"),
}


def _require(request, permission: str) -> None:
    if not request.user.has_business_permission(permission):
        raise PermissionDenied


def purpose_label(purpose: str) -> str:
    return str(PURPOSES.get(purpose) or purpose.replace("_", " ").capitalize())


def failure_reason(delivery: Delivery) -> str:
    """Why a failed or dead delivery did not go out, in plain words."""
    code, error = delivery.last_error_code, delivery.last_error
    if code in FAILURES:
        return str(FAILURES[code])
    if code == "policy":
        for start, reason in POLICY_FAILURES.items():
            if error.startswith(start):
                return str(reason)
    if delivery.status == Delivery.Status.DEAD:
        reason = ngettext(
            "We tried %(count)d time without success and stopped.",
            "We tried %(count)d times without success and stopped.",
            delivery.attempts,
        ) % {"count": delivery.attempts}
    elif delivery.channel == Channel.EMAIL and code.startswith("5"):
        reason = _("The mail server refused the message.")
    else:
        reason = _("It could not be sent.")
    return f"{reason} {_('Last error: %(error)s') % {'error': error}}" if error else reason


# --- the deliveries ---------------------------------------------------------------------------------


def _delivery_filters(request, business) -> tuple[dict, list[str]]:
    """The filters of the query string, and a notice when they cannot match anything. A value that
    cannot be used (an unknown channel, ``2026-13-45``) is a BadQuery: the 400 page names it."""
    filters, errors, problems = {}, [], []
    choices = (
        ("channel", "channel", Channel.values, _("channel")),
        ("status", "status", Delivery.Status.values, _("status")),
        ("held", "hold_reason", HOLDS, _("hold reason")),
    )
    for param, name, allowed, label in choices:
        try:
            value = query_choice(request, param, allowed, label=label)
        except BadQuery as exc:
            errors += exc.problems
            continue
        if value:
            filters[name] = value
    zone = zoneinfo.ZoneInfo(business.timezone)
    days = {}
    for param in ("date_from", "date_to"):
        try:
            days[param] = query_date(request, param)
        except BadQuery as exc:
            errors += exc.problems
    if errors:
        raise BadQuery(errors)
    if days.get("date_from"):
        filters["date_from"] = datetime.combine(days["date_from"], time.min, tzinfo=zone)
    if days.get("date_to") and days["date_to"] < date.max:  # The whole day: up to the next local midnight.
        filters["date_to"] = datetime.combine(days["date_to"] + timedelta(days=1), time.min, tzinfo=zone)
    if days.get("date_from") and days.get("date_to") and days["date_from"] > days["date_to"]:
        problems.append(_("The “from” date is after the “to” date, so nothing matches."))
    return filters, problems


def _label_rows(rows):
    for delivery in rows:
        delivery.purpose_label = purpose_label(delivery.purpose)
        delivery.hold_label = HOLDS.get(delivery.hold_reason, "") if delivery.status == Delivery.Status.QUEUED else ""
    return rows


@business_member_required
def delivery_list_page(request):
    _require(request, "deliveries:read")
    business = request.tenant
    filters, problems = _delivery_filters(request, business)
    page = paginate(request, selectors.delivery_list(business=business, filters=filters))
    _label_rows(page.object_list)
    counts = selectors.delivery_counts(business=business, since=timezone.now() - timedelta(days=SUMMARY_DAYS))
    context = {
        "page": page,
        "query": query_without_page(request),
        "params": request.GET,
        "problems": problems,
        "counts": counts,
        "sent_or_delivered": counts["sent"] + counts["delivered"],
        "summary_days": SUMMARY_DAYS,
        "channels": Channel.choices,
        "statuses": Delivery.Status.choices,
        "holds": list(HOLDS.items()),
        "nav": "deliveries",
    }
    template = "outbox/_deliveries_table.html" if request.htmx else "outbox/deliveries.html"
    return render(request, template, context)


def _delivery_or_404(request, delivery_id) -> Delivery:
    delivery = selectors.delivery_get(business=request.tenant, delivery_id=delivery_id)
    if delivery is None:
        raise Http404
    return delivery


def _content(delivery: Delivery) -> dict:
    """What was sent: a text's body, an e-mail's template, a webhook's event and data."""
    payload = delivery.payload or {}
    data = payload.get("data")
    return {
        "body": payload.get("body", ""),
        "template": payload.get("template", ""),
        "event": payload.get("event", ""),
        "event_label": EVENT_TYPES.get(payload.get("event", ""), payload.get("event", "")),
        "event_id": payload.get("event_id", ""),
        "data": json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) if data else "",
    }


def _detail_context(request, delivery: Delivery) -> dict:
    _label_rows([delivery])
    return {
        "delivery": delivery,
        "content": _content(delivery),
        "cause_url": hooks.cause_link(delivery),
        "attempt_list": list(delivery.attempt_rows.all()),
        "failure": failure_reason(delivery) if delivery.is_retryable else "",
        "can_retry": delivery.is_retryable and request.user.has_business_permission("deliveries:manage"),
        "nav": "deliveries",
    }


@business_member_required
def delivery_detail_page(request, delivery_id):
    _require(request, "deliveries:read")
    context = _detail_context(request, _delivery_or_404(request, delivery_id))
    template = "outbox/_delivery_detail.html" if request.htmx else "outbox/delivery.html"
    return render(request, template, context)


@business_member_required
@require_POST
def delivery_retry(request, delivery_id):
    """Send a failed or dead delivery again (owners and admins); htmx gets the detail back."""
    _require(request, "deliveries:manage")
    delivery = _delivery_or_404(request, delivery_id)
    try:
        services.delivery_retry(delivery=delivery)
    except BusinessRuleViolation:
        messages.error(request, _("Only failed or dead deliveries can be retried."))
    else:
        messages.success(request, _("Queued again: it will be sent in a moment."))
    if request.htmx:
        return render(
            request, "outbox/_delivery_detail.html", _detail_context(request, _delivery_or_404(request, delivery_id))
        )
    return redirect("deliveries-detail", delivery_id=delivery.pk)


# --- webhook endpoints (settings) -------------------------------------------------------------------


def _endpoint_errors(errors: dict) -> list[str]:
    """Plain messages for the fields of the endpoint form (the serializer's or the service's)."""
    plain = {
        "url": _("Enter the full address of your endpoint, starting with https://."),
        "description": _("Keep the description under 200 characters."),
        "event_types": _("Choose the events from the list."),
    }
    lines = [str(plain[name]) for name in plain if name in errors]
    return lines or flatten_errors(errors)


def _endpoint_create(request, form: dict) -> tuple[WebhookEndpoint | None, str | None, list[str]]:
    serializer = WebhookEndpointInputSerializer(data=form)
    if not serializer.is_valid():
        return None, None, _endpoint_errors(serializer.errors)
    data = serializer.validated_data
    try:
        endpoint, secret = services.webhook_endpoint_create(
            business=request.tenant,
            url=data["url"],
            description=data["description"],
            event_types=data["event_types"],
            user=request.user,
        )
    except ValidationFailed as exc:
        return None, None, _endpoint_errors(exc.details) if exc.details else error_lines(exc)
    return endpoint, secret, []


def _endpoint_or_404(request) -> WebhookEndpoint:
    endpoint = selectors.webhook_endpoint_get(business=request.tenant, endpoint_id=request.POST.get("id"))
    if endpoint is None:
        raise Http404
    return endpoint


@business_member_required
@require_http_methods(["GET", "POST"])
def webhooks_page(request):
    can_manage = request.user.has_business_permission("deliveries:manage")
    new_secret, secret_for, errors = None, None, []
    form = {"url": "", "description": "", "event_types": []}
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        action = request.POST.get("action")
        if action == "create":
            form = {
                "url": request.POST.get("url", "").strip(),
                "description": request.POST.get("description", "").strip(),
                "event_types": request.POST.getlist("event_types"),
            }
            secret_for, new_secret, errors = _endpoint_create(request, form)
            if secret_for is not None:
                form = {"url": "", "description": "", "event_types": []}
                messages.success(request, _("Endpoint added."))
        elif action == "rotate":
            secret_for = _endpoint_or_404(request)
            new_secret = services.webhook_endpoint_rotate_secret(endpoint=secret_for)
            messages.success(request, _("New signing secret made; the old one no longer signs."))
        elif action in {"enable", "disable"}:
            endpoint = _endpoint_or_404(request)
            services.webhook_endpoint_update(endpoint=endpoint, data={"is_active": action == "enable"})
            messages.success(request, _("Endpoint enabled.") if action == "enable" else _("Endpoint disabled."))
            return redirect("webhooks")
        elif action == "delete":
            services.webhook_endpoint_delete(endpoint=_endpoint_or_404(request))
            messages.success(request, _("Endpoint deleted."))
            return redirect("webhooks")
        elif action == "test":
            endpoint = _endpoint_or_404(request)
            if not endpoint.is_active:
                messages.error(request, _("Enable the endpoint before sending it a test event."))
            else:
                services.webhook_endpoint_test(endpoint=endpoint)
                messages.success(request, _("Test event queued; follow it on the Deliveries page."))
            return redirect("webhooks")
    endpoints = list(selectors.webhook_endpoint_list(business=request.tenant)) if can_manage else []
    for endpoint in endpoints:
        endpoint.event_labels = [str(EVENT_TYPES.get(name, name)) for name in endpoint.event_types]
    context = {
        "endpoints": endpoints,
        "can_manage": can_manage,
        "new_secret": new_secret,
        "secret_for": secret_for,
        "errors": errors,
        "form": form,
        "event_types": [(name, EVENT_TYPES.get(name, name)) for name in WEBHOOK_EVENT_TYPES],
        "sections": SETTINGS_SECTIONS,
        "section": "webhooks",
        "nav": "settings",
    }
    return render(request, "outbox/webhooks.html", context)
