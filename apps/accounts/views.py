"""Dashboard pages about people: the team, the profile and the language switch."""

import json

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import selectors, services
from apps.accounts.models import DIGEST_ROLES, DigestChannel, Role, User
from apps.outbox import selectors as push_selectors
from apps.outbox import services as outbox
from apps.tenants.views import SETTINGS_SECTIONS
from nevermisscall import webpush
from nevermisscall.errors import DomainError
from nevermisscall.views import business_member_required, error_lines


@business_member_required
@require_http_methods(["GET", "POST"])
def team(request):
    can_manage = request.user.has_business_permission("users:manage")
    errors = []
    if request.method == "POST" and can_manage:
        action = request.POST.get("action")
        if action == "add":
            try:
                services.user_create(
                    business=request.tenant,
                    email=request.POST.get("email", ""),
                    password=request.POST.get("password", ""),
                    first_name=request.POST.get("first_name", "")[:100],
                    role=request.POST.get("role")
                    if request.POST.get("role") in {Role.ADMIN, Role.STAFF, Role.TECHNICIAN}
                    else Role.STAFF,
                )
            except DomainError as exc:
                errors = error_lines(exc)
            else:
                messages.success(request, _("Team member added."))
                return redirect("team")
        elif action in {"deactivate", "activate"}:
            member = selectors.user_get_in_business(business=request.tenant, user_id=request.POST.get("id"))
            if member is not None and member.role != Role.OWNER and member.pk != request.user.pk:
                User.objects.filter(pk=member.pk).update(is_active=action == "activate")
                messages.success(request, _("Updated."))
            return redirect("team")
    context = {
        "members": selectors.user_list(business=request.tenant),
        "can_manage": can_manage,
        "errors": errors,
        "roles": [
            (Role.ADMIN, Role.ADMIN.label),
            (Role.STAFF, Role.STAFF.label),
            (Role.TECHNICIAN, Role.TECHNICIAN.label),
        ],
        "sections": SETTINGS_SECTIONS,
        "section": "team",
        "nav": "settings",
    }
    return render(request, "accounts/team.html", context)


# What the live dashboard does for this person (static/js/live.js reads them through
# {% live_config %}); only choices something honours are offered.
NOTIFICATION_CHOICES = (
    ("missed_call", "notifications", _lazy("Show a pop-up for every missed call")),
    ("emergency", "notifications", _lazy("Show a pop-up for emergencies")),
    ("sound", "dashboard", _lazy("Play a sound with pop-ups")),
    (
        "push",
        "notifications",
        _lazy("Send emergencies and hand-offs to my devices, even with the dashboard closed"),
    ),
)


def _preference_rows(user) -> list[dict]:
    preferences = user.preferences or {}
    return [
        {"name": name, "label": label, "checked": bool(preferences.get(group, {}).get(name, True))}
        for name, group, label in NOTIFICATION_CHOICES
    ]


def _profile_post(request) -> list[str]:
    """One of the profile's forms; the errors to show (none: saved)."""
    user = request.user
    action = request.POST.get("action")
    if action == "name":
        services.user_update_profile(
            user=user,
            data={
                "first_name": request.POST.get("first_name", "").strip()[:100],
                "last_name": request.POST.get("last_name", "").strip()[:100],
            },
        )
        messages.success(request, _("Your name was saved."))
    elif action == "language":
        language = request.POST.get("language")
        if language not in dict(settings.LANGUAGES):
            return [_("Choose English or Spanish.")]
        services.user_update_profile(user=user, data={"language": language})
        translation.activate(language)
        messages.success(request, _("Your language was saved."))
    elif action == "notifications":
        changes: dict = {}
        for name, group, _label in NOTIFICATION_CHOICES:
            changes.setdefault(group, {})[name] = request.POST.get(name) == "on"
        services.user_update_preferences(user=user, changes=changes)
        messages.success(request, _("Your notification choices were saved."))
    elif action == "digest":
        hour = request.POST.get("digest_hour", "")
        digest = {"channel": request.POST.get("digest_channel", ""), "hour": int(hour) if hour.isdigit() else hour}
        try:
            services.user_set_digest(user=user, digest=digest, phone=request.POST.get("phone", ""))
        except DomainError as exc:
            return error_lines(exc)
        messages.success(request, _("Your daily digest choice was saved."))
    elif action == "password":
        if request.POST.get("new_password", "") != request.POST.get("new_password_again", ""):
            return [_("The two new passwords are not the same.")]
        try:
            services.user_change_password(
                user=user,
                current_password=request.POST.get("current_password", ""),
                new_password=request.POST.get("new_password", ""),
            )
        except DomainError as exc:
            return error_lines(exc)
        update_session_auth_hash(request, user)  # Stay signed in here; other sessions end.
        messages.success(request, _("Your password was changed."))
    else:
        return [_("Unknown action.")]
    return []


@business_member_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """The signed-in person's name, password, language, notification choices and (owners and
    managers) their daily digest."""
    errors = []
    if request.method == "POST":
        errors = _profile_post(request)
        if not errors:
            response = redirect("profile")
            if request.POST.get("action") == "language":
                response.set_cookie(settings.LANGUAGE_COOKIE_NAME, request.user.language, samesite="Lax")
            return response
    context = {
        "errors": errors,
        "preference_rows": _preference_rows(request.user),
        "digest_allowed": request.user.role in DIGEST_ROLES,
        "digest_channels": DigestChannel.choices,
        "hours": range(24),
        "push_enabled": webpush.enabled(),
        "push_devices": push_selectors.push_subscription_count(user=request.user),
        "languages": settings.LANGUAGES,
        "nav": "profile",
    }
    return render(request, "accounts/profile.html", context, status=400 if errors else 200)


@require_POST
def language_switch(request):
    """The language buttons in the top bar: the person's language (stored) and the cookie."""
    language = request.POST.get("language")
    target = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        target = "/"
    response = redirect(target)
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        services.user_update_profile(user=request.user, data={"language": language})
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax", max_age=365 * 24 * 3600)
    return response


class PushSubscriptionInput(forms.Form):
    endpoint = forms.CharField(max_length=1000)
    p256dh = forms.CharField(max_length=200)
    auth = forms.CharField(max_length=100)


@business_member_required
@require_POST
def push_subscription(request):
    """``POST /profile/push/`` with a browser's ``PushSubscription.toJSON()``: this device gets Web
    Push (and the person's "push" choice is turned on); ``{"unsubscribe": true, "endpoint": …}``
    forgets it. JSON in, JSON out (alerts.js and the profile's button call it)."""
    try:
        document = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"detail": _("The body is not JSON.")}, status=400)
    if not isinstance(document, dict):
        return JsonResponse({"detail": _("The body is not a push subscription.")}, status=400)
    keys = document.get("keys") if isinstance(document.get("keys"), dict) else {}
    form = PushSubscriptionInput(
        {"endpoint": document.get("endpoint"), "p256dh": keys.get("p256dh"), "auth": keys.get("auth")}
    )
    if document.get("unsubscribe") is True:
        removed = outbox.push_subscription_delete(user=request.user, endpoint=str(document.get("endpoint", "")))
        return JsonResponse({"subscribed": False, "removed": removed})
    if not webpush.enabled():
        return JsonResponse({"detail": _("Web Push is not configured on this deployment.")}, status=409)
    if not form.is_valid():
        return JsonResponse({"detail": _("The body is not a push subscription."), "errors": form.errors}, status=400)
    try:
        outbox.push_subscription_save(
            business=request.tenant,
            user=request.user,
            user_agent=request.headers.get("User-Agent", ""),
            **form.cleaned_data,
        )
    except DomainError as exc:
        return JsonResponse({"detail": str(exc), "errors": exc.details or {}}, status=400)
    services.user_update_preferences(user=request.user, changes={"notifications": {"push": True}})
    return JsonResponse({"subscribed": True}, status=201)
