"""Dashboard forms. Settings are validated by the same serializer as the config API."""

import re
import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.tenants.config.models import WEEKDAYS
from nevermisscall.choices import Trade
from nevermisscall.phone import InvalidPhoneNumber, to_e164

# Time zones by the name owners know them by; the IANA name is what is stored.
TIMEZONE_NAMES = {
    "America/New_York": _("Eastern Time"),
    "America/Chicago": _("Central Time"),
    "America/Denver": _("Mountain Time"),
    "America/Phoenix": _("Mountain Time (Arizona, no daylight saving)"),
    "America/Los_Angeles": _("Pacific Time"),
    "America/Anchorage": _("Alaska Time"),
    "Pacific/Honolulu": _("Hawaii Time"),
    "America/Puerto_Rico": _("Atlantic Time (Puerto Rico)"),
}
COMMON_TIMEZONES = list(TIMEZONE_NAMES)


def timezone_choices(current: str = "") -> list[tuple[str, str]]:
    """The US zones by name; a business elsewhere keeps its own zone (shown by its IANA name)."""
    choices = [(tz, label) for tz, label in TIMEZONE_NAMES.items()]
    if current and current not in TIMEZONE_NAMES:
        choices.append((current, current.replace("_", " ")))
    return choices


def timezone_label(name: str) -> str:
    return str(TIMEZONE_NAMES.get(name, name.replace("_", " ")))


PHONE_EXAMPLE = "(312) 555-0100"


def plain_phone_error():
    return _("That doesn't look like a phone number. Enter it with the area code, e.g. %(example)s.") % {
        "example": PHONE_EXAMPLE
    }


def normalize_website(value: str) -> str:
    """ "acmeplumbing.com" is a web address too: without a scheme it gets https://."""
    value = (value or "").strip()
    if value and "://" not in value:
        value = "https://" + value.lstrip("/")
    return value


class SignupForm(forms.Form):
    business_name = forms.CharField(
        label=_("Business name"), max_length=200, error_messages={"required": _("Enter your business's name.")}
    )
    owner_name = forms.CharField(
        label=_("Your name"), max_length=200, error_messages={"required": _("Enter your name.")}
    )
    owner_email = forms.EmailField(
        label=_("Email"),
        error_messages={
            "required": _("Enter your email address; you'll log in with it."),
            "invalid": _("That doesn't look like an email address, e.g. dora@deltadrains.com."),
        },
    )
    owner_password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(render_value=True),
        max_length=128,
        error_messages={"required": _("Choose a password.")},
        help_text=_("At least 8 characters, not a common password and not only numbers."),
    )
    trade = forms.ChoiceField(label=_("Trade"), choices=Trade.choices)
    timezone = forms.ChoiceField(label=_("Time zone"), choices=timezone_choices)
    phone = forms.CharField(
        label=_("Your cell phone"),
        max_length=32,
        required=False,
        help_text=_("Missed calls are forwarded here first; we also text you urgent jobs."),
    )

    def clean_business_name(self):
        value = self.cleaned_data["business_name"].strip()
        if not value:
            raise forms.ValidationError(_("Enter your business's name."))
        return value

    def clean_phone(self):
        value = self.cleaned_data.get("phone", "").strip()
        if not value:
            return ""
        try:
            return to_e164(value)
        except InvalidPhoneNumber:
            raise forms.ValidationError(plain_phone_error()) from None

    def clean_owner_password(self):
        from django.contrib.auth import password_validation

        value = self.cleaned_data["owner_password"]
        password_validation.validate_password(value)
        return value


WEEKDAY_LABELS = {
    "monday": _("Monday"),
    "tuesday": _("Tuesday"),
    "wednesday": _("Wednesday"),
    "thursday": _("Thursday"),
    "friday": _("Friday"),
    "saturday": _("Saturday"),
    "sunday": _("Sunday"),
}


MAX_FORM_INTERVALS = 3
ALL_DAY = {"open": "00:00", "close": "24:00"}


def _day_intervals(hours: dict) -> list[dict]:
    if hours.get("closed"):
        return []
    if "intervals" in hours:
        return list(hours["intervals"])
    if hours.get("open") and hours.get("close"):
        return [{"open": hours["open"], "close": hours["close"]}]
    return []


def hours_initial(business_hours: dict) -> list[dict]:
    """One row per weekday for the hours form: up to three intervals (a lunch break, a split shift),
    one more empty than the day has, or "open 24 hours"."""
    rows = []
    for day in WEEKDAYS:
        hours = business_hours.get(day) or {}
        intervals = _day_intervals(hours)
        all_day = intervals == [ALL_DAY]
        shown = [] if all_day else intervals
        slots = [*shown, *[{"open": "", "close": ""}] * max(1, MAX_FORM_INTERVALS - len(shown))]
        rows.append(
            {
                "day": day,
                "label": WEEKDAY_LABELS[day],
                "intervals": slots[: max(MAX_FORM_INTERVALS, len(shown))],
                "closed": bool(hours.get("closed")),
                "all_day": all_day,
            }
        )
    return rows


def hours_from_post(post) -> dict:
    """The hours form as the config API's shape: one interval stays seed 000's open/close pair,
    several become ``intervals``; empty pairs are skipped, half-filled ones go to validation."""
    hours = {}
    for day in WEEKDAYS:
        if post.get(f"{day}_closed"):
            hours[day] = {"closed": True}
            continue
        if post.get(f"{day}_all_day"):
            hours[day] = {"closed": False, "intervals": [dict(ALL_DAY)]}
            continue
        pairs = []
        for index in range(int(post.get(f"{day}_interval_count") or MAX_FORM_INTERVALS)):
            opening, closing = post.get(f"{day}_open_{index}", ""), post.get(f"{day}_close_{index}", "")
            if opening or closing:
                pairs.append({"open": opening, "close": closing})
        if len(pairs) == 1:
            hours[day] = {**pairs[0], "closed": False}
        elif pairs:
            hours[day] = {"closed": False, "intervals": pairs}
        else:  # Neither hours nor "Closed": validation asks for one (a day is never closed by omission).
            hours[day] = {"open": "", "close": "", "closed": False}
    return hours


CLOSURE_LINE = re.compile(
    r"^(?P<start>\d{4}-\d{2}-\d{2})(?:\s*(?:–|—|-|to|\.\.)\s*(?P<end>\d{4}-\d{2}-\d{2}))?\s*(?P<name>.*)$"
)


def closures_initial(closures: list[dict]) -> str:
    lines = []
    for closure in closures or []:
        span = closure["start_date"]
        if closure.get("end_date") and closure["end_date"] != closure["start_date"]:
            span += f" – {closure['end_date']}"
        lines.append(f"{span} {closure.get('name') or ''}".strip())
    return "\n".join(lines)


def closures_from_post(text: str) -> list:
    """One closure per line, "2026-12-24 – 2026-12-26 Christmas break"; a line that is not one is
    passed on as it is, so validation names it instead of dropping it."""
    closures = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        match = CLOSURE_LINE.match(line)
        if match is None:
            closures.append({"start_date": line})
            continue
        closure = {"start_date": match["start"], "name": match["name"].strip()[:100]}
        if match["end"]:
            closure["end_date"] = match["end"]
        closures.append(closure)
    return closures


def all_timezones() -> list[str]:
    return sorted(zoneinfo.available_timezones())
