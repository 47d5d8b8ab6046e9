"""Writes on phone numbers: buy at Twilio, then record it in the business's schema and in the
public registry in one transaction; release does the reverse. (services.py holds the call lifecycle.)"""

import logging

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.telephony.models import PhoneNumber
from apps.telephony.providers import twilio_numbers
from apps.telephony.registry.models import NumberRoute
from apps.telephony.registry.selectors import number_cache_clear
from nevermisscall import after_commit
from nevermisscall.errors import Conflict, PermissionDenied

logger = logging.getLogger(__name__)


def webhook_urls() -> dict:
    base = settings.PUBLIC_BASE_URL
    return {
        "voice_url": f"{base}/webhooks/twilio/call",
        "sms_url": f"{base}/webhooks/twilio/sms",
        "status_callback": f"{base}/api/callbot/call-status",
    }


def phone_number_provision(*, phone_number: str, friendly_name: str = "", details: dict | None = None) -> PhoneNumber:
    """Buy ``phone_number`` (E.164) with this deployment's webhook URLs and register it."""
    business = connection.tenant
    if NumberRoute.objects.filter(phone_number=phone_number).exists():
        raise Conflict("This number already belongs to a business.")
    urls = webhook_urls()
    bought = twilio_numbers.buy(phone_number=phone_number, friendly_name=friendly_name or business.name[:64], **urls)
    details = details or {}
    try:
        with transaction.atomic():
            number = PhoneNumber.objects.create(
                phone_number=phone_number,
                twilio_sid=bought["sid"],
                friendly_name=bought["friendly_name"] or friendly_name,
                capabilities=bought["capabilities"],
                locality=details.get("locality", ""),
                region=details.get("region", ""),
                is_primary=not PhoneNumber.objects.filter(status=PhoneNumber.Status.ACTIVE).exists(),
                **urls,
            )
            NumberRoute.objects.create(phone_number=phone_number, business=business, phone_number_id=number.id)
    except IntegrityError:
        logger.error("number %s bought but already registered; releasing it at Twilio", phone_number)
        twilio_numbers.release(sid=bought["sid"])
        raise Conflict("This number already belongs to a business.")
    number_cache_clear(phone_number)
    return number


@transaction.atomic
def phone_number_assign(*, phone_number: str, twilio_sid: str = "", friendly_name: str = "") -> PhoneNumber:
    """Register a number this business already has at Twilio (configured by hand, or a stand-in's)
    without buying it: the tenant's row and the public route, in one transaction."""
    business = connection.tenant
    route = NumberRoute.objects.select_for_update().filter(phone_number=phone_number).first()
    if route is not None and route.business_id != business.id:
        raise Conflict("This number already belongs to another business.")
    number, _ = PhoneNumber.objects.update_or_create(
        phone_number=phone_number,
        defaults={
            "twilio_sid": twilio_sid,
            "friendly_name": friendly_name or phone_number,
            "status": PhoneNumber.Status.ACTIVE,
            "released_at": None,
            "capabilities": {"voice": True, "sms": True, "mms": True},
            **webhook_urls(),
        },
    )
    if route is None:
        NumberRoute.objects.create(phone_number=phone_number, business=business, phone_number_id=number.id)
    after_commit.call(lambda: number_cache_clear(phone_number))
    return number


@transaction.atomic
def phone_number_update(*, number: PhoneNumber, data: dict) -> PhoneNumber:
    locked = PhoneNumber.objects.select_for_update().get(pk=number.pk)
    if "friendly_name" in data and data["friendly_name"] != locked.friendly_name:
        if locked.twilio_sid:
            twilio_numbers.update(sid=locked.twilio_sid, friendly_name=data["friendly_name"])
        locked.friendly_name = data["friendly_name"]
    if data.get("is_primary") and not locked.is_primary:
        PhoneNumber.objects.exclude(pk=locked.pk).update(is_primary=False)
        locked.is_primary = True
    locked.save()
    return locked


def phone_number_release(*, number: PhoneNumber) -> PhoneNumber:
    """Release at Twilio, then forget the route: webhooks for it stop reaching this business."""
    if number.status == PhoneNumber.Status.RELEASED:
        return number
    if number.twilio_sid:
        twilio_numbers.release(sid=number.twilio_sid)
    with transaction.atomic():
        PhoneNumber.objects.filter(pk=number.pk).update(
            status=PhoneNumber.Status.RELEASED, released_at=timezone.now(), is_primary=False
        )
        NumberRoute.objects.filter(phone_number=number.phone_number, business=connection.tenant).delete()
    number_cache_clear(number.phone_number)
    number.refresh_from_db()
    return number


SANDBOX_PREFIX = "+1500555"  # Twilio's test range; 0000–0099 hold Twilio's magic numbers and the demo's.
SANDBOX_FIRST, SANDBOX_LAST = 100, 9999


def sandbox_numbers_allowed() -> bool:
    return bool(settings.SANDBOX_NUMBERS) and not settings.IS_PRODUCTION


def is_sandbox_number(phone_number: str) -> bool:
    return phone_number.startswith(SANDBOX_PREFIX)


def phone_number_sandbox_assign() -> PhoneNumber:
    """Development only: give the current business a number of Twilio's test range, registered like
    a bought one (tenant row + public route) so the webhooks (and the README's curl demo) reach it.
    Nothing is bought; texts from it only work with the console backend or a Twilio stand-in."""
    if not sandbox_numbers_allowed():
        raise PermissionDenied("Sandbox numbers exist only in development.")
    existing = (
        PhoneNumber.objects.filter(status=PhoneNumber.Status.ACTIVE, phone_number__startswith=SANDBOX_PREFIX)
        .order_by("created_at")
        .first()
    )
    if existing is not None:
        return existing
    taken = set(
        NumberRoute.objects.filter(phone_number__startswith=SANDBOX_PREFIX).values_list("phone_number", flat=True)
    )
    for suffix in range(SANDBOX_FIRST, SANDBOX_LAST + 1):
        candidate = f"{SANDBOX_PREFIX}{suffix:04d}"
        if candidate in taken:
            continue
        try:
            number = phone_number_assign(phone_number=candidate, friendly_name=f"Sandbox {candidate}")
        except Conflict:  # Taken by a business registering at the same moment: try the next one.
            continue
        if not PhoneNumber.objects.exclude(pk=number.pk).filter(status=PhoneNumber.Status.ACTIVE).exists():
            PhoneNumber.objects.filter(pk=number.pk).update(is_primary=True)
            number.is_primary = True
        return number
    raise Conflict("Every sandbox number is taken.")
