"""One verdict per process on whether Redis answers, so a dead or hung Redis costs one timeout.

Redis is a cache, a rate-limit counter and the breakers' shared state here; PostgreSQL holds
everything that matters, and every Redis user already falls back when Redis fails. But with Redis
stopped (not refused) each webhook waited for its socket timeout, and 20 concurrent ones crossed
2 s (issue 11's fault run). ``GuardedConnection`` (the ``connection_class`` of those clients)
reports a failure here; until a background probe gets Redis's answer again, every command fails
at once with ``ConnectionError`` and its caller falls back to PostgreSQL at full speed.
"""

import logging
import os
import threading
import time

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

PROBE_EVERY_SECONDS = 0.5
PROBE_TIMEOUT_SECONDS = 0.5
_FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)


class _Verdict:
    def __init__(self):
        self.pid = os.getpid()
        self.down: dict[tuple[str, int], float] = {}  # (host, port) -> when it was found down
        self.lock = threading.Lock()

    def mark_down(self, host: str, port: int) -> None:
        with self.lock:
            if (host, port) in self.down:
                return
            self.down[(host, port)] = time.monotonic()
        logger.warning("Redis at %s:%s is not answering; serving without it until it does", host, port)
        threading.Thread(target=self._probe, args=(host, port), name="redis-probe", daemon=True).start()

    def _probe(self, host: str, port: int) -> None:
        client = redis.Redis(
            host=host, port=port, socket_timeout=PROBE_TIMEOUT_SECONDS, socket_connect_timeout=PROBE_TIMEOUT_SECONDS
        )
        while True:
            time.sleep(PROBE_EVERY_SECONDS)
            try:
                client.ping()
            except _FAILURES:
                continue
            with self.lock:
                since = self.down.pop((host, port), None)
            client.close()
            logger.warning("Redis at %s:%s answers again (after %.1f s)", host, port, time.monotonic() - (since or 0))
            return

    def is_down(self, host: str, port: int) -> bool:
        return (host, port) in self.down


_verdict = _Verdict()


def verdict() -> _Verdict:
    global _verdict
    if _verdict.pid != os.getpid():  # A forked child (Celery prefork) learns for itself.
        _verdict = _Verdict()
    return _verdict


def redis_is_down(host: str, port: int) -> bool:
    return verdict().is_down(host, port)


class GuardedConnection(redis.Connection):
    """A redis-py connection that fails fast while its server is known to be down, and says so
    when it finds out."""

    def _refuse_if_down(self) -> None:
        if verdict().is_down(self.host, self.port):
            raise RedisConnectionError(f"Redis at {self.host}:{self.port} is down (not retried until it answers)")

    def _failed(self) -> None:
        verdict().mark_down(self.host, self.port)

    def connect(self, *args, **kwargs):
        self._refuse_if_down()
        try:
            return super().connect(*args, **kwargs)
        except _FAILURES:
            self._failed()
            raise

    def send_packed_command(self, *args, **kwargs):
        self._refuse_if_down()
        try:
            return super().send_packed_command(*args, **kwargs)
        except _FAILURES:
            self._failed()
            raise

    def read_response(self, *args, **kwargs):
        try:
            return super().read_response(*args, **kwargs)
        except _FAILURES:
            self._failed()
            raise
