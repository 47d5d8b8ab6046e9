"""Dashboard pages for a business: sign-up, the onboarding wizard and the settings pages."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import holidays
from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.outbox.segments import count_segments
from apps.tenants import selectors, services
from apps.tenants.config import disclosure
from apps.tenants.config import services as config_services
from apps.tenants.config.models import WEEKDAYS
from apps.tenants.config.selectors import closed_dates, missed_call_text
from apps.tenants.config.serializers import BusinessConfigSerializer
from apps.tenants.forms import (
    COMMON_TIMEZONES,
    SignupForm,
    all_timezones,
    closures_from_post,
    closures_initial,
    hours_from_post,
    hours_initial,
)
from apps.tenants.models import ApiCredential
from apps.tenants.serializers import BusinessUpdateInputSerializer, RegistrationInputSerializer
from apps.tenants.services import ONBOARDING_STEPS
from nevermisscall.choices import Trade
from nevermisscall.errors import DomainError
from nevermisscall.views import business_member_required, error_lines, flatten_errors

STEP_TITLES = {
    "business_details": gettext_lazy("Business details"),
    "business_hours": gettext_lazy("Business hours"),
    "service_area": gettext_lazy("Service area"),
    "job_estimates": gettext_lazy("Job estimates"),
    "greeting": gettext_lazy("Greeting and auto-reply"),
    "ai_settings": gettext_lazy("AI assistant"),
    "phone_number": gettext_lazy("Phone number"),
}


def _can_configure(request) -> bool:
    return request.user.has_business_permission("config:write")


def _validated_settings(data: dict) -> tuple[dict | None, list[str]]:
    serializer = BusinessConfigSerializer(data=data)
    if serializer.is_valid():
        return serializer.validated_data, []
    return None, flatten_errors(serializer.errors)


def _settings_from_post(step: str, post) -> dict:
    """The settings one wizard step or settings page edits, read from its form."""
    if step == "business_hours":
        data = {"business_hours": hours_from_post(post), "timezone": post.get("timezone", "")}
        if "closures" in post:  # Only the settings page has them (the wizard keeps none).
            data["holiday_closures"] = closures_from_post(post.get("closures", ""))
            country = post.get("holiday_country", "").strip()
            data["holiday_calendar"] = (
                {"country": country, "subdivision": post.get("holiday_subdivision", "").strip() or None}
                if country
                else None
            )
        return data
    if step == "service_area":
        area = {"address": post.get("address", ""), "radius_miles": post.get("radius_miles") or 25}
        if post.get("latitude") or post.get("longitude"):
            area.update(latitude=post.get("latitude") or None, longitude=post.get("longitude") or None)
        return {"service_area": area}
    if step == "job_estimates":
        rows = []
        for index in range(int(post.get("estimate_rows", 0) or 0)):
            job_type = post.get(f"job_type_{index}", "").strip()
            if job_type:
                rows.append(
                    {
                        "job_type": job_type,
                        "trade": post.get(f"trade_{index}") or None,
                        "description": post.get(f"description_{index}", ""),
                        "label": post.get(f"label_{index}", ""),
                        "synonyms": [
                            word.strip() for word in post.get(f"synonyms_{index}", "").split(",") if word.strip()
                        ],
                        "min_price": post.get(f"min_price_{index}"),
                        "max_price": post.get(f"max_price_{index}"),
                        "duration_minutes": post.get(f"duration_minutes_{index}"),
                    }
                )
        data = {"job_estimates": rows}
        for note in ("pricing_note", "referral_note"):
            if note in post:
                data[note] = post.get(note, "")
        return data
    if step == "greeting":
        data = {
            "greeting_template": post.get("greeting_template", ""),
            "auto_reply_template": post.get("auto_reply_template", ""),
            "language": post.get("language", "en"),
        }
        if "sms_daily_quota" in post:  # Only the settings page has it (the wizard keeps the default).
            data["sms_daily_quota"] = post.get("sms_daily_quota") or None
        return data
    if step == "ai_settings":
        return {
            "ai_settings": {
                "enabled": bool(post.get("ai_enabled")),
                "voice_enabled": bool(post.get("voice_enabled")),
                "tone": post.get("tone", "friendly"),
                "auto_book": bool(post.get("auto_book")),
                "emergency_alerts": bool(post.get("emergency_alerts")),
                "emergency_service": bool(post.get("emergency_service")),
                "after_hours_emergency": post.get("after_hours_emergency", "dispatch_now"),
                "disclose_automation": post.get("disclose_automation", disclosure.DEFAULT),
            },
            "emergency_multiplier": post.get("emergency_multiplier") or None,
        }
    if step == "phone_number":
        return {
            "forwarding_number": post.get("forwarding_number", ""),
            "ring_timeout": post.get("ring_timeout") or 20,
            "call_screening": bool(post.get("call_screening")),
        }
    return {}


def _business_from_post(post) -> dict:
    return {
        "name": post.get("name", "").strip(),
        "trade": post.get("trade", ""),
        "phone": post.get("phone", ""),
        "website": post.get("website", ""),
    }


def _step_context(request, step: str) -> dict:
    config = config_services.config_get()
    estimates = list(config.job_estimates) + [{}] * 2
    policy = disclosure.disclosure_policy(config, request.tenant)
    return {
        "step": step,
        "step_title": STEP_TITLES[step],
        "config": config,
        "business": request.tenant,
        "hour_rows": hours_initial(config.business_hours),
        "weekdays": WEEKDAYS,
        "timezones": COMMON_TIMEZONES if request.tenant.timezone in COMMON_TIMEZONES else all_timezones(),
        "trades": Trade.choices,
        "estimates": estimates,
        "estimate_rows": len(estimates),
        "closures_text": closures_initial(config.holiday_closures),
        "holiday_countries": sorted(holidays.list_supported_countries()),
        "upcoming_closures": _upcoming_closures(request.tenant, config),
        "disclosure": policy,
        "missed_call_preview": _missed_call_preview(request.tenant, config, policy),
    }


def _missed_call_preview(business, config, policy) -> dict:
    """The missed-call text a new caller gets, as sent (the disclosure included), and what it costs."""
    body = missed_call_text(config=config, business=business, disclose=policy.required)
    return {"body": body, "count": count_segments(body)}


def _upcoming_closures(business, config) -> list[tuple]:
    """The next 120 days' closures (holiday calendar and the business's own), for the hours page."""
    today = timezone.now().astimezone(ZoneInfo(business.timezone)).date()
    return list(closed_dates(config, start=today, end=today + timedelta(days=120)).items())


def _save_step(request, step: str) -> list[str]:
    """Validate and save one step's form; returns the errors to show (empty when saved)."""
    business_data = {}
    if step == "business_details":
        serializer = BusinessUpdateInputSerializer(data=_business_from_post(request.POST))
        if not serializer.is_valid():
            return flatten_errors(serializer.errors)
        business_data = serializer.validated_data
    settings_data, errors = _validated_settings(_settings_from_post(step, request.POST))
    if errors:
        return errors
    try:
        services.business_onboarding_update(
            business=request.tenant, step=step, data={**business_data, **settings_data}, completed=True
        )
    except DomainError as exc:
        return error_lines(exc)
    return []


def signup(request):
    """A new business and its owner; the owner lands in the onboarding wizard."""
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # The same validation and service as ``POST /tenants``.
        serializer = RegistrationInputSerializer(data=form.cleaned_data)
        if serializer.is_valid():
            try:
                _, owner = services.business_register(**serializer.validated_data)
            except DomainError as exc:
                errors = error_lines(exc)
            else:
                login(request, owner, backend="django.contrib.auth.backends.ModelBackend")
                return redirect("onboarding")
        else:
            errors = flatten_errors(serializer.errors)
        for line in errors:
            form.add_error(None, line)
    return render(request, "tenants/signup.html", {"form": form})


@business_member_required
@require_http_methods(["GET", "POST"])
def onboarding(request, step: str | None = None):
    business = request.tenant
    if step is None:
        step = business.onboarding_step if business.onboarding_step in ONBOARDING_STEPS else ONBOARDING_STEPS[0]
        return redirect("onboarding-step", step=step)
    if step not in ONBOARDING_STEPS:
        return redirect("onboarding")
    if not _can_configure(request):
        messages.error(request, _("Only the owner or an admin can set up the business."))
        return redirect("home")
    errors = []
    if request.method == "POST":
        errors = _save_step(request, step)
        if not errors:
            business = selectors.business_get(business_id=business.pk)
            if business.onboarding_completed:
                messages.success(request, _("You're all set. Missed calls will now be texted back."))
                return redirect("home")
            next_index = min(ONBOARDING_STEPS.index(step) + 1, len(ONBOARDING_STEPS) - 1)
            return redirect("onboarding-step", step=ONBOARDING_STEPS[next_index])
    context = _step_context(request, step)
    context.update(
        errors=errors,
        steps=[
            (name, STEP_TITLES[name], name in (business.onboarding_completed_steps or [])) for name in ONBOARDING_STEPS
        ],
        form_action=reverse("onboarding-step", kwargs={"step": step}),
        submit_label=_("Save and continue"),
        nav="settings",
    )
    return render(request, "tenants/onboarding.html", context)


SETTINGS_SECTIONS = [
    ("business", gettext_lazy("Business")),
    ("hours", gettext_lazy("Hours")),
    ("area", gettext_lazy("Service area")),
    ("estimates", gettext_lazy("Estimates")),
    ("templates", gettext_lazy("Messages")),
    ("ai", gettext_lazy("AI assistant")),
    ("calls", gettext_lazy("Calls")),
    ("team", gettext_lazy("Team")),
    ("phone-numbers", gettext_lazy("Phone numbers")),
    ("api-keys", gettext_lazy("API keys")),
    ("webhooks", gettext_lazy("Webhooks")),
]


SETTINGS_PAGES = {
    "business": "business_details",
    "hours": "business_hours",
    "area": "service_area",
    "estimates": "job_estimates",
    "templates": "greeting",
    "ai": "ai_settings",
    "calls": "phone_number",
}


@business_member_required
@require_http_methods(["GET", "POST"])
def settings_page(request, section: str = "business"):
    step = SETTINGS_PAGES.get(section)
    if step is None:
        return redirect("settings-business")
    errors = []
    if request.method == "POST":
        if not _can_configure(request):
            messages.error(request, _("Only the owner or an admin can change settings."))
            return redirect("settings-section", section=section)
        errors = _save_step(request, step)
        if not errors:
            messages.success(request, _("Saved."))
            return redirect("settings-section", section=section)
    context = _step_context(request, step)
    context.update(
        errors=errors,
        section=section,
        sections=SETTINGS_SECTIONS,
        nav="settings",
        read_only=not _can_configure(request),
        form_action=reverse("settings-section", kwargs={"section": section}),
        submit_label=_("Save"),
    )
    return render(request, "tenants/settings.html", context)


@business_member_required
@require_http_methods(["GET", "POST"])
def api_keys_page(request):
    can_manage = request.user.has_business_permission("api_keys:manage")
    new_secret = None
    if request.method == "POST" and can_manage:
        action = request.POST.get("action")
        if action == "create":
            name = request.POST.get("name", "").strip()[:100]
            kind = request.POST.get("kind", ApiCredential.Kind.API_KEY)
            if not name or kind not in ApiCredential.Kind.values:
                messages.error(request, _("Give the key a name."))
            else:
                _credential, new_secret = services.credential_create(
                    business=request.tenant, kind=kind, name=name, created_by=request.user
                )
        elif action in {"rotate", "revoke"}:
            credential = ApiCredential.objects.filter(business=request.tenant, pk=request.POST.get("id")).first()
            if credential is not None and action == "rotate" and credential.is_active:
                _credential, new_secret = services.credential_rotate(credential=credential, rotated_by=request.user)
            elif credential is not None and action == "revoke":
                services.credential_revoke(credential=credential)
                messages.success(request, _("Revoked."))
    context = {
        "credentials": selectors.credential_list(business=request.tenant) if can_manage else [],
        "can_manage": can_manage,
        "new_secret": new_secret,
        "sections": SETTINGS_SECTIONS,
        "section": "api-keys",
        "nav": "settings",
        "kinds": ApiCredential.Kind.choices,
    }
    return render(request, "tenants/api_keys.html", context)


@business_member_required
@require_POST
def language_switch(request):
    language = request.POST.get("language")
    if language in {"en", "es"}:
        request.user.language = language
        request.user.save(update_fields=["language"])
    return redirect(request.POST.get("next") or "home")
