"""Cache-aside that keeps working when Redis does not: a cache failure falls back to the loader.

Also the Redis connection pool the caches share (``SharedConnectionPool``) and the cache backend
that reuses one client object per pool (``RedisCache``).
"""

import logging
import threading

import redis
from django.core.cache import caches
from django.core.cache.backends import redis as django_redis

logger = logging.getLogger(__name__)

_MISSING = object()


def cached(key: str, ttl: int, loader, alias: str = "default"):
    """Return the cached value for ``key`` or ``loader()``'s, stored for ``ttl`` seconds.

    In the ``default`` cache keys carry the current tenant schema (``django_tenants.cache.make_key``);
    the ``platform`` cache holds entries shared by all schemas.
    """
    cache = caches[alias]
    try:
        value = cache.get(key, _MISSING)
    except Exception:  # Redis down: serve from the database, never fail the request.
        logger.warning("cache unavailable reading %s", key, exc_info=False)
        return loader()
    if value is not _MISSING:
        return value
    value = loader()
    try:
        cache.set(key, value, ttl)
    except Exception:
        logger.warning("cache unavailable writing %s", key, exc_info=False)
    return value


def invalidate(*keys: str, alias: str = "default") -> None:
    try:
        caches[alias].delete_many(keys)
    except Exception:
        logger.warning("cache unavailable deleting %s", keys, exc_info=False)


class SharedConnectionPool(redis.ConnectionPool):
    """One Redis connection pool per process and URL, shared by every cache instance.

    Django keeps cache instances per async context, and under ASGI each request has its own
    context, so with redis-py's default each request built a cache, a pool and a new TCP connection
    to Redis (plus redis-py's per-connection driver-version lookup): ~1 ms of a webhook's time here.
    Set as ``OPTIONS["pool_class"]`` of the Redis caches. redis-py pools are thread-safe and reset
    themselves in a forked child (Celery's prefork workers).
    """

    _shared: dict = {}
    _lock = threading.Lock()

    @classmethod
    def from_url(cls, url, **kwargs):
        key = (url, tuple(sorted((name, repr(value)) for name, value in kwargs.items())))
        with cls._lock:
            pool = cls._shared.get(key)
            if pool is None:
                pool = cls._shared[key] = super().from_url(url, **kwargs)
            return pool


class _SharedClientCacheClient(django_redis.RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = getattr(pool, "shared_client", None)
        if client is None:  # A race here builds a second client; either one serves.
            client = pool.shared_client = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    """Django's Redis cache, but with one ``redis.Redis`` client per connection pool.

    Django builds a client object for every cache call, and redis-py's constructor (its response
    callbacks, its retry policy) cost ~5 % of a status webhook's CPU under load (py-spy). Clients
    are thread-safe and hold no connection of their own: each command borrows one from the pool.
    """

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _SharedClientCacheClient
