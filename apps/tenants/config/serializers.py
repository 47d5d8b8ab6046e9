"""Validation of business settings, shared by the config API and the onboarding wizard."""

import re
import zoneinfo
from datetime import timedelta

import holidays
from rest_framework import serializers

from apps.tenants.config import disclosure
from apps.tenants.config.models import WEEKDAYS
from nevermisscall.choices import Trade
from nevermisscall.phone import InvalidPhoneNumber, to_e164
from nevermisscall.serializers import StrictSerializer

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
CLOSING = re.compile(r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")  # "24:00": open until midnight.
TEMPLATE_MAX = 1600  # Twilio's limit for one SMS body.
MAX_INTERVALS_PER_DAY = 6
MAX_CLOSURES = 200


def _check_interval(opening, closing) -> tuple[str, str]:
    if not opening or not HHMM.match(str(opening)):
        raise serializers.ValidationError({"open": "Use 24-hour HH:MM, e.g. 08:00."})
    if not closing or not CLOSING.match(str(closing)):
        raise serializers.ValidationError({"close": "Use 24-hour HH:MM, e.g. 17:00, or 24:00 for midnight."})
    if opening >= closing:
        raise serializers.ValidationError({"close": "Closing time must be after opening time."})
    return opening, closing


class IntervalSerializer(StrictSerializer):
    open = serializers.CharField(help_text="HH:MM, 00:00–23:59")
    close = serializers.CharField(help_text="HH:MM, after open; 24:00 is midnight at the end of the day")

    def validate(self, attrs):
        opening, closing = _check_interval(attrs["open"], attrs["close"])
        return {"open": opening, "close": closing}


class DayHoursSerializer(StrictSerializer):
    """One weekday: closed, one interval (``open``/``close``, seed 000's shape) or several
    ``intervals`` (a lunch break, a split shift). ``00:00``–``24:00`` is open all day."""

    open = serializers.CharField(allow_null=True, required=False)
    close = serializers.CharField(allow_null=True, required=False)
    closed = serializers.BooleanField(default=False)
    intervals = IntervalSerializer(many=True, required=False, max_length=MAX_INTERVALS_PER_DAY)

    def validate(self, attrs):
        if attrs.get("closed"):
            return {"open": None, "close": None, "closed": True}
        if "intervals" in attrs:
            if attrs.get("open") or attrs.get("close"):
                raise serializers.ValidationError({"intervals": "Give either open/close or intervals, not both."})
            intervals = sorted(attrs["intervals"], key=lambda interval: interval["open"])
            if not intervals:
                raise serializers.ValidationError({"intervals": "Give at least one interval, or closed: true."})
            for earlier, later in zip(intervals, intervals[1:], strict=False):
                if later["open"] < earlier["close"]:
                    raise serializers.ValidationError(
                        {
                            "intervals": f"{earlier['open']}–{earlier['close']} overlaps {later['open']}–{later['close']}."
                        }
                    )
            return {"closed": False, "intervals": intervals}
        opening, closing = _check_interval(attrs.get("open"), attrs.get("close"))
        return {"open": opening, "close": closing, "closed": False}


class ClosureSerializer(StrictSerializer):
    """A day or a range of days the business is closed (a holiday, a vacation)."""

    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True, help_text="Inclusive; the start date if omitted")
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        start, end = attrs["start_date"], attrs.get("end_date") or attrs["start_date"]
        if end < start:
            raise serializers.ValidationError({"end_date": "end_date must not be before start_date."})
        if end - start > timedelta(days=366):
            raise serializers.ValidationError({"end_date": "A closure may last at most a year."})
        return {"start_date": start.isoformat(), "end_date": end.isoformat(), "name": attrs["name"]}


class HolidayCalendarSerializer(StrictSerializer):
    """Closed on the public holidays of a country (and state or province), from the maintained
    ``holidays`` calendar."""

    country = serializers.CharField(max_length=3, help_text="ISO 3166-1 alpha-2, e.g. US")
    subdivision = serializers.CharField(
        max_length=10, required=False, allow_blank=True, allow_null=True, default=None, help_text="e.g. IL, CA, ON"
    )

    def validate(self, attrs):
        country, subdivision = attrs["country"].upper(), (attrs.get("subdivision") or "").upper() or None
        supported = holidays.list_supported_countries()
        if country not in supported:
            raise serializers.ValidationError({"country": f"No holiday calendar for {country!r}."})
        if subdivision and subdivision not in supported[country]:
            raise serializers.ValidationError({"subdivision": f"{country} has no subdivision {subdivision!r}."})
        return {"country": country, "subdivision": subdivision}


class BusinessHoursSerializer(serializers.Serializer):
    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("Business hours must be an object keyed by weekday.")
        unknown = set(data) - set(WEEKDAYS)
        if unknown:
            raise serializers.ValidationError(f"Unknown weekdays: {', '.join(sorted(map(str, unknown)))}.")
        result, errors = {}, {}
        for day, hours in data.items():
            day_serializer = DayHoursSerializer(data=hours)
            if day_serializer.is_valid():
                result[day] = day_serializer.validated_data
            else:
                errors[day] = day_serializer.errors
        if errors:
            raise serializers.ValidationError(errors)
        return result

    def to_representation(self, instance):
        return instance


class ServiceAreaSerializer(StrictSerializer):
    address = serializers.CharField(max_length=300, allow_blank=True, required=False, default="")
    latitude = serializers.FloatField(min_value=-90, max_value=90, allow_null=True, required=False, default=None)
    longitude = serializers.FloatField(min_value=-180, max_value=180, allow_null=True, required=False, default=None)
    radius_miles = serializers.FloatField(min_value=0.5, max_value=500, required=False, default=25)

    def validate(self, attrs):
        if (attrs.get("latitude") is None) != (attrs.get("longitude") is None):
            raise serializers.ValidationError("Give both latitude and longitude, or neither.")
        return attrs


class JobEstimateSerializer(StrictSerializer):
    job_type = serializers.CharField(max_length=100)
    trade = serializers.ChoiceField(choices=Trade.choices, required=False, allow_null=True)
    min_price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, coerce_to_string=False)
    max_price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, coerce_to_string=False)
    duration_minutes = serializers.IntegerField(min_value=15, max_value=24 * 60)
    description = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")
    label = serializers.CharField(
        max_length=100, allow_blank=True, required=False, help_text="What customers are told; empty: the job_type."
    )
    synonyms = serializers.ListField(
        child=serializers.CharField(max_length=60),
        max_length=30,
        required=False,
        help_text="Other words customers use for this job (any language), e.g. 'clogged sink', 'tapado'.",
    )

    def validate(self, attrs):
        if attrs["min_price"] > attrs["max_price"]:
            raise serializers.ValidationError({"max_price": "max_price must be at least min_price."})
        attrs["min_price"] = float(attrs["min_price"])
        attrs["max_price"] = float(attrs["max_price"])
        return attrs


AFTER_HOURS_EMERGENCY = ["dispatch_now", "next_open_day"]


class AiSettingsSerializer(StrictSerializer):
    enabled = serializers.BooleanField(required=False)
    voice_enabled = serializers.BooleanField(required=False)
    media_streams_enabled = serializers.BooleanField(required=False)
    tone = serializers.ChoiceField(choices=["friendly", "professional", "concise"], required=False)
    auto_book = serializers.BooleanField(required=False)
    emergency_alerts = serializers.BooleanField(required=False)
    max_ai_messages = serializers.IntegerField(min_value=1, max_value=100, required=False)
    emergency_service = serializers.BooleanField(
        required=False, help_text="Whether the business takes emergencies at all (off: the owner is told instead)."
    )
    after_hours_emergency = serializers.ChoiceField(
        choices=AFTER_HOURS_EMERGENCY,
        required=False,
        help_text="An emergency outside business hours: dispatch now (the emergency multiplier applies), "
        "or offer the first slot of the next open day and alert the owner.",
    )
    disclose_automation = serializers.ChoiceField(
        choices=list(disclosure.CHOICES),
        required=False,
        help_text="Whether the first text of a conversation says 'Replies here are automated.': always, never, "
        "or where_required (the default): where the business's state has a bot-disclosure law (California, "
        "Colorado, Maine, Utah), or where its state cannot be told (from its address, holiday calendar or phone).",
    )


def _template():
    return serializers.CharField(max_length=TEMPLATE_MAX, required=False, trim_whitespace=True)


class BusinessConfigSerializer(serializers.Serializer):
    """Every field optional: PUT and onboarding steps change what they name, nothing else."""

    business_hours = BusinessHoursSerializer(required=False)
    holiday_closures = ClosureSerializer(many=True, required=False, max_length=MAX_CLOSURES)
    holiday_calendar = HolidayCalendarSerializer(required=False, allow_null=True)
    emergency_multiplier = serializers.DecimalField(
        max_digits=4,
        decimal_places=2,
        min_value=1,
        max_value=5,
        required=False,
        allow_null=True,
        coerce_to_string=False,
        help_text="Emergency prices are the estimate times this; null: seed 000's 1.5×–2.75× by time of day.",
    )
    pricing_note = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="What the prices include, quoted by the assistant with a price (e.g. 'Parts extra.').",
    )
    referral_note = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        help_text="Said after declining a job you don't do, e.g. 'For locks, try Ace Locksmith, 312-555-0100.'",
    )
    timezone = serializers.CharField(required=False)
    trades = serializers.ListField(child=serializers.ChoiceField(choices=Trade.choices), required=False, max_length=5)
    service_area = ServiceAreaSerializer(required=False)
    job_estimates = JobEstimateSerializer(many=True, required=False, max_length=100)
    greeting_template = _template()
    auto_reply_template = _template()
    ai_settings = AiSettingsSerializer(required=False)
    forwarding_number = serializers.CharField(required=False, allow_blank=True, max_length=32)
    ring_timeout = serializers.IntegerField(min_value=5, max_value=120, required=False)
    call_screening = serializers.BooleanField(required=False)
    sms_cooldown_minutes = serializers.IntegerField(min_value=0, max_value=24 * 60, required=False)
    reminder_hours = serializers.IntegerField(min_value=1, max_value=168, required=False)
    sms_daily_quota = serializers.IntegerField(
        min_value=1, max_value=100000, required=False, help_text="Texts per local day; more wait for midnight."
    )
    language = serializers.ChoiceField(choices=["en", "es"], required=False)

    def validate_timezone(self, value):
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError("Unknown time zone; use an IANA name such as America/Chicago.")
        return value

    def validate_forwarding_number(self, value):
        if not value:
            return ""
        try:
            return to_e164(value)
        except InvalidPhoneNumber as exc:
            raise serializers.ValidationError("Not a valid phone number; use E.164, e.g. +15551234567.") from exc

    def validate_trades(self, value):
        return list(dict.fromkeys(value))

    def validate_greeting_template(self, value):
        return self._check_placeholders(value)

    def validate_auto_reply_template(self, value):
        return self._check_placeholders(value)

    @staticmethod
    def _check_placeholders(value):
        allowed = {"business_name", "business_phone", "customer_name"}
        used = set(re.findall(r"{(\w*)}", value))
        if used - allowed:
            raise serializers.ValidationError(f"Unknown placeholders {sorted(used - allowed)}; use {sorted(allowed)}.")
        return value


class BusinessConfigOutputSerializer(serializers.Serializer):
    """The shape of ``GET /config/{tenantId}`` (documentation; the view builds the dict)."""

    tenant_id = serializers.UUIDField()
    timezone = serializers.CharField()
    business_hours = serializers.DictField()
    holiday_closures = ClosureSerializer(many=True)
    holiday_calendar = HolidayCalendarSerializer(allow_null=True)
    emergency_multiplier = serializers.FloatField(allow_null=True)
    pricing_note = serializers.CharField()
    referral_note = serializers.CharField()
    trades = serializers.ListField(child=serializers.CharField())
    service_area = ServiceAreaSerializer()
    job_estimates = JobEstimateSerializer(many=True)
    greeting_template = serializers.CharField()
    auto_reply_template = serializers.CharField()
    ai_settings = AiSettingsSerializer()
    forwarding_number = serializers.CharField()
    ring_timeout = serializers.IntegerField()
    call_screening = serializers.BooleanField()
    sms_cooldown_minutes = serializers.IntegerField()
    reminder_hours = serializers.IntegerField()
    sms_daily_quota = serializers.IntegerField()
    language = serializers.CharField()
    updated_at = serializers.DateTimeField()
