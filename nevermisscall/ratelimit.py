"""Rate limits per client IP and per tenant, counted atomically in Redis by the ``limits`` library.

Every response to a limited path carries ``X-RateLimit-Limit/Remaining/Reset``; over the limit the
answer is 429 with ``Retry-After`` in the error shape of the path's family (``nevermisscall.refusals``).
If Redis is unreachable the limiter fails open (and logs), so an outage of the counter never takes
the API down with it.
"""

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache, wraps

from django.conf import settings
from django.shortcuts import render
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from rest_framework.exceptions import Throttled

from nevermisscall.clientip import request_client_ip
from nevermisscall.redis_guard import GuardedConnection
from nevermisscall.refusals import refusal_response

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_at - time.time()))

    def headers(self) -> dict:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.remaining)),
            "X-RateLimit-Reset": str(int(self.reset_at)),
        }


@lru_cache(maxsize=4)
def _limiter(redis_url: str) -> FixedWindowRateLimiter:
    storage = storage_from_string(
        redis_url, socket_timeout=0.5, socket_connect_timeout=0.5, connection_class=GuardedConnection
    )
    return FixedWindowRateLimiter(storage)


def hit(rate: str, *identifiers: str) -> RateLimitResult | None:
    """Count one request against ``rate`` (e.g. ``"10/minute"``) for ``identifiers``.

    Returns None when the counter store is unreachable (fail open).
    """
    item = parse(rate)
    try:
        limiter = _limiter(settings.REDIS_URL)
        allowed = limiter.hit(item, *identifiers)
        stats = limiter.get_window_stats(item, *identifiers)
    except Exception:
        logger.warning("rate limiter unavailable; allowing the request", exc_info=False)
        return None
    return RateLimitResult(allowed=allowed, limit=item.amount, remaining=stats.remaining, reset_at=stats.reset_time)


def too_many_requests(request, result: RateLimitResult):
    return refusal_response(request, Throttled(wait=result.retry_after), headers=result.headers())


def auth_attempt(request, account: str) -> RateLimitResult | None:
    """Count one attempt at an authentication path against the client's address and the account.

    Every way to log in (the API, the dashboard form, the admin) and to ask for a password reset
    shares the same two ``RATE_LIMIT_LOGIN`` buckets, so ten guesses a minute is ten in all, not ten
    per form; the account's bucket holds whichever addresses the guesses come from. Returns the
    refusal when a bucket is over its limit, else None.
    """
    for scope, identifier in (("login-ip", request_client_ip(request)), ("login-email", account.strip().lower())):
        if not identifier:
            continue
        result = hit(settings.RATE_LIMIT_LOGIN, scope, identifier)
        if result is not None and not result.allowed:
            return result
    return None


def auth_throttled(account_field: str):
    """Decorate a form view that checks a password or sends a reset link: a POST over the limit
    gets a 429 page with ``Retry-After`` instead of the view. ``account_field`` names the POST field
    holding the account (``username`` for log-in forms, ``email`` for the reset form)."""

    def decorator(view):
        @wraps(view)
        def throttled_view(request, *args, **kwargs):
            if request.method == "POST":
                refused = auth_attempt(request, request.POST.get(account_field, ""))
                if refused is not None:
                    response = render(
                        request,
                        "registration/throttled.html",
                        {"retry_after": refused.retry_after, "back": request.get_full_path()},
                        status=429,
                    )
                    for name, value in {**refused.headers(), "Retry-After": str(refused.retry_after)}.items():
                        response[name] = value
                    return response
            return view(request, *args, **kwargs)

        return throttled_view

    return decorator


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.RATE_LIMIT_ENABLED or request.path.startswith(settings.RATE_LIMIT_EXEMPT_PREFIXES):
            return self.get_response(request)
        results = [hit(settings.RATE_LIMIT_PER_IP, "ip", request_client_ip(request))]
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            results.append(hit(settings.RATE_LIMIT_PER_TENANT, "tenant", str(tenant.id)))
        results = [result for result in results if result is not None]
        refused = [result for result in results if not result.allowed]
        if refused:
            return too_many_requests(request, max(refused, key=lambda r: r.reset_at))
        response = self.get_response(request)
        if results:
            tightest = min(results, key=lambda r: r.remaining / r.limit)
            for name, value in tightest.headers().items():
                response[name] = value
        return response
