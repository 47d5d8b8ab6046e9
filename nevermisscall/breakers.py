"""Circuit breakers around external providers (Twilio, OpenAI, geocoding, calendar, PoS).

pybreaker does the state machine; the state lives in Redis so every web and worker process sees
the same circuit (and ``/api/unified/circuit-breakers`` can report it). If Redis is unreachable
pybreaker falls back to a closed in-process circuit rather than blocking provider calls.
"""

import threading

import pybreaker
import redis
from django.conf import settings

from nevermisscall.demo_guard import DemoNotSent
from nevermisscall.redis_guard import GuardedConnection

_lock = threading.Lock()
_breakers: dict[str, pybreaker.CircuitBreaker] = {}


def _redis():
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5, connection_class=GuardedConnection
    )


def get_breaker(
    name: str, *, fail_max: int = 5, reset_timeout: float = 30, exclude: tuple = ()
) -> pybreaker.CircuitBreaker:
    """The process-wide breaker called ``name``; the first caller's thresholds win."""
    with _lock:
        breaker = _breakers.get(name)
        if breaker is None:
            storage = pybreaker.CircuitRedisStorage(
                pybreaker.STATE_CLOSED, _redis(), namespace=f"nmc:breaker:{name}", fallback_circuit_state="closed"
            )
            breaker = pybreaker.CircuitBreaker(
                fail_max=fail_max,
                reset_timeout=reset_timeout,
                exclude=[DemoNotSent, *exclude],  # A demo business's refusal is no failure of the provider.
                state_storage=storage,
                name=name,
            )
            _breakers[name] = breaker
        return breaker


def breaker_states() -> list[dict]:
    """Every registered breaker's state, for the health and unified-dashboard APIs."""
    states = []
    for name, breaker in sorted(_breakers.items()):
        states.append(
            {
                "name": name,
                "state": breaker.current_state,
                "failure_count": breaker.fail_counter,
                "failure_threshold": breaker.fail_max,
                "reset_timeout_seconds": breaker.reset_timeout,
            }
        )
    return states


_reader = None


def _reader_client():
    """One client (and its connection pool) per process for the readers below."""
    global _reader
    if _reader is None:
        _reader = _redis()
    return _reader


def stored_state(name: str) -> str:
    """The state of breaker ``name`` as stored in Redis ("closed" when unknown or unreachable), read
    without registering the breaker in this process (alert rules, system alerts)."""
    try:
        value = _reader_client().get(f"nmc:breaker:{name}:pybreaker:state")
    except redis.RedisError:
        return "closed"
    return value.decode() if value else "closed"


def stored_states() -> dict[str, str]:
    """Every breaker with a stored state, by name (a SCAN over the breakers' namespace)."""
    try:
        client = _reader_client()
        keys = list(client.scan_iter(match="nmc:breaker:*:pybreaker:state", count=100))
        values = client.mget(keys) if keys else []
    except redis.RedisError:
        return {}
    return {
        key.decode().split(":")[2]: (value.decode() if value else "closed")
        for key, value in zip(keys, values, strict=True)
    }
