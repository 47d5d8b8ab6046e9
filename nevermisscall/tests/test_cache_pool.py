"""The Redis caches share one connection pool per process, whatever the thread or async context."""

import threading

from django.core.cache import caches


def _pool(alias: str):
    return caches[alias]._cache._get_connection_pool(write=True)


def test_cache_instances_of_other_threads_share_one_redis_pool():
    pools = []

    def request():  # Under ASGI every request runs in a new thread with its own cache instances.
        caches["platform"].set("pool-check", 1, 5)
        pools.append((_pool("default"), _pool("platform"), caches["platform"]))

    threads = [threading.Thread(target=request) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(cache) for _, _, cache in pools}) == 3  # Three cache instances …
    assert len({id(pool) for default, platform, _ in pools for pool in (default, platform)}) == 1  # … one pool.
    assert caches["platform"].get("pool-check") == 1
