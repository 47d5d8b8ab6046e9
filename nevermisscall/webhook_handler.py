"""Twilio's webhooks served by a Django handler with a short middleware list.

Every middleware runs on every request (ARCHITECTURE.md section 5 measured −18 to −28 % for a
longer list). Twilio's callbacks carry no session, cookie, CSRF token or language preference, so
sessions, auth, CSRF, messages, locale, clickjacking and htmx are dead weight on the hottest path
of the product. ``PathRouter`` sends ``/webhooks/twilio/``, ``/twilio/`` and ``/api/callbot/`` to
a handler built from ``settings.TWILIO_WEBHOOK_MIDDLEWARE`` and everything else to the normal one.

The chain is built synchronously (as under WSGI) and entered with one ``sync_to_async``: Django's
async chain with sync middleware hops event loop → thread → loop → thread around the view
(``async_to_sync(_get_response_async)`` inside, then ``sync_to_async(view)``); these views and
middleware are all synchronous, so one hop is enough.
"""

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

from nevermisscall.tenancy.resolvers import TWILIO_WEBHOOK_PREFIXES


class TwilioWebhookHandler(ASGIHandler):
    def load_middleware(self, is_async=False):
        # BaseHandler reads settings.MIDDLEWARE; swap it while this handler builds its chain
        # (once, at start-up, before any request is served).
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.TWILIO_WEBHOOK_MIDDLEWARE
        try:
            super().load_middleware(is_async=False)
        finally:
            settings.MIDDLEWARE = full
        if is_async:
            self._middleware_chain = sync_to_async(self._middleware_chain, thread_sensitive=True)


class PathRouter:
    """HTTP: Twilio webhook paths to ``webhooks``, the rest to ``default``."""

    def __init__(self, *, webhooks, default):
        self.webhooks, self.default = webhooks, default

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith(TWILIO_WEBHOOK_PREFIXES):
            return await self.webhooks(scope, receive, send)
        return await self.default(scope, receive, send)
