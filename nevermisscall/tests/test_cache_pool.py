"""The Redis caches share one connection pool, and one client, per process, whatever the thread or
async context."""

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


def test_cache_instances_of_other_threads_share_one_redis_client():
    clients = []

    def request():
        caches["default"].get("client-check")
        clients.append(caches["default"]._cache.get_client(write=True))

    threads = [threading.Thread(target=request) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in clients}) == 1
    assert clients[0].connection_pool is _pool("default")
