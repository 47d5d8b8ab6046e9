"""Rate limits per client IP and per tenant, counted atomically in Redis by the ``limits`` library.

Every response to a limited path carries ``X-RateLimit-Limit/Remaining/Reset``; over the limit the
answer is 429 with ``Retry-After`` in seed 000's error envelope. If Redis is unreachable the limiter
fails open (and logs), so an outage of the counter never takes the API down with it.
"""

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from nevermisscall.clientip import request_client_ip
from nevermisscall.envelope import error_json_response
from nevermisscall.errors import ErrorCode

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
    storage = storage_from_string(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
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
    headers = {**result.headers(), "Retry-After": str(result.retry_after)}
    return error_json_response(
        request,
        429,
        ErrorCode.RATE_LIMIT_EXCEEDED,
        "Too many requests; slow down.",
        {"retry_after": result.retry_after},
        headers=headers,
    )


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
