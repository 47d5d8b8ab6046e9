"""JWTs bound to a business: claims ``sub``, ``tenant_id``, ``role``, ``permissions``, ``scope``."""

from django.conf import settings
from django.utils.crypto import salted_hmac
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

SCOPE_USER = "user"
SCOPE_ADMIN = "admin"
SCOPE_SERVICE = "service"


def _claims_for(user) -> dict:
    return {
        "tenant_id": str(user.business_id) if user.business_id else None,
        "role": user.role or ("platform_admin" if user.is_staff else ""),
        "permissions": user.permissions,
        "scope": SCOPE_USER if user.business_id else (SCOPE_ADMIN if user.is_staff else SCOPE_USER),
        "email": user.email,
        "pwv": password_version(user),
    }


def password_version(user) -> str:
    """Changes whenever the password does, so a password change revokes every token issued before."""
    return salted_hmac("jwt-password-version", user.password).hexdigest()[:16]


def token_pair_for(user) -> dict:
    refresh = RefreshToken.for_user(user)
    for name, value in _claims_for(user).items():
        refresh[name] = value
    access = refresh.access_token
    return {
        "access_token": str(access),
        "refresh_token": str(refresh),
        "token_type": "Bearer",
        "expires_in": int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()),
        "refresh_expires_in": int(settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds()),
    }


def decode_access_token(raw: str):
    """The validated access token, or None when it is forged, malformed or expired."""
    try:
        return AccessToken(raw)
    except TokenError:
        return None


def decode_refresh_token(raw: str) -> RefreshToken:
    """Raises TokenError (or ExpiredTokenError) for a bad token."""
    return RefreshToken(raw)
