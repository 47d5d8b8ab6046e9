"""Twilio webhook outcomes per business, counted in Redis by the minute (admin ``twilio/health``).

``record`` runs once per webhook response (one pipelined ``HINCRBY`` + ``EXPIRE``, no SQL, never
raising); ``read`` sums the last minutes. Fields are ``<business id or "unknown">:<outcome>`` where
the outcome is ``ok``, ``signature`` (403: the signature check failed), ``client`` (other 4xx) or
``error`` (5xx). Buckets expire after two hours.
"""

import logging
import time

from django.core.cache import caches

logger = logging.getLogger(__name__)

KEY = "twilio:webhooks:{minute}"
TTL_SECONDS = 2 * 3600


def _client():
    return caches["platform"]._cache.get_client(write=True)


def outcome_of(status_code: int) -> str:
    if status_code == 403:
        return "signature"
    if status_code >= 500:
        return "error"
    if status_code >= 400:
        return "client"
    return "ok"


def record(business_id, status_code: int) -> None:
    key = KEY.format(minute=int(time.time() // 60))
    try:
        pipe = _client().pipeline(transaction=False)
        pipe.hincrby(key, f"{business_id or 'unknown'}:{outcome_of(status_code)}", 1)
        pipe.expire(key, TTL_SECONDS)
        pipe.execute()
    except Exception:  # Counting must never fail a webhook.
        logger.warning("could not count a webhook outcome", exc_info=False)


def read(minutes: int = 60) -> dict[str, dict[str, int]]:
    """``{business id or "unknown": {"ok": n, "signature": n, "client": n, "error": n}}``."""
    now = int(time.time() // 60)
    keys = [KEY.format(minute=minute) for minute in range(now - minutes + 1, now + 1)]
    pipe = _client().pipeline(transaction=False)
    for key in keys:
        pipe.hgetall(key)
    totals: dict[str, dict[str, int]] = {}
    for bucket in pipe.execute():
        for field, count in bucket.items():
            business, outcome = (field.decode() if isinstance(field, bytes) else field).rsplit(":", 1)
            counts = totals.setdefault(business, {"ok": 0, "signature": 0, "client": 0, "error": 0})
            counts[outcome] = counts.get(outcome, 0) + int(count)
    return totals
