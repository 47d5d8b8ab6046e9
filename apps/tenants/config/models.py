"""A business's settings, kept in its own schema (one row per schema)."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from nevermisscall.choices import Trade

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

DEFAULT_GREETING = "Thanks for calling {business_name}! How can we help you today?"
DEFAULT_AUTO_REPLY = (
    "Thanks for calling {business_name}! We missed your call but we're here to help. "
    "Reply with what you need and we'll get you scheduled. Reply STOP to opt out."
)


def default_business_hours() -> dict:
    weekday = {"open": "08:00", "close": "17:00", "closed": False}
    return {
        **{day: dict(weekday) for day in WEEKDAYS[:5]},
        "saturday": {"open": "09:00", "close": "13:00", "closed": False},
        "sunday": {"open": None, "close": None, "closed": True},
    }


def default_service_area() -> dict:
    return {"address": "", "latitude": None, "longitude": None, "radius_miles": 25}


def default_ai_settings() -> dict:
    return {
        "enabled": True,
        "voice_enabled": False,
        "media_streams_enabled": False,
        "tone": "friendly",
        "auto_book": True,
        "emergency_alerts": True,
        "emergency_service": True,
        "after_hours_emergency": "dispatch_now",
        "max_ai_messages": 20,
        "disclose_automation": "where_required",
    }


class BusinessConfig(models.Model):
    """TS-Config-Service's business settings. The singleton row has ``id = 1``."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    business_hours = models.JSONField(default=default_business_hours)
    # [{"start_date", "end_date", "name"}]: closed on these days besides the holiday calendar's.
    holiday_closures = models.JSONField(default=list, blank=True)
    # Closed on this country's (and subdivision's) public holidays, from the ``holidays`` library.
    holiday_country = models.CharField(max_length=3, blank=True)
    holiday_subdivision = models.CharField(max_length=10, blank=True)
    # Emergency prices are the estimate times this; null: seed 000's table by time of day.
    emergency_multiplier = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    pricing_note = models.CharField(max_length=500, blank=True)
    # Said after declining a job the business does not do ("For locks, try Ace Locksmith, 312-555-0100").
    referral_note = models.CharField(max_length=300, blank=True)
    trades = ArrayField(models.CharField(max_length=20, choices=Trade.choices), default=list, blank=True)
    service_area = models.JSONField(default=default_service_area)
    job_estimates = models.JSONField(default=list, blank=True)
    greeting_template = models.TextField(default=DEFAULT_GREETING)
    auto_reply_template = models.TextField(default=DEFAULT_AUTO_REPLY)
    ai_settings = models.JSONField(default=default_ai_settings)
    forwarding_number = models.CharField(max_length=20, blank=True)
    ring_timeout = models.PositiveSmallIntegerField(default=20)
    call_screening = models.BooleanField(default=True)
    sms_cooldown_minutes = models.PositiveSmallIntegerField(default=15)
    reminder_hours = models.PositiveSmallIntegerField(default=24)
    # Texts the business may send per local day; the rest wait for midnight (apps/outbox/policy.py).
    sms_daily_quota = models.PositiveIntegerField(default=settings.SMS_DAILY_QUOTA_DEFAULT)
    language = models.CharField(max_length=5, default="en", choices=[("en", "English"), ("es", "Español")])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="business_config_singleton"),
            models.CheckConstraint(
                condition=models.Q(ring_timeout__gte=5, ring_timeout__lte=120), name="ring_timeout_range"
            ),
            models.CheckConstraint(
                condition=models.Q(emergency_multiplier__isnull=True)
                | models.Q(emergency_multiplier__gte=1, emergency_multiplier__lte=5),
                name="emergency_multiplier_range",
            ),
        ]

    def __str__(self):
        return "Business settings"

    @property
    def holiday_calendar(self) -> dict | None:
        if not self.holiday_country:
            return None
        return {"country": self.holiday_country, "subdivision": self.holiday_subdivision or None}
