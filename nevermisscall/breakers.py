"""Circuit breakers around external providers, kept in one registry (pybreaker).

State lives in Redis, so every process (web, each Celery worker) sees and trips the same breaker,
and the unified circuit-breaker API can read it from any of them. If Redis is unreachable,
pybreaker falls back to a closed circuit rather than blocking the provider.
"""

import threading

import pybreaker
import redis
from django.conf import settings

_lock = threading.Lock()
_breakers: dict[tuple, pybreaker.CircuitBreaker] = {}
_redis_clients: dict[str, redis.Redis] = {}


def _redis() -> redis.Redis:
    url = settings.REDIS_URL
    client = _redis_clients.get(url)
    if client is None:
        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        _redis_clients[url] = client
    return client


def get_breaker(name: str, *, exclude=()) -> pybreaker.CircuitBreaker:
    """The breaker called ``name`` (created on first use). ``exclude``: errors that are not failures."""
    key = (name, settings.CIRCUIT_BREAKER_FAIL_MAX, settings.CIRCUIT_BREAKER_RESET_SECONDS)
    with _lock:
        breaker = _breakers.get(key)
        if breaker is None:
            storage = pybreaker.CircuitRedisStorage(pybreaker.STATE_CLOSED, _redis(), namespace=f"nmc:breaker:{name}")
            breaker = pybreaker.CircuitBreaker(
                fail_max=settings.CIRCUIT_BREAKER_FAIL_MAX,
                reset_timeout=settings.CIRCUIT_BREAKER_RESET_SECONDS,
                exclude=list(exclude),
                state_storage=storage,
                name=name,
            )
            _breakers[key] = breaker
        return breaker


def breaker_states() -> list[dict]:
    """Every known breaker's state, for health and the unified circuit-breaker API."""
    with _lock:
        latest = {key[0]: breaker for key, breaker in _breakers.items()}
    breakers = [latest[name] for name in sorted(latest)]
    return [
        {
            "name": breaker.name,
            "state": breaker.current_state,
            "failure_count": breaker.fail_counter,
            "failure_threshold": breaker.fail_max,
            "reset_timeout_seconds": breaker.reset_timeout,
        }
        for breaker in breakers
    ]
