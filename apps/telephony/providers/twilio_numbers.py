"""Phone-number provisioning at Twilio (AvailablePhoneNumbers, IncomingPhoneNumbers) via the SDK."""

import pybreaker
import requests
from django.conf import settings
from twilio.base.exceptions import TwilioRestException

from nevermisscall.breakers import get_breaker
from nevermisscall.errors import BusinessRuleViolation, ExternalServiceUnavailable
from nevermisscall.twilio_rest import twilio_client


def _call(operation):
    breaker = get_breaker(
        "twilio-numbers",
        fail_max=settings.CIRCUIT_BREAKER_FAIL_MAX,
        reset_timeout=settings.CIRCUIT_BREAKER_RESET_SECONDS,
        exclude=(lambda exc: isinstance(exc, TwilioRestException) and exc.status < 500,),
    )
    try:
        return breaker.call(operation)
    except TwilioRestException as exc:
        if exc.status >= 500 or exc.status == 429:
            raise ExternalServiceUnavailable(f"Twilio answered {exc.status}.")
        raise BusinessRuleViolation(f"Twilio refused: {exc.msg}")
    except (requests.ConnectionError, requests.Timeout):
        raise ExternalServiceUnavailable("Twilio is unreachable.")
    except pybreaker.CircuitBreakerError:
        raise ExternalServiceUnavailable("Twilio is failing; retry in a little while.")


def _capabilities(raw) -> dict:
    raw = raw or {}
    return {
        "voice": bool(raw.get("voice")),
        "sms": bool(raw.get("sms") or raw.get("SMS")),
        "mms": bool(raw.get("mms") or raw.get("MMS")),
    }


def search_available(*, country: str, area_code: int | None, contains: str, flags: dict, limit: int) -> list[dict]:
    def operation():
        kwargs = {"limit": limit, **{key: value for key, value in flags.items() if value is not None}}
        if area_code:
            kwargs["area_code"] = area_code
        if contains:
            kwargs["contains"] = contains
        return twilio_client().available_phone_numbers(country).local.list(**kwargs)

    return [
        {
            "phone_number": number.phone_number,
            "friendly_name": number.friendly_name,
            "locality": number.locality,
            "region": number.region,
            "postal_code": number.postal_code,
            "iso_country": number.iso_country,
            "capabilities": _capabilities(number.capabilities),
        }
        for number in _call(operation)
    ]


def buy(*, phone_number: str, friendly_name: str, voice_url: str, sms_url: str, status_callback: str) -> dict:
    def operation():
        return twilio_client().incoming_phone_numbers.create(
            phone_number=phone_number,
            friendly_name=friendly_name,
            voice_url=voice_url,
            voice_method="POST",
            sms_url=sms_url,
            sms_method="POST",
            status_callback=status_callback,
            status_callback_method="POST",
        )

    number = _call(operation)
    return {
        "sid": number.sid,
        "friendly_name": number.friendly_name,
        "capabilities": _capabilities(number.capabilities),
    }


def update(*, sid: str, friendly_name: str) -> None:
    _call(lambda: twilio_client().incoming_phone_numbers(sid).update(friendly_name=friendly_name))


def release(*, sid: str) -> None:
    _call(lambda: twilio_client().incoming_phone_numbers(sid).delete())
