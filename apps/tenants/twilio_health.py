"""Twilio webhook health per business (``GET /v1/admin/twilio/health``).

Two sources: the webhook outcomes counted by minute in Redis (nevermisscall/webhook_stats.py), and
Twilio itself: each number's IncomingPhoneNumber resource, fetched through the twilio SDK, must
send its voice and SMS webhooks to this deployment (``PUBLIC_BASE_URL``). A page of businesses'
numbers is read in one statement (one ``SELECT`` per schema, UNION ALL).
"""

from django.conf import settings
from django.db import connection
from twilio.base.exceptions import TwilioRestException

from apps.telephony.models import PhoneNumber
from apps.telephony.phone_numbers import webhook_urls
from nevermisscall import webhook_stats
from nevermisscall.twilio_rest import twilio_client, twilio_configured


def _numbers(businesses) -> dict[str, list[dict]]:
    if not businesses:
        return {}
    table = PhoneNumber._meta.db_table
    parts, params = [], []
    for business in businesses:
        parts.append(
            f'SELECT %s::text, phone_number, twilio_sid FROM "{business.schema_name}"."{table}" WHERE status = %s'  # noqa: S608
        )
        params.extend([str(business.pk), PhoneNumber.Status.ACTIVE])
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    found: dict[str, list[dict]] = {}
    for business_id, number, sid in rows:
        found.setdefault(business_id, []).append({"phone_number": number, "twilio_sid": sid or ""})
    return found


def _check_number(client, number: dict, expected: dict) -> dict:
    if not number["twilio_sid"]:
        return {**number, "checked": False, "points_here": None, "problem": "no Twilio SID recorded"}
    try:
        resource = client.incoming_phone_numbers(number["twilio_sid"]).fetch()
    except TwilioRestException as exc:
        return {**number, "checked": True, "points_here": False, "problem": f"Twilio answered {exc.status}: {exc.msg}"}
    except Exception as exc:  # Unreachable: say so rather than fail the whole report.
        return {**number, "checked": False, "points_here": None, "problem": f"Twilio unreachable: {type(exc).__name__}"}
    voice_ok = (resource.voice_url or "").startswith(expected["voice_url"])
    sms_ok = (resource.sms_url or "").startswith(expected["sms_url"])
    return {
        **number,
        "checked": True,
        "points_here": voice_ok and sms_ok,
        "voice_url": resource.voice_url,
        "sms_url": resource.sms_url,
        "problem": "" if voice_ok and sms_ok else "webhooks point elsewhere",
    }


def _number_report(client, business, number: dict, expected: dict) -> dict:
    if business.is_demo:  # Its numbers are the 555 range, never bought: nothing to ask Twilio.
        return {**number, "checked": False, "points_here": None, "problem": "demo business: not looked up at Twilio"}
    if client is None:
        return {**number, "checked": False}
    return _check_number(client, number, expected)


def twilio_health(*, businesses: list, minutes: int, check_numbers: bool) -> dict:
    counts = webhook_stats.read(minutes)
    numbers = _numbers(businesses)
    expected = webhook_urls()
    client = twilio_client() if check_numbers and twilio_configured() else None
    items = []
    for business in businesses:
        key = str(business.pk)
        tally = counts.get(key, {"ok": 0, "signature": 0, "client": 0, "error": 0})
        total = sum(tally.values())
        checked = [_number_report(client, business, number, expected) for number in numbers.get(key, [])]
        items.append(
            {
                "business_id": key,
                "business_name": business.name,
                "webhooks": total,
                "outcomes": tally,
                "error_rate": round(tally["error"] / total, 4) if total else 0.0,
                "signature_failures": tally["signature"],
                "numbers": checked,
                "numbers_ok": all(n.get("points_here") for n in checked)
                if client is not None and checked and not business.is_demo
                else None,
            }
        )
    unknown = counts.get("unknown", {})
    return {
        "minutes": minutes,
        "public_base_url": settings.PUBLIC_BASE_URL,
        "twilio_checked": client is not None,
        "unattributed": {"webhooks": sum(unknown.values()), "signature_failures": unknown.get("signature", 0)},
        "items": items,
    }
