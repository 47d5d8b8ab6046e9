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


# The business a platform staff member chose to administer (``BusinessAdmin``), in their session.
ADMIN_BUSINESS_SESSION_KEY = "nmc_admin_business_id"
ADMIN_PREFIX = "/admin/"


def from_staff_admin_choice(request):
    """The business staff chose on the public admin, for ``/admin/`` pages only.

    Listed after ``from_session_user``, which loads the session and its user: a person who is not
    (or no longer) platform staff, or a business that is not active, chooses nothing.
    """
    if not request.path.startswith(ADMIN_PREFIX):
        return None
    session = getattr(request, "session", None)
    user = getattr(request, "_cached_user", None)
    if session is None or user is None or ADMIN_BUSINESS_SESSION_KEY not in session:
        return None
    if not (user.is_active and user.is_staff and user.business_id is None):
        return None
    business = business_get_cached(business_id=session[ADMIN_BUSINESS_SESSION_KEY])
    if business is None or business.status != business.Status.ACTIVE:
        return None
    return business
