"""The twilio SDK's REST client, pointed at ``TWILIO_API_BASE_URL``.

Twilio's SDK always builds ``https://<product>.twilio.com/...`` URLs. ``RedirectingHttpClient``
rewrites their scheme and host to the configured base URL (a staging server or the loopback stand-in
used by the tests), so every request still goes through the SDK's own serialisation and parsing.
"""

import threading
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from nevermisscall import demo_guard
from nevermisscall.errors import ExternalServiceUnavailable

TWILIO_DEFAULT_BASE = "https://api.twilio.com"

_local = threading.local()


class RedirectingHttpClient(TwilioHttpClient):
    def __init__(self, base_url: str, timeout: float):
        super().__init__(pool_connections=True, timeout=timeout)
        parts = urlsplit(base_url)
        self.scheme, self.netloc, self.prefix = parts.scheme, parts.netloc, parts.path.rstrip("/")

    def rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        if not parts.hostname or not parts.hostname.endswith("twilio.com"):
            return url
        return urlunsplit((self.scheme, self.netloc, self.prefix + parts.path, parts.query, parts.fragment))

    def request(self, method, url, *args, **kwargs):
        return super().request(method, self.rewrite(url), *args, **kwargs)


def twilio_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN)


def twilio_client() -> Client:
    """A REST client per thread (requests sessions are not shared across threads), per configuration.
    Never for a demo business (nevermisscall/demo_guard.py)."""
    demo_guard.ensure_not_demo("Twilio")
    if not twilio_configured():
        raise ExternalServiceUnavailable("Twilio is not configured (TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN).")
    key = (
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        settings.TWILIO_API_BASE_URL,
        settings.TWILIO_HTTP_TIMEOUT,
    )
    client = getattr(_local, "clients", {}).get(key)
    if client is None:
        if settings.TWILIO_API_BASE_URL != TWILIO_DEFAULT_BASE:
            http_client = RedirectingHttpClient(settings.TWILIO_API_BASE_URL, settings.TWILIO_HTTP_TIMEOUT)
        else:
            http_client = TwilioHttpClient(timeout=settings.TWILIO_HTTP_TIMEOUT)
        client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)
        _local.clients = {**getattr(_local, "clients", {}), key: client}
    return client
