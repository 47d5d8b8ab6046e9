"""Validation of business settings, shared by the config API and the onboarding wizard."""

import re
import zoneinfo

from rest_framework import serializers

from apps.tenants.config.models import WEEKDAYS
from nevermisscall.choices import Trade
from nevermisscall.phone import InvalidPhoneNumber, to_e164

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
TEMPLATE_MAX = 1600  # Twilio's limit for one SMS body.


class DayHoursSerializer(serializers.Serializer):
    open = serializers.CharField(allow_null=True, required=False)
    close = serializers.CharField(allow_null=True, required=False)
    closed = serializers.BooleanField(default=False)

    def validate(self, attrs):
        if attrs.get("closed"):
            return {"open": None, "close": None, "closed": True}
        opening, closing = attrs.get("open"), attrs.get("close")
        for name, value in (("open", opening), ("close", closing)):
            if not value or not HHMM.match(value):
                raise serializers.ValidationError({name: "Use 24-hour HH:MM, e.g. 08:00."})
        if opening >= closing:
            raise serializers.ValidationError({"close": "Closing time must be after opening time."})
        return {"open": opening, "close": closing, "closed": False}


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


class ServiceAreaSerializer(serializers.Serializer):
    address = serializers.CharField(max_length=300, allow_blank=True, required=False, default="")
    latitude = serializers.FloatField(min_value=-90, max_value=90, allow_null=True, required=False, default=None)
    longitude = serializers.FloatField(min_value=-180, max_value=180, allow_null=True, required=False, default=None)
    radius_miles = serializers.FloatField(min_value=0.5, max_value=500, required=False, default=25)

    def validate(self, attrs):
        if (attrs.get("latitude") is None) != (attrs.get("longitude") is None):
            raise serializers.ValidationError("Give both latitude and longitude, or neither.")
        return attrs


class JobEstimateSerializer(serializers.Serializer):
    job_type = serializers.CharField(max_length=100)
    trade = serializers.ChoiceField(choices=Trade.choices, required=False, allow_null=True)
    min_price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, coerce_to_string=False)
    max_price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, coerce_to_string=False)
    duration_minutes = serializers.IntegerField(min_value=15, max_value=24 * 60)
    description = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")

    def validate(self, attrs):
        if attrs["min_price"] > attrs["max_price"]:
            raise serializers.ValidationError({"max_price": "max_price must be at least min_price."})
        attrs["min_price"] = float(attrs["min_price"])
        attrs["max_price"] = float(attrs["max_price"])
        return attrs


class AiSettingsSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(required=False)
    voice_enabled = serializers.BooleanField(required=False)
    media_streams_enabled = serializers.BooleanField(required=False)
    tone = serializers.ChoiceField(choices=["friendly", "professional", "concise"], required=False)
    auto_book = serializers.BooleanField(required=False)
    emergency_alerts = serializers.BooleanField(required=False)
    max_ai_messages = serializers.IntegerField(min_value=1, max_value=100, required=False)


def _template():
    return serializers.CharField(max_length=TEMPLATE_MAX, required=False, trim_whitespace=True)


class BusinessConfigSerializer(serializers.Serializer):
    """Every field optional: PUT and onboarding steps change what they name, nothing else."""

    business_hours = BusinessHoursSerializer(required=False)
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
    trades = serializers.ListField(child=serializers.CharField())
    service_area = ServiceAreaSerializer()
    job_estimates = JobEstimateSerializer(many=True)
    greeting_template = serializers.CharField()
    auto_reply_template = serializers.CharField()
    ai_settings = serializers.DictField()
    forwarding_number = serializers.CharField()
    ring_timeout = serializers.IntegerField()
    call_screening = serializers.BooleanField()
    sms_cooldown_minutes = serializers.IntegerField()
    reminder_hours = serializers.IntegerField()
    sms_daily_quota = serializers.IntegerField()
    language = serializers.CharField()
    updated_at = serializers.DateTimeField()
