"""``{% live_config %}``: the live client's strings and the signed-in person's notification choices,
as JSON in the page (live.js reads them; it hard-codes no text), and the tab bar's badge."""

from django import template
from django.urls import reverse
from django.utils.html import json_script

from apps.analytics.feed import live_strings
from apps.conversations.selectors import conversation_unread_count
from nevermisscall import webpush

register = template.Library()


def notification_choices(user) -> dict:
    """What the live feed and toasts do for this person (the profile page sets them)."""
    preferences = getattr(user, "preferences", None) or {}
    notifications = preferences.get("notifications", {})
    dashboard = preferences.get("dashboard", {})
    return {
        "toast_missed_call": bool(notifications.get("missed_call", True)),
        "toast_emergency": bool(notifications.get("emergency", True)),
        "sound": bool(dashboard.get("sound", True)),
    }


@register.simple_tag(takes_context=True)
def live_config(context):
    request = context["request"]
    tenant = getattr(request, "tenant", None)
    config = {
        "strings": live_strings(),
        "preferences": notification_choices(request.user),
        "timezone": getattr(tenant, "timezone", "UTC"),
        "language": getattr(request, "LANGUAGE_CODE", "en"),
        "thread_url": "/inbox/{id}/",
        "badge_url": reverse("inbox-badge"),
        "push": {"key": webpush.application_server_key(), "url": reverse("profile-push")},
    }
    return json_script(config, "nmc-live-config")


@register.simple_tag(takes_context=True)
def inbox_badge(context) -> int:
    return conversation_unread_count(user=context["request"].user)
