"""Dashboard pages for a business: sign-up, the onboarding wizard and the settings pages."""

import copy
import re
from datetime import timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.dispatch.geo import get_geocoder
from apps.outbox.segments import count_segments
from apps.telephony import phone_numbers
from apps.telephony.models import PhoneNumber
from apps.telephony.providers import twilio_numbers
from apps.tenants import selectors, services
from apps.tenants.config import disclosure
from apps.tenants.config import services as config_services
from apps.tenants.config.models import WEEKDAYS
from apps.tenants.config.selectors import closed_dates, missed_call_text
from apps.tenants.config.serializers import BusinessConfigSerializer
from apps.tenants.form_errors import field_errors
from apps.tenants.forms import (
    SignupForm,
    closures_from_post,
    closures_initial,
    hours_from_post,
    hours_initial,
    normalize_website,
    timezone_choices,
    timezone_label,
)
from apps.tenants.models import ApiCredential
from apps.tenants.presets import ESTIMATE_PRESETS, estimate_preset
from apps.tenants.serializers import BusinessUpdateInputSerializer, RegistrationInputSerializer
from apps.tenants.services import ONBOARDING_STEPS
from nevermisscall.choices import Trade
from nevermisscall.errors import Conflict, DomainError
from nevermisscall.phone import InvalidPhoneNumber, to_e164
from nevermisscall.views import business_member_required, error_lines, flatten_errors

STEP_TITLES = {
    "business_details": gettext_lazy("Business details"),
    "business_hours": gettext_lazy("Business hours"),
    "service_area": gettext_lazy("Service area"),
    "job_estimates": gettext_lazy("Job estimates"),
    "greeting": gettext_lazy("Greeting and auto-reply"),
    "ai_settings": gettext_lazy("AI assistant"),
    "phone_number": gettext_lazy("Phone number"),
    "test_call": gettext_lazy("Test call"),
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
        # The point is the geocoder's (see _save_step), never typed in.
        return {
            "service_area": {"address": post.get("address", "").strip(), "radius_miles": post.get("radius_miles") or 25}
        }
    if step == "job_estimates":
        rows = []
        for index in _estimate_indices(post):
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


def _estimate_indices(post) -> list[int]:
    """The estimate rows a form posted, in order (rows removed in the browser leave gaps)."""
    try:
        count = min(int(post.get("estimate_rows", 0) or 0), 200)
    except ValueError:
        count = 0
    return [index for index in range(count) if f"job_type_{index}" in post]


def _estimate_sources(post) -> list[int]:
    """For each estimate that is saved, its position among the rows the owner sees (from 0)."""
    indices = _estimate_indices(post)
    return [position for position, index in enumerate(indices) if post.get(f"job_type_{index}", "").strip()]


def _business_from_post(post) -> dict:
    return {
        "name": post.get("name", "").strip(),
        "trade": post.get("trade", ""),
        "phone": post.get("phone", ""),
        "website": normalize_website(post.get("website", "")),
    }


def _draft(step: str, post, config, business) -> dict:
    """Context overrides that show what the owner typed after a refused save (nothing is lost)."""
    draft = copy.copy(config)
    draft.service_area = dict(config.service_area)
    draft.ai_settings = dict(config.ai_settings)
    data = _settings_from_post(step, post)
    overrides = {"config": draft}
    if step == "business_details":
        overrides["business"] = SimpleNamespace(**{**_business_from_post(post), "website": post.get("website", "")})
    elif step == "business_hours":
        overrides["hour_rows"] = hours_initial(data["business_hours"])
        overrides["timezone_selected"] = post.get("timezone", "")
        if "closures" in post:
            overrides["closures_text"] = post.get("closures", "")
            draft.holiday_country = post.get("holiday_country", "")
            draft.holiday_subdivision = post.get("holiday_subdivision", "")
    elif step == "service_area":
        draft.service_area.update({"address": post.get("address", ""), "radius_miles": post.get("radius_miles", "")})
        overrides["area_point"] = None
    elif step == "job_estimates":
        overrides["estimates"] = [
            {
                "job_type": post.get(f"job_type_{index}", ""),
                "trade": post.get(f"trade_{index}", ""),
                "description": post.get(f"description_{index}", ""),
                "label": post.get(f"label_{index}", ""),
                "synonyms": [post.get(f"synonyms_{index}", "")],
                "min_price": post.get(f"min_price_{index}", ""),
                "max_price": post.get(f"max_price_{index}", ""),
                "duration_minutes": post.get(f"duration_minutes_{index}", ""),
            }
            for index in _estimate_indices(post)
        ]
        draft.pricing_note = post.get("pricing_note", draft.pricing_note)
        draft.referral_note = post.get("referral_note", draft.referral_note)
    elif step in ("greeting", "ai_settings", "phone_number"):
        for name, value in data.items():
            if isinstance(value, dict):
                getattr(draft, name).update(value)
            else:
                setattr(draft, name, value)
    return overrides


def _area_point(address: str):
    """What the geocoder understood of the base address (None: nothing found)."""
    if not address.strip():
        return None
    point = get_geocoder().geocode(address)
    city_state = CITY_STATE.match(address.strip())
    if point is None and city_state:  # "Chicago, IL": no street for the address parser, a city still.
        from apps.dispatch.providers.zipcodes_offline import lookup_city

        point = lookup_city(city_state["city"].strip(), city_state["state"])
    return point


CITY_STATE = re.compile(r"^(?P<city>[^\d,]{2,60}),?\s+(?P<state>[A-Za-z]{2})$")


def _step_context(request, step: str) -> dict:
    config = config_services.config_get()
    estimates = list(config.job_estimates) or [{}]
    policy = disclosure.disclosure_policy(config, request.tenant)
    context = {}
    if step == "service_area":
        context["area_point"] = _area_point(config.service_area.get("address") or "")
    if step in ("phone_number", "test_call"):
        context.update(_number_context(request, config))
    return context | {
        "step": step,
        "step_title": STEP_TITLES[step],
        "config": config,
        "business": request.tenant,
        "hour_rows": hours_initial(config.business_hours),
        "weekdays": WEEKDAYS,
        "timezones": timezone_choices(request.tenant.timezone),
        "timezone_selected": request.tenant.timezone,
        "timezone_name": timezone_label(request.tenant.timezone),
        "trades": Trade.choices,
        "preset_trades": [(value, label) for value, label in Trade.choices if value in ESTIMATE_PRESETS],
        "estimates": estimates,
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


def _number_context(request, config) -> dict:
    numbers = list(PhoneNumber.objects.filter(status=PhoneNumber.Status.ACTIVE).order_by("-is_primary", "created_at"))
    number = numbers[0].phone_number if numbers else ""
    return {
        "business_number": number,
        "is_sandbox": bool(number) and phone_numbers.is_sandbox_number(number),
        "sandbox_allowed": phone_numbers.sandbox_numbers_allowed(),
        "twilio_configured": settings.TWILIO_CONFIGURED,
        "forwarding_prefill": config.forwarding_number or request.user.phone or request.tenant.phone,
        "number_digits": number[2:] if number.startswith("+1") else number,
        "curl_base": request.build_absolute_uri("/").rstrip("/"),
        "demo_caller": "+12125550123",
    }


def _save_step(request, step: str) -> dict[str, list[str]]:
    """Validate and save one step's form; returns the errors to show by field (empty when saved)."""
    post = request.POST
    business_data = {}
    if step == "business_details":
        serializer = BusinessUpdateInputSerializer(data=_business_from_post(post))
        if not serializer.is_valid():
            return field_errors(serializer.errors)
        business_data = serializer.validated_data
    data = _settings_from_post(step, post)
    if step == "service_area":
        area = data["service_area"]
        point = _area_point(area["address"])
        if area["address"] and point is None:
            return {
                "address": [
                    _(
                        "We couldn't find that address. Add the city and state, or the ZIP code, e.g. “Chicago, IL 60601”."
                    )
                ]
            }
        area.update(latitude=point.latitude if point else None, longitude=point.longitude if point else None)
    serializer = BusinessConfigSerializer(data=data)
    if not serializer.is_valid():
        return field_errors(serializer.errors, estimate_rows=_estimate_sources(post))
    try:
        services.business_onboarding_update(
            business=request.tenant, step=step, data={**business_data, **serializer.validated_data}, completed=True
        )
    except DomainError as exc:
        return {"form": error_lines(exc)}
    return {}


SIGNUP_FIELDS = {"business_name", "owner_email", "owner_password", "owner_name", "trade", "timezone", "phone"}


def signup(request):
    """A new business and its owner; the owner lands in the onboarding wizard, in the language their
    browser asked for."""
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None, initial={"timezone": "America/New_York"})
    if request.method == "POST" and form.is_valid():
        # The same validation and service as ``POST /tenants``.
        serializer = RegistrationInputSerializer(data=form.cleaned_data)
        if serializer.is_valid():
            language = "es" if (request.LANGUAGE_CODE or "").startswith("es") else "en"
            try:
                _, owner = services.business_register(**serializer.validated_data, language=language)
            except Conflict:
                form.add_error(
                    "owner_email", _("There is already an account with this email. Log in, or use another email.")
                )
            except DomainError as exc:
                for line in error_lines(exc):
                    form.add_error(None, line)
            else:
                login(request, owner, backend="django.contrib.auth.backends.ModelBackend")
                return redirect("onboarding")
        else:
            for field, lines in serializer.errors.items():
                for line in flatten_errors(lines):
                    form.add_error(field if field in SIGNUP_FIELDS else None, line)
    return render(request, "tenants/signup.html", {"form": form})


def _number_action(request) -> dict[str, list[str]] | None:
    """The number step's other buttons: a sandbox number, a Twilio search, buying a found number.
    Returns None when the POST was not one of them."""
    action = request.POST.get("action")
    if action not in {"sandbox", "search", "provision"}:
        return None
    if not request.user.has_business_permission("phone_numbers:manage"):
        return {"number": [_("Only the owner or an admin can get a number.")]}
    try:
        if action == "sandbox":
            phone_numbers.phone_number_sandbox_assign()
        elif action == "provision":
            phone_numbers.phone_number_provision(phone_number=to_e164(request.POST.get("phone_number", "")))
        else:
            area_code = request.POST.get("area_code", "").strip()
            if area_code and not (area_code.isdigit() and len(area_code) == 3):
                return {"area_code": [_("An area code is three digits, e.g. 312.")]}
            request.available_numbers = twilio_numbers.search_available(
                country="US", area_code=int(area_code) if area_code else None, contains="", flags={}, limit=10
            )
            if not request.available_numbers:
                return {"area_code": [_("No numbers free in that area code right now; try a nearby one.")]}
    except Conflict:
        return {"number": [_("That number was just taken by another business; pick another one.")]}
    except InvalidPhoneNumber:
        return {"number": [_("That is not a valid phone number.")]}
    except DomainError as exc:
        return {"number": error_lines(exc)}
    return {}


@business_member_required
@require_http_methods(["GET", "POST"])
def onboarding(request, step: str | None = None):
    business = request.tenant
    if step is None:
        step = business.onboarding_step if business.onboarding_step in ONBOARDING_STEPS else ONBOARDING_STEPS[-1]
        return redirect("onboarding-step", step=step)
    if step not in ONBOARDING_STEPS:
        return redirect("onboarding")
    if not _can_configure(request):
        messages.error(request, _("Only the owner or an admin can set up the business."))
        return redirect("home")
    errors, overrides = {}, {}
    if request.method == "POST" and step == "job_estimates" and request.POST.get("preset") in ESTIMATE_PRESETS:
        # Fill the table with the trade's typical jobs to edit; nothing is saved until "Save".
        overrides["estimates"] = estimate_preset(request.POST["preset"])
    elif request.method == "POST" and step == "test_call":
        skip = request.POST.get("action") == "skip"
        business = services.business_onboarding_finish(business=business, skip_test_call=skip)
        if business.onboarding_completed:
            messages.success(
                request,
                _("You're all set: calls you miss at %(number)s are now texted back.")
                % {"number": selectors.onboarding_checklist(business=business).number},
            )
            return redirect("home")
        errors = {"form": [_("Not everything is ready yet: see the checklist below.")]}
    elif request.method == "POST" and step == "phone_number" and (action_errors := _number_action(request)) is not None:
        errors = action_errors
        if not errors and request.POST.get("action") != "search":
            return redirect("onboarding-step", step=step)
    elif request.method == "POST":
        errors = _save_step(request, step)
        if not errors:
            next_index = min(ONBOARDING_STEPS.index(step) + 1, len(ONBOARDING_STEPS) - 1)
            return redirect("onboarding-step", step=ONBOARDING_STEPS[next_index])
        overrides = _draft(step, request.POST, config_services.config_get(), business)
    business = selectors.business_get(business_id=business.pk)
    context = _step_context(request, step)
    context.update(overrides)
    context.update(
        errors=errors,
        available_numbers=getattr(request, "available_numbers", []),
        checklist=selectors.onboarding_checklist(business=business),
        steps=[
            (name, STEP_TITLES[name], name in (business.onboarding_completed_steps or [])) for name in ONBOARDING_STEPS
        ],
        step_number=ONBOARDING_STEPS.index(step) + 1,
        step_count=len(ONBOARDING_STEPS),
        form_action=reverse("onboarding-step", kwargs={"step": step}),
        submit_label=_("Save and continue"),
        nav="settings",
        wizard=True,
    )
    return render(request, "tenants/onboarding.html", context)


@business_member_required
@require_http_methods(["GET"])
def area_preview(request):
    """htmx: what the geocoder makes of the address being typed."""
    address = request.GET.get("address", "")[:300]
    return render(
        request,
        "tenants/_area_confirmation.html",
        {"area_point": _area_point(address), "address": address, "radius": request.GET.get("radius_miles", "")},
    )


@business_member_required
@require_http_methods(["POST"])
def missed_call_preview(request):
    """htmx: the missed-call text as it would be sent with the template being typed, and its segments."""
    config = copy.copy(config_services.config_get())
    template = request.POST.get("auto_reply_template", "")[:1600]
    if template.strip():
        config.auto_reply_template = template
    policy = disclosure.disclosure_policy(config, request.tenant)
    return render(
        request,
        "tenants/_missed_call_preview.html",
        {"missed_call_preview": _missed_call_preview(request.tenant, config, policy), "disclosure": policy},
    )


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
    if errors:
        context.update(_draft(step, request.POST, context["config"], request.tenant))
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
