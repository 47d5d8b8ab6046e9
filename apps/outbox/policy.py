"""The sending policy every SMS passes, whoever queued it, checked again at send time:

- never to a number that opted out of the business (STOP), even if it opted out after queueing —
  except the one confirmation of an opt-out the customer wrote in their own words;
- never after ``expires_at`` (a reminder that arrives after the appointment is worse than none);
- marketing needs a stored, unrevoked consent and waits for 08:00–21:00 in the recipient's local
  time (the area code's time zone, else the business's); transactional texts go at once;
- at most ``sms_daily_quota`` texts per business per local day: the rest are held until the next
  local midnight, and the dashboard is told once a day, never silently dropped. Texts to the
  business itself (owner alerts) are exempt.

Times are computed in zoneinfo, so the quiet-hours boundary is right across DST changes.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from phonenumbers import timezone as phone_timezones

from apps.outbox.hooks import hooks
from apps.outbox.models import Channel, Delivery, SmsConsent
from apps.tenants.config.models import BusinessConfig
from nevermisscall.events import publish_event

logger = logging.getLogger(__name__)

QUIET_ENDS, QUIET_STARTS = time(8, 0), time(21, 0)
# Texts to the business's own people: never held by its quota (an emergency alert must go).
QUOTA_EXEMPT_PURPOSES = frozenset({"owner_alert"})
# The one text an opted-out number may still get: the confirmation of an opt-out made in the
# customer's own words (carrier keywords are confirmed by the carrier). Queued by conversations.
OPT_OUT_CONFIRMATION = "opt_out_confirmation"


@dataclass(frozen=True)
class Decision:
    action: str  # send, hold, cancel, fail
    reason: str = ""
    until: datetime | None = None
    hold: str = ""


SEND = Decision("send")


def recipient_timezone(phone_number: str, fallback: str) -> ZoneInfo:
    """The time zone of the number's area code when it names exactly one, else ``fallback``."""
    try:
        zones = phone_timezones.time_zones_for_number(phonenumbers.parse(phone_number, None))
    except phonenumbers.NumberParseException:
        zones = ()
    zones = [zone for zone in zones if zone != phone_timezones.UNKNOWN_TIMEZONE]
    return ZoneInfo(zones[0] if len(zones) == 1 else fallback)


def quiet_hours_end(*, now: datetime, zone: ZoneInfo) -> datetime | None:
    """When promotional texts may next go out to someone in ``zone``; None if they may now."""
    local = now.astimezone(zone)
    if QUIET_ENDS <= local.time() < QUIET_STARTS:
        return None
    day = local.date() if local.time() < QUIET_ENDS else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_ENDS, tzinfo=zone)


def next_local_midnight(*, now: datetime, zone: ZoneInfo) -> datetime:
    return datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time(0), tzinfo=zone)


def local_midnight(*, now: datetime, zone: ZoneInfo) -> datetime:
    return datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)


def has_marketing_consent(*, business_id, phone_number: str) -> bool:
    return SmsConsent.objects.filter(
        business_id=business_id, phone_number=phone_number, revoked_at__isnull=True
    ).exists()


@dataclass(frozen=True)
class SendState:
    opted_out: bool
    quota: int
    sent_today: int


def sms_send_state_columns(*, business, recipient, now: datetime) -> list[tuple[str, list]]:
    """The three values of a ``SendState`` (quota, texts sent since the business's local midnight,
    opted out) as SQL expressions with their parameters, compiled by Django; ``recipient``: the
    number, or an SQL expression (``RawSQL``) over a row the caller's statement reads."""
    zone = ZoneInfo(business.timezone)
    sent = Delivery.objects.filter(
        business=business, channel=Channel.SMS, sent_at__gte=local_midnight(now=now, zone=zone)
    ).values("id")
    quota = BusinessConfig.objects.filter(pk=1).values("sms_daily_quota")
    opt_out = hooks.opt_out_rows(recipient)
    quota_sql, quota_params = quota.query.sql_with_params()
    sent_sql, sent_params = sent.query.sql_with_params()
    opt_out_sql, opt_out_params = (
        ("SELECT 1 WHERE FALSE", ()) if opt_out is None else opt_out.values("pk")[:1].query.sql_with_params()
    )
    return [
        (f"({quota_sql})", list(quota_params)),
        (f"(SELECT count(*) FROM ({sent_sql}) AS sent)", list(sent_params)),  # noqa: S608 - compiled by Django
        (f"EXISTS({opt_out_sql})", list(opt_out_params)),
    ]


def send_state_of_row(configured, count, opted_out) -> SendState:
    return SendState(opted_out=bool(opted_out), quota=configured or settings.SMS_DAILY_QUOTA_DEFAULT, sent_today=count)


def sms_send_state(*, business, recipient: str, now: datetime) -> SendState:
    """Whether ``recipient`` opted out, the business's daily quota and how many texts it sent since
    its local midnight: one round trip, because it runs before every text (none when the claim read
    them with the row, ``services.delivery_claim``)."""
    columns = sms_send_state_columns(business=business, recipient=recipient, now=now)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join(sql for sql, _ in columns), [param for _, params in columns for param in params]
        )
        return send_state_of_row(*cursor.fetchone())


def _warn_quota_reached(*, business, quota: int, now: datetime) -> None:
    """One dashboard alert per business and local day (the cache key carries the schema)."""
    day = now.astimezone(ZoneInfo(business.timezone)).date().isoformat()
    if cache.add(f"outbox:quota-warned:{day}", True, timeout=26 * 3600):
        logger.warning("business %s reached its daily SMS quota (%d); texts are held", business.id, quota)
        publish_event(
            "system_alert",
            {
                "alert_type": "sms_quota_reached",
                "severity": "warning",
                "message": f"Daily SMS limit of {quota} reached: further texts wait until midnight.",
                "quota": quota,
            },
            source_service="outbox",
        )


def sms_decide(delivery: Delivery, *, now: datetime) -> Decision:
    """Run in the recipient's business's schema, with the row claimed (and its send state, when the
    claim read it: ``delivery.send_state``)."""
    business = delivery.business
    state = getattr(delivery, "send_state", None)
    if business is not None and state is None:
        state = sms_send_state(business=business, recipient=delivery.recipient, now=now)
    opted_out = state.opted_out if state is not None else hooks.is_opted_out(delivery.recipient)
    if opted_out and delivery.purpose != OPT_OUT_CONFIRMATION:
        return Decision("cancel", "The recipient replied STOP.")
    if delivery.expires_at is not None and now >= delivery.expires_at:
        return Decision("fail", "Expired before it could be sent.")
    business_zone = business.timezone if business else settings.TIME_ZONE
    if delivery.kind == Delivery.Kind.MARKETING:
        if not has_marketing_consent(business_id=delivery.business_id, phone_number=delivery.recipient):
            return Decision("fail", "No marketing consent is recorded for this number.")
        until = quiet_hours_end(now=now, zone=recipient_timezone(delivery.recipient, business_zone))
        if until is not None:
            return Decision("hold", "Quiet hours at the recipient's location.", until, Delivery.Hold.QUIET_HOURS)
    if state is not None and delivery.purpose not in QUOTA_EXEMPT_PURPOSES and state.sent_today >= state.quota:
        _warn_quota_reached(business=business, quota=state.quota, now=now)
        until = next_local_midnight(now=now, zone=ZoneInfo(business.timezone))
        return Decision("hold", f"Daily SMS quota of {state.quota} reached.", until, Delivery.Hold.QUOTA)
    return SEND


def sms_validity_seconds(delivery: Delivery, *, now: datetime) -> int:
    """Twilio's ValidityPeriod: the carrier drops the text rather than deliver it later than this."""
    seconds = settings.SMS_VALIDITY_SECONDS.get(delivery.purpose) or settings.SMS_VALIDITY_SECONDS[delivery.kind]
    if delivery.expires_at is not None:
        seconds = min(seconds, int((delivery.expires_at - now).total_seconds()))
    return max(1, min(seconds, 36000))  # Twilio accepts 1–36,000 s.
