"""Tenant sources for ``TenantResolutionMiddleware``; see its docstring for the contract.

Adding a source (the Twilio ``To`` number, say) is one function here and one line in
``settings.TENANT_RESOLVERS``.
"""

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user
from django.utils.module_loading import import_string

from apps.accounts.tokens import decode_access_token
from apps.telephony.registry.selectors import business_get_by_number
from apps.tenants import selectors as business_selectors
from apps.tenants.models import ApiCredential

UNRESOLVED = object()


def _tenant_from_token(raw: str, request):
    token = decode_access_token(raw)
    request.nmc_access_token = token  # Authentication reuses it instead of decoding twice.
    if token is None:
        return UNRESOLVED
    tenant_id = token.get("tenant_id")
    if not tenant_id:
        return UNRESOLVED
    return business_selectors.business_get_cached(business_id=tenant_id) or UNRESOLVED


# Paths whose callers are Twilio (checked by signature in the view) or operators (x-service-key).
TWILIO_WEBHOOK_PREFIXES = ("/webhooks/twilio/", "/twilio/", "/api/callbot/")
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
        return business_selectors.business_get_cached(business_id=business_id) or UNRESOLVED
    if not is_webhook or request.method != "POST":
        return None
    called = request.POST.get("To", "")
    if not called:
        return None
    return business_get_by_number(phone_number=called) or UNRESOLVED


def from_bearer_jwt(request):
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme != "Bearer" or not raw.strip():
        return None
    return _tenant_from_token(raw.strip(), request)


def from_owner_token(request):
    raw = request.headers.get("X-Owner-Token", "").strip()
    if not raw:
        return None
    return _tenant_from_token(raw, request)


def _from_credential(request, header: str, kind: str):
    secret = request.headers.get(header, "").strip()
    if not secret:
        return None
    credential = business_selectors.credential_get_by_secret(secret=secret, kind=kind)
    request.nmc_credential = credential
    if credential is None:
        return UNRESOLVED
    return credential.business


def from_api_key(request):
    return _from_credential(request, "X-API-Key", ApiCredential.Kind.API_KEY)


WIDGET_PREFIXES = ("/v1/widget/",)


def from_widget_token(request):
    """``X-Widget-Token`` (public, embedded in the business's web page): widget endpoints only."""
    if not request.path.startswith(WIDGET_PREFIXES):
        return None
    return _from_credential(request, "X-Widget-Token", ApiCredential.Kind.WIDGET_TOKEN)


def from_session_user(request):
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        return None
    engine = import_string(settings.SESSION_ENGINE)
    request.session = engine.SessionStore(session_key)
    if SESSION_KEY not in request.session:
        return None
    user = get_user(request)  # Verifies the session's password hash, like AuthenticationMiddleware.
    request._cached_user = user
    if not user.is_authenticated or user.business_id is None:
        return None
    return business_selectors.business_get_cached(business_id=user.business_id) or UNRESOLVED


def from_domain(request):
    host = request.get_host().split(":", 1)[0].lower()
    return business_selectors.business_get_by_domain(domain=host)


def from_service_key(request):
    """``x-service-key`` with ``X-Business-ID``: an internal caller acting for the business it names.

    The service key is trusted platform-wide, so it may name any active business; the key alone
    names none. A wrong key resolves nothing (and its views refuse the request).
    """
    from nevermisscall.service_auth import service_key_is_valid

    provided = request.headers.get("x-service-key")
    if not provided:
        return None
    if not service_key_is_valid(provided):
        return UNRESOLVED
    named = (request.headers.get("X-Business-ID") or "").strip()
    if not named:
        return None
    return business_selectors.business_get_cached(business_id=named) or UNRESOLVED
