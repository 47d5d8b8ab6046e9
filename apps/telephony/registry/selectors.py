"""Number → business, cached in the platform cache (the mapping changes only on provision/release)."""

from apps.telephony.registry.models import NumberRoute
from apps.tenants.models import Business
from nevermisscall.cache import cached, invalidate
from nevermisscall.phone import InvalidPhoneNumber, to_e164

NUMBER_CACHE_SECONDS = 60
_NONE = "none"


def number_cache_key(phone_number: str) -> str:
    return f"twilio-number:{phone_number}"


def business_get_by_number(*, phone_number: str) -> Business | None:
    """The active-or-not business that owns ``phone_number`` (any format), or None."""
    try:
        number = to_e164(phone_number)
    except InvalidPhoneNumber:
        return None

    def load():
        route = NumberRoute.objects.select_related("business").filter(phone_number=number).first()
        if route is None or route.business.schema_name == "public":
            return _NONE
        return route.business

    value = cached(number_cache_key(number), NUMBER_CACHE_SECONDS, load, "platform")
    return None if value == _NONE else value


def number_cache_clear(phone_number: str) -> None:
    invalidate(number_cache_key(phone_number), alias="platform")
