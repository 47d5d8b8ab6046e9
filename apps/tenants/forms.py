"""Dashboard forms. Settings are validated by the same serializer as the config API."""

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.tenants.config.models import WEEKDAYS
from nevermisscall.choices import Trade

COMMON_TIMEZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
]


class SignupForm(forms.Form):
    business_name = forms.CharField(label=_("Business name"), max_length=200)
    owner_name = forms.CharField(label=_("Your name"), max_length=200)
    owner_email = forms.EmailField(label=_("Email"))
    owner_password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=128)
    trade = forms.ChoiceField(label=_("Trade"), choices=Trade.choices)
    timezone = forms.ChoiceField(label=_("Time zone"), choices=[(tz, tz) for tz in COMMON_TIMEZONES])
    phone = forms.CharField(label=_("Business phone"), max_length=32, required=False)


WEEKDAY_LABELS = {
    "monday": _("Monday"),
    "tuesday": _("Tuesday"),
    "wednesday": _("Wednesday"),
    "thursday": _("Thursday"),
    "friday": _("Friday"),
    "saturday": _("Saturday"),
    "sunday": _("Sunday"),
}


def hours_initial(business_hours: dict) -> list[dict]:
    """One row per weekday for the hours form."""
    rows = []
    for day in WEEKDAYS:
        hours = business_hours.get(day) or {}
        rows.append(
            {
                "day": day,
                "label": WEEKDAY_LABELS[day],
                "open": hours.get("open") or "",
                "close": hours.get("close") or "",
                "closed": bool(hours.get("closed")),
            }
        )
    return rows


def hours_from_post(post) -> dict:
    return {
        day: (
            {"closed": True}
            if post.get(f"{day}_closed")
            else {"open": post.get(f"{day}_open", ""), "close": post.get(f"{day}_close", ""), "closed": False}
        )
        for day in WEEKDAYS
    }


def all_timezones() -> list[str]:
    return sorted(zoneinfo.available_timezones())
