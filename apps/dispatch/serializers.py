"""Seed 000's ProcessConversationRequest and ProcessConversationResponse, field by field.

The seed names the nested types without defining them; their fields are defined here (and in the
OpenAPI schema) from what the engine needs and the business settings the platform already keeps.
"""

import zoneinfo

from rest_framework import serializers

from apps.dispatch.engine import ACTIONS, STAGES
from apps.dispatch.rules import INTENTS, URGENCIES
from apps.tenants.config.models import WEEKDAYS
from apps.tenants.config.serializers import AFTER_HOURS_EMERGENCY, DayHoursSerializer, JobEstimateSerializer
from nevermisscall.choices import Trade
from nevermisscall.phone import InvalidPhoneNumber, to_e164
from nevermisscall.serializers import StrictSerializer

MAX_HISTORY = 100
MAX_TEXT = 1600


class AppointmentSlotSerializer(serializers.Serializer):
    start_datetime = serializers.DateTimeField()
    end_datetime = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField(required=False, min_value=1)
    timezone = serializers.CharField(required=False)
    display = serializers.CharField(required=False, allow_blank=True)
    is_emergency = serializers.BooleanField(required=False, default=False)
    within_business_hours = serializers.BooleanField(required=False, default=True)
    pricing_multiplier = serializers.FloatField(required=False, default=1.0)
    estimated_min = serializers.FloatField(required=False, allow_null=True, default=None)
    estimated_max = serializers.FloatField(required=False, allow_null=True, default=None)
    change = serializers.ChoiceField(
        choices=["reschedule", "cancel"],
        required=False,
        allow_null=True,
        default=None,
        help_text="Set when the proposal moves or cancels the customer's appointment instead of booking one.",
    )
    changes_appointment = serializers.CharField(
        required=False, allow_null=True, default=None, help_text="The appointment the proposal moves or cancels."
    )

    def validate(self, attrs):
        if attrs["end_datetime"] <= attrs["start_datetime"]:
            raise serializers.ValidationError({"end_datetime": "Must be after start_datetime."})
        return attrs


class ConversationMessageSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["customer", "assistant", "business", "system"])
    content = serializers.CharField(max_length=MAX_TEXT, allow_blank=True, trim_whitespace=False)
    timestamp = serializers.DateTimeField(required=False, allow_null=True)
    proposed_slot = AppointmentSlotSerializer(
        required=False, allow_null=True, help_text="The slot this assistant message proposed."
    )


class ClosedDateSerializer(StrictSerializer):
    date = serializers.DateField()
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        return {"date": attrs["date"].isoformat(), "name": attrs["name"]}


class BusinessHoursInputSerializer(serializers.Serializer):
    timezone = serializers.CharField(default="America/New_York")
    monday = DayHoursSerializer(required=False)
    tuesday = DayHoursSerializer(required=False)
    wednesday = DayHoursSerializer(required=False)
    thursday = DayHoursSerializer(required=False)
    friday = DayHoursSerializer(required=False)
    saturday = DayHoursSerializer(required=False)
    sunday = DayHoursSerializer(required=False)
    closed_dates = ClosedDateSerializer(
        many=True, required=False, default=list, help_text="Days closed whatever the weekday (holidays, vacations)."
    )

    def validate_timezone(self, value):
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError("Unknown time zone; use an IANA name such as America/Chicago.")
        return value

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = set(data) - {"timezone", "closed_dates", *WEEKDAYS}
            if unknown:
                raise serializers.ValidationError(f"Unknown weekdays: {', '.join(sorted(map(str, unknown)))}.")
        return super().to_internal_value(data)

    def validate(self, attrs):
        for day in WEEKDAYS:
            attrs.setdefault(day, {"open": None, "close": None, "closed": True})
        return attrs


class BusinessAddressSerializer(serializers.Serializer):
    street = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    state = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    zip_code = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True, default=None)
    longitude = serializers.FloatField(min_value=-180, max_value=180, required=False, allow_null=True, default=None)
    service_radius_miles = serializers.FloatField(min_value=0.5, max_value=500, required=False, default=25)


class BusinessSettingsSerializer(serializers.Serializer):
    ai_enabled = serializers.BooleanField(default=True)
    auto_book = serializers.BooleanField(default=True)
    emergency_service = serializers.BooleanField(
        default=True, help_text="Emergencies are served outside business hours."
    )
    after_hours_emergency = serializers.ChoiceField(
        choices=AFTER_HOURS_EMERGENCY,
        default="dispatch_now",
        help_text="Outside business hours: dispatch now, or the first slot of the next open day and tell the owner.",
    )
    emergency_multiplier = serializers.FloatField(
        min_value=1,
        max_value=5,
        required=False,
        allow_null=True,
        default=None,
        help_text="The business's own emergency multiplier; null: 1.5×–2.75× by time of day (seed 000).",
    )
    pricing_note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    referral_note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    emergency_response_minutes = serializers.IntegerField(default=60, min_value=15, max_value=24 * 60)
    appointment_buffer_minutes = serializers.IntegerField(default=30, min_value=0, max_value=240)
    min_lead_minutes = serializers.IntegerField(default=60, min_value=0, max_value=7 * 24 * 60)
    booking_horizon_days = serializers.IntegerField(default=14, min_value=1, max_value=60)
    language = serializers.ChoiceField(choices=["en", "es"], default="en")


class CalendarEventSerializer(serializers.Serializer):
    """Seed 000's CalendarEvent."""

    summary = serializers.CharField(max_length=300, allow_blank=True, default="")
    start_datetime = serializers.DateTimeField()
    end_datetime = serializers.DateTimeField()
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None)
    location = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None)

    def validate(self, attrs):
        if attrs["end_datetime"] <= attrs["start_datetime"]:
            raise serializers.ValidationError({"end_datetime": "Must be after start_datetime."})
        return attrs


class UpcomingAppointmentSerializer(serializers.Serializer):
    appointment_id = serializers.CharField()
    start_datetime = serializers.DateTimeField()
    end_datetime = serializers.DateTimeField()
    job_type = serializers.CharField(allow_blank=True, default="")


class CustomerHistorySerializer(serializers.Serializer):
    customer_id = serializers.CharField(required=False, allow_null=True, default=None)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=["en", "es"], required=False, allow_null=True, default=None)
    previous_appointments = serializers.IntegerField(min_value=0, default=0)
    last_service_date = serializers.DateField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    upcoming_appointment = UpcomingAppointmentSerializer(
        required=False, allow_null=True, default=None, help_text="The customer's next appointment, if any."
    )


def _phone(value: str) -> str:
    try:
        return to_e164(value)
    except InvalidPhoneNumber as exc:
        raise serializers.ValidationError("Not a valid phone number; use E.164, e.g. +15551234567.") from exc


class ProcessConversationRequestSerializer(serializers.Serializer):
    caller_phone = serializers.CharField(max_length=32)
    called_number = serializers.CharField(max_length=32)
    conversation_history = ConversationMessageSerializer(many=True, max_length=MAX_HISTORY)
    current_message = serializers.CharField(max_length=MAX_TEXT)
    business_name = serializers.CharField(max_length=200)
    trade_type = serializers.ChoiceField(choices=Trade.choices)
    business_hours = BusinessHoursInputSerializer()
    business_address = BusinessAddressSerializer()
    job_estimates = JobEstimateSerializer(many=True, max_length=100)
    business_settings = BusinessSettingsSerializer()
    existing_calendar = CalendarEventSerializer(many=True, max_length=1000)
    customer_history = CustomerHistorySerializer(required=False, allow_null=True, default=None)
    business_trades = serializers.ListField(
        child=serializers.ChoiceField(choices=Trade.choices),
        required=False,
        default=list,
        max_length=len(Trade.choices),
        help_text="Every trade the business serves (not in seed 000; trade_type and the estimates' trades count too). A named job of another trade is declined (decline_out_of_trade).",
    )

    def validate_caller_phone(self, value):
        return _phone(value)

    def validate_called_number(self, value):
        return _phone(value)


class ExtractedInfoSerializer(serializers.Serializer):
    customer_name = serializers.CharField(allow_null=True)
    job_type = serializers.CharField(allow_null=True)
    job_label = serializers.CharField(allow_null=True)
    trade = serializers.ChoiceField(choices=Trade.choices, allow_null=True)
    job_description = serializers.CharField(allow_null=True)
    urgency_level = serializers.ChoiceField(choices=URGENCIES)
    urgency_reason = serializers.CharField(
        allow_null=True,
        help_text=(
            "Not in seed 000: the customer's words behind urgency_level (burst, flooding / no hot water / "
            "no rush); null when none (a normal job, or the model's judgement alone)."
        ),
    )
    intent = serializers.ChoiceField(choices=INTENTS)
    customer_address = serializers.CharField(allow_null=True)
    address_components = serializers.DictField(allow_null=True, help_text="street, city, state, zip_code")
    coordinates = serializers.DictField(allow_null=True, help_text="latitude, longitude, precision, source")
    preferred_time = serializers.CharField(allow_null=True)
    time_preference = serializers.DictField(allow_null=True)
    confirmation = serializers.ChoiceField(choices=["confirmed", "rejected"], allow_null=True)
    language = serializers.ChoiceField(choices=["en", "es"])


class PriceEstimateSerializer(serializers.Serializer):
    base_min = serializers.FloatField()
    base_max = serializers.FloatField()
    multiplier = serializers.FloatField()
    min_price = serializers.FloatField()
    max_price = serializers.FloatField()


class ValidationResultSerializer(serializers.Serializer):
    service_area_valid = serializers.BooleanField(allow_null=True)
    distance_miles = serializers.FloatField(allow_null=True)
    service_radius_miles = serializers.FloatField(allow_null=True)
    within_business_hours = serializers.BooleanField()
    is_emergency = serializers.BooleanField()
    preference_satisfied = serializers.BooleanField()
    price_estimate = PriceEstimateSerializer(allow_null=True)
    estimate_job_type = serializers.CharField(allow_null=True)
    issues = serializers.ListField(child=serializers.CharField())


class NextActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=ACTIONS)
    message = serializers.CharField()
    missing_fields = serializers.ListField(child=serializers.CharField())
    notify_owner = serializers.BooleanField()
    language = serializers.ChoiceField(choices=["en", "es"])


class ConfidenceScoresSerializer(serializers.Serializer):
    intent = serializers.FloatField()
    job_type = serializers.FloatField()
    urgency = serializers.FloatField()
    address = serializers.FloatField()
    time_preference = serializers.FloatField()
    overall = serializers.FloatField()


class ProcessingSerializer(serializers.Serializer):
    engine = serializers.ChoiceField(choices=["openai", "rules"])
    model = serializers.CharField(allow_null=True)
    fallback_used = serializers.BooleanField()
    error = serializers.CharField(allow_blank=True)
    latency_ms = serializers.IntegerField()


class ProcessConversationResponseSerializer(serializers.Serializer):
    extracted_info = ExtractedInfoSerializer()
    validation = ValidationResultSerializer()
    next_action = NextActionSerializer()
    conversation_stage = serializers.ChoiceField(choices=STAGES)
    needs_geocoding = serializers.BooleanField()
    confidence_scores = ConfidenceScoresSerializer()
    proposed_slot = AppointmentSlotSerializer(allow_null=True)
    alternative_slots = AppointmentSlotSerializer(many=True)
    processing = ProcessingSerializer()
