"""The tenant source for Twilio's webhooks: the business in the URL, or the one owning the called number."""

from apps.telephony.registry.selectors import business_get_by_number
from apps.tenants.selectors import business_get_cached
from nevermisscall.tenancy.resolvers import TWILIO_WEBHOOK_PREFIXES, UNRESOLVED

# Operators' paths (guarded by x-service-key) that may name the business with ``?business_id=``.
SERVICE_PREFIXES = ("/internal/calls/",)


def from_twilio_webhook(request):
    """Twilio webhooks: ``?business_id=`` if the URL carries it, else the called number (``To``).

    Only on webhook paths (and ``/internal/calls/`` with ``?business_id=``), so a form field can
    never select a tenant anywhere else. The view still refuses unsigned requests with 403.
    """
    path = request.path
    is_webhook = path.startswith(TWILIO_WEBHOOK_PREFIXES)
    if not is_webhook and not path.startswith(SERVICE_PREFIXES):
        return None
    business_id = request.GET.get("business_id")
    if business_id:
        return business_get_cached(business_id=business_id) or UNRESOLVED
    if not is_webhook or request.method != "POST":
        return None
    called = request.POST.get("To", "")
    if not called:
        return None
    return business_get_by_number(phone_number=called) or UNRESOLVED
