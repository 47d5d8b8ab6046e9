"""Reads and writes of the current business's settings (the active schema's singleton row)."""

from django.db import transaction

from apps.tenants.config.models import BusinessConfig
from apps.tenants.selectors import business_cache_clear

SIMPLE_FIELDS = (
    "business_hours",
    "holiday_closures",
    "emergency_multiplier",
    "pricing_note",
    "referral_note",
    "trades",
    "job_estimates",
    "greeting_template",
    "auto_reply_template",
    "forwarding_number",
    "ring_timeout",
    "call_screening",
    "sms_cooldown_minutes",
    "reminder_hours",
    "sms_daily_quota",
    "language",
)
MERGED_FIELDS = ("service_area", "ai_settings")


def config_get() -> BusinessConfig:
    config, _ = BusinessConfig.objects.get_or_create(pk=1)
    return config


@transaction.atomic
def config_update(*, business, data: dict) -> BusinessConfig:
    """Apply validated ``data`` (see BusinessConfigSerializer); a partial ``business_hours`` changes only
    the weekdays it names and ``service_area`` / ``ai_settings`` are merged key by key."""
    config, _ = BusinessConfig.objects.select_for_update().get_or_create(pk=1)
    for name in SIMPLE_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name == "business_hours":
            value = {**config.business_hours, **value}
        setattr(config, name, value)
    for name in MERGED_FIELDS:
        if name in data:
            setattr(config, name, {**getattr(config, name), **data[name]})
    if "holiday_calendar" in data:
        calendar = data["holiday_calendar"] or {}
        config.holiday_country = calendar.get("country") or ""
        config.holiday_subdivision = calendar.get("subdivision") or ""
    config.save()
    if "timezone" in data and data["timezone"] != business.timezone:
        business.timezone = data["timezone"]
        business.save(update_fields=["timezone", "updated_at"])
        business_cache_clear(business)
    return config


@transaction.atomic
def config_reset(*, business) -> BusinessConfig:
    BusinessConfig.objects.filter(pk=1).delete()
    return BusinessConfig.objects.create(pk=1, trades=[business.trade])


def config_ensure_defaults(*, business) -> BusinessConfig:
    config, _ = BusinessConfig.objects.get_or_create(pk=1, defaults={"trades": [business.trade]})
    return config
