"""Tenant sources for people: their JWT (``Authorization`` or ``X-Owner-Token``) or their session."""

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user
from django.utils.module_loading import import_string

from apps.accounts.tokens import decode_access_token
from apps.tenants.selectors import business_get_cached
from nevermisscall.tenancy.resolvers import UNRESOLVED


def _tenant_from_token(raw: str, request):
    token = decode_access_token(raw)
    request.nmc_access_token = token  # Authentication reuses it instead of decoding twice.
    if token is None:
        return UNRESOLVED
    tenant_id = token.get("tenant_id")
    if not tenant_id:
        return UNRESOLVED
    return business_get_cached(business_id=tenant_id) or UNRESOLVED


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
    return business_get_cached(business_id=user.business_id) or UNRESOLVED
