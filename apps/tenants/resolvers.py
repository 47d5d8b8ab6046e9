"""Tenant sources for the business's own credentials: API key, widget token, domain, service key."""

from apps.tenants.models import ApiCredential
from apps.tenants.selectors import business_get_by_domain, business_get_cached, credential_get_by_secret
from nevermisscall.service_auth import service_key_is_valid
from nevermisscall.tenancy.resolvers import UNRESOLVED

WIDGET_PREFIXES = ("/v1/widget/",)


def _from_credential(request, header: str, kind: str):
    secret = request.headers.get(header, "").strip()
    if not secret:
        return None
    credential = credential_get_by_secret(secret=secret, kind=kind)
    request.nmc_credential = credential
    if credential is None:
        return UNRESOLVED
    return credential.business


def from_api_key(request):
    return _from_credential(request, "X-API-Key", ApiCredential.Kind.API_KEY)


def from_widget_token(request):
    """``X-Widget-Token`` (public, embedded in the business's web page): widget endpoints only."""
    if not request.path.startswith(WIDGET_PREFIXES):
        return None
    return _from_credential(request, "X-Widget-Token", ApiCredential.Kind.WIDGET_TOKEN)


def from_domain(request):
    host = request.get_host().split(":", 1)[0].lower()
    return business_get_by_domain(domain=host)


def from_service_key(request):
    """``x-service-key`` with ``X-Business-ID``: an internal caller acting for the business it names.

    The service key is trusted platform-wide, so it may name any active business; the key alone
    names none. A wrong key resolves nothing (and its views refuse the request).
    """
    provided = request.headers.get("x-service-key")
    if not provided:
        return None
    if not service_key_is_valid(provided):
        return UNRESOLVED
    named = (request.headers.get("X-Business-ID") or "").strip()
    if not named:
        return None
    return business_get_cached(business_id=named) or UNRESOLVED
