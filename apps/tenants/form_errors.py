"""The settings serializer's errors (shared with the API) as plain, translated sentences placed
next to the wizard's and settings pages' fields.

The API keeps its precise messages; a page shows the owner what to do, by the field's name in the
form ("monday", "estimate-2", "address"). Anything not recognised keeps the serializer's message,
so a setting that cannot be stored is always refused with a reason, never dropped.
"""

from django.utils.translation import gettext as _

from apps.tenants.forms import WEEKDAY_LABELS, plain_phone_error


def _codes(detail) -> list[tuple[str, str]]:
    """(code, message) pairs of a leaf error list."""
    if isinstance(detail, dict):
        return [pair for value in detail.values() for pair in _codes(value)]
    if isinstance(detail, list):
        return [pair for value in detail for pair in _codes(value)]
    return [(getattr(detail, "code", "invalid"), str(detail))]


def _day_message(day: str, detail) -> str:
    label = str(WEEKDAY_LABELS[day])
    text = " ".join(message for _code, message in _codes(detail))
    if "overlaps" in text:
        return _("%(day)s: the time ranges overlap. Make each one start after the one before ends.") % {"day": label}
    if "after opening" in text:
        return _("%(day)s: the closing time must be later than the opening time.") % {"day": label}
    return _("%(day)s: give an opening and a closing time, tick “Open 24 hours” or tick “Closed”.") % {"day": label}


ESTIMATE_FIELDS = {
    "job_type": lambda n: _("Job %(n)s: give the job a name.") % {"n": n},
    "min_price": lambda n: _("Job %(n)s: give the lowest price in dollars, e.g. 120.") % {"n": n},
    "max_price": lambda n: (
        _("Job %(n)s: the highest price must be a number no lower than the lowest price.") % {"n": n}
    ),
    "duration_minutes": lambda n: _("Job %(n)s: how long the job takes, in minutes (15 or more).") % {"n": n},
    "synonyms": lambda n: _("Job %(n)s: keep the other words short (60 letters each, 30 at most).") % {"n": n},
}


def _first(detail) -> str:
    pairs = _codes(detail)
    return pairs[0][1] if pairs else ""


def field_errors(detail: dict, *, estimate_rows: list[int] | None = None) -> dict[str, list[str]]:
    """``detail``: a BusinessConfigSerializer's or BusinessUpdateInputSerializer's ``errors``.
    ``estimate_rows``: for each saved estimate, the form row it came from (rows are numbered from 1)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for key, value in detail.items():
        if key == "business_hours":
            if isinstance(value, dict):
                for day, day_detail in value.items():
                    if day in WEEKDAY_LABELS:
                        add(day, _day_message(day, day_detail))
                    else:
                        add("hours", _first(day_detail))
            else:
                add("hours", _first(value))
        elif key == "holiday_closures":
            add(
                "closures",
                _(
                    "A closed day could not be read. Write one per line: 2026-12-24, or 2026-12-24 – 2026-12-26, then a name."
                ),
            )
        elif key == "holiday_calendar":
            add(
                "holiday_country",
                _(
                    "We have no holiday calendar for that. Use a country code such as US, CA or MX, and a state code such as IL."
                ),
            )
        elif key == "timezone":
            add("timezone", _("Pick your time zone from the list."))
        elif key == "service_area":
            fields = value if isinstance(value, dict) else {}
            if "radius_miles" in fields:
                add("radius_miles", _("The distance you travel must be between 0.5 and 500 miles."))
            if "address" in fields:
                add("address", _("The address is too long: 300 letters at most."))
            if not fields or set(fields) - {"radius_miles", "address"}:
                add("address", _first(value))
        elif key == "job_estimates":
            if isinstance(value, dict) and all(isinstance(k, int) for k in value):
                rows = sorted(value.items())  # DRF keys a list's errors by the item's index.
            else:
                rows = list(enumerate(value if isinstance(value, list) else [value]))
            for index, row in rows:
                if not row:
                    continue
                number = (estimate_rows[index] + 1) if estimate_rows and index < len(estimate_rows) else index + 1
                field = f"estimate-{number}"
                if isinstance(row, dict):
                    for name in row:
                        add(
                            field,
                            ESTIMATE_FIELDS.get(name, lambda n, r=row: f"{_('Job %(n)s') % {'n': n}}: {_first(r)}")(
                                number
                            ),
                        )
                else:
                    add("estimates", _first(row))
        elif key == "forwarding_number" or key == "phone":
            add(key, plain_phone_error())
        elif key == "website":
            add("website", _("That doesn't look like a web address, e.g. deltadrains.com."))
        elif key == "name":
            add("name", _("Enter your business's name."))
        elif key in ("greeting_template", "auto_reply_template"):
            codes = _codes(value)
            if any(code == "max_length" for code, _message in codes):
                add(key, _("Keep it under 1,600 characters (the longest text a phone accepts)."))
            elif any(code == "blank" for code, _message in codes):
                add(key, _("Write the message; it cannot be empty."))
            else:
                add(key, _("Only these placeholders work: {business_name}, {business_phone}, {customer_name}."))
        elif key == "ring_timeout":
            add("ring_timeout", _("Ring between 5 and 120 seconds."))
        elif key == "sms_daily_quota":
            add("sms_daily_quota", _("Give a number of texts between 1 and 100,000."))
        elif key == "emergency_multiplier":
            add("emergency_multiplier", _("Give a rate between 1 and 5 times the estimate, or leave it empty."))
        elif key == "pricing_note":
            add("pricing_note", _("Keep it under 500 characters."))
        elif key == "referral_note":
            add("referral_note", _("Keep it under 300 characters."))
        else:
            add("form", _first(value))
    return errors
