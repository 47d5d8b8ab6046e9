"""Tenant resolution for websockets (the HTTP middleware does not run for them).

Runs inside Channels' AuthMiddlewareStack: a session user is already in ``scope["user"]``;
otherwise a JWT from ``?token=`` is checked by ``settings.WEBSOCKET_TOKEN_USER`` (the accounts
app's, named there so that this package imports no app). The result is ``scope["tenant"]`` (a
Business or None) and ``scope["user"]``. Consumers decide what to do with an unauthenticated
scope (the dashboard accepts a first-message ``auth`` within a few seconds, then closes with 4401).
"""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework.exceptions import AuthenticationFailed


@database_sync_to_async
def _session_business(user):
    if not user.is_authenticated or user.business_id is None:
        return None
    business = user.business
    return business if business.status == business.Status.ACTIVE else None


@database_sync_to_async
def _token_user(raw: str):
    try:
        return import_string(settings.WEBSOCKET_TOKEN_USER)(raw)
    except AuthenticationFailed:
        return None


async def resolve_websocket_tenant(scope: dict, raw_token: str | None = None) -> tuple:
    """(user, business) for a websocket scope, from the session or from ``raw_token``."""
    if raw_token:
        user = await _token_user(raw_token)
        if user is None:
            return None, None
        return user, await _session_business(user)
    user = scope.get("user")
    if user is not None and user.is_authenticated:
        return user, await _session_business(user)
    return None, None


class WebsocketTenantMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode())
        token = (query.get("token") or [None])[0]
        user, tenant = await resolve_websocket_tenant(scope, token)
        scope = dict(scope, tenant=tenant, authenticated_user=user if tenant is not None else None)
        return await self.inner(scope, receive, send)
