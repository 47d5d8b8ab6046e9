"""Cache-aside that keeps working when Redis does not: a cache failure falls back to the loader."""

import logging

from django.core.cache import caches

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
