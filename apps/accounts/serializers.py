import zoneinfo

from rest_framework import serializers

from apps.accounts.models import Role, UserStatus
from apps.accounts.selectors import photo_url
from nevermisscall.phone import InvalidPhoneNumber, to_e164


class UserOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    full_name = serializers.CharField()
    phone = serializers.CharField()
    timezone = serializers.CharField()
    language = serializers.CharField()
    role = serializers.CharField()
    tenant_id = serializers.UUIDField(source="business_id", allow_null=True)
    permissions = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField()
    photo_url = serializers.SerializerMethodField()
    is_active = serializers.BooleanField()
    is_platform_staff = serializers.SerializerMethodField()
    last_login = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField(source="date_joined")

    def get_photo_url(self, user) -> str | None:
        return photo_url(user)

    def get_is_platform_staff(self, user) -> bool:
        return bool(user.is_staff and user.business_id is None)


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField()
    refresh_expires_in = serializers.IntegerField()


def validate_phone_field(value: str) -> str:
    if not value:
        return ""
    try:
        return to_e164(value)
    except InvalidPhoneNumber as exc:
        raise serializers.ValidationError("Not a valid phone number; use E.164, e.g. +15551234567.") from exc


def validate_timezone_field(value: str) -> str:
    if value and value not in zoneinfo.available_timezones():
        raise serializers.ValidationError("Unknown time zone; use an IANA name such as America/Chicago.")
    return value


class ProfileInputSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    timezone = serializers.CharField(max_length=64, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=["en", "es"], required=False)

    def validate_phone(self, value):
        return validate_phone_field(value)

    def validate_timezone(self, value):
        return validate_timezone_field(value)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give at least one field to change.")
        return attrs


class StatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=UserStatus.choices)
    message = serializers.CharField(max_length=200, required=False, allow_blank=True)


class TeamMemberInputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, max_length=128)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=[Role.ADMIN, Role.STAFF, Role.TECHNICIAN], default=Role.STAFF)

    def validate_phone(self, value):
        return validate_phone_field(value)
