"""DRF authentication: JWTs must belong to the business the request resolved to."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.models import Role, User
from apps.accounts.tokens import password_version


def validated_access_token(request, raw: str) -> AccessToken:
    cached = getattr(request, "nmc_access_token", None)
    if cached is not None and str(cached) == raw:
        return cached
    try:
        return AccessToken(raw)
    except ExpiredTokenError as exc:
        raise exceptions.AuthenticationFailed("The token has expired.", code="token_expired") from exc
    except TokenError as exc:
        raise exceptions.AuthenticationFailed("The token is not valid.", code="token_invalid") from exc


def user_for_token(request, token: AccessToken) -> User:
    """The token's active user, if the token is bound to the request's business (or to none)."""
    try:
        user = User.objects.get(pk=token.get("sub"), is_active=True)
    except (User.DoesNotExist, ValueError, DjangoValidationError) as exc:
        raise exceptions.AuthenticationFailed("The token's user is not active.", code="token_invalid") from exc
    if token.get("pwv") != password_version(user):
        raise exceptions.AuthenticationFailed("The token was revoked by a password change.", code="token_invalid")
    claimed = token.get("tenant_id") or None
    tenant = getattr(request, "tenant", None)
    resolved = str(tenant.id) if tenant is not None else None
    actual = str(user.business_id) if user.business_id else None
    if claimed != resolved or claimed != actual:
        raise exceptions.AuthenticationFailed("The token does not belong to this business.", code="token_invalid")
    return user


class TenantJWTAuthentication(JWTAuthentication):
    def authenticate(self, request):
        header = self.get_header(request)
        if header is None:
            return None
        raw = self.get_raw_token(header)
        if raw is None:
            return None
        token = validated_access_token(request, raw.decode())
        return user_for_token(request, token), token


class OwnerTokenAuthentication(BaseAuthentication):
    """``X-Owner-Token`` (seed 002): an owner's JWT in a header of its own."""

    def authenticate(self, request):
        raw = request.headers.get("X-Owner-Token", "").strip()
        if not raw:
            return None
        token = validated_access_token(request, raw)
        user = user_for_token(request, token)
        if user.role != Role.OWNER:
            raise exceptions.AuthenticationFailed("X-Owner-Token must be an owner's token.", code="token_invalid")
        return user, token

    def authenticate_header(self, request):
        return "Bearer"


class BusinessSessionAuthentication(SessionAuthentication):
    """Dashboard sessions (CSRF enforced). A session user of another business is refused."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, _ = result
        tenant = getattr(request, "tenant", None)
        if user.business_id is not None and (tenant is None or tenant.id != user.business_id):
            raise exceptions.AuthenticationFailed("The session does not belong to this business.")
        return result


def user_from_access_token(raw: str) -> User:
    """The active user of a valid access token bound to that user's business (websockets, widgets).

    Raises AuthenticationFailed like the HTTP path does.
    """
    try:
        token = AccessToken(raw)
    except ExpiredTokenError as exc:
        raise exceptions.AuthenticationFailed("The token has expired.", code="token_expired") from exc
    except TokenError as exc:
        raise exceptions.AuthenticationFailed("The token is not valid.", code="token_invalid") from exc
    user = User.objects.select_related("business").filter(pk=token.get("sub"), is_active=True).first()
    if user is None or token.get("pwv") != password_version(user):
        raise exceptions.AuthenticationFailed("The token's user is not active.", code="token_invalid")
    if (token.get("tenant_id") or None) != (str(user.business_id) if user.business_id else None):
        raise exceptions.AuthenticationFailed("The token does not belong to this business.", code="token_invalid")
    return user
