import zoneinfo

from rest_framework import serializers

from apps.accounts.serializers import validate_phone_field
from apps.tenants.models import ApiCredential
from apps.tenants.services import ONBOARDING_STEPS
from nevermisscall.choices import Trade


class TimezoneAndPhoneValidation:
    """``timezone`` must be an IANA name and ``phone`` a number we can dial, wherever a business is written."""

    def validate_timezone(self, value):
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError("Unknown time zone; use an IANA name such as America/Chicago.")
        return value

    def validate_phone(self, value):
        return validate_phone_field(value)


class RegistrationInputSerializer(TimezoneAndPhoneValidation, serializers.Serializer):
    business_name = serializers.CharField(max_length=200)
    owner_email = serializers.EmailField()
    owner_password = serializers.CharField(max_length=128, write_only=True)
    owner_name = serializers.CharField(max_length=200)
    trade = serializers.ChoiceField(choices=Trade.choices)
    # ``source`` names the service's keyword, so ``business_register(**validated_data)`` just works.
    timezone = serializers.CharField(max_length=64, default="America/New_York", source="timezone_name")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")

    def validate_business_name(self, value):
        if not value.strip():
            raise serializers.ValidationError("The business name cannot be blank.")
        return value.strip()


class BusinessOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    trade = serializers.CharField()
    timezone = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    website = serializers.CharField()
    status = serializers.CharField()
    onboarding = serializers.SerializerMethodField()
    domains = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_onboarding(self, business) -> dict:
        return {
            "current_step": business.onboarding_step,
            "completed_steps": business.onboarding_completed_steps,
            "steps": list(ONBOARDING_STEPS),
            "completed": business.onboarding_completed,
            "completed_at": business.onboarding_completed_at,
        }

    def get_domains(self, business) -> list[str]:
        return [domain.domain for domain in business.domains.all()]


class BusinessUpdateInputSerializer(TimezoneAndPhoneValidation, serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    trade = serializers.ChoiceField(choices=Trade.choices, required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    website = serializers.URLField(required=False, allow_blank=True)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give at least one field to change.")
        return attrs


class OnboardingInputSerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=ONBOARDING_STEPS)
    data = serializers.DictField(required=False, default=dict)
    completed = serializers.BooleanField(default=True)


class CredentialOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=ApiCredential.Kind.choices)
    name = serializers.CharField()
    prefix = serializers.CharField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class CredentialCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=ApiCredential.Kind.choices, default=ApiCredential.Kind.API_KEY)
