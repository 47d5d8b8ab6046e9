"""The registry of live dashboard connections, kept in Redis so every daphne process agrees.

One hash per business (``nmc:ws:<schema>``: connection id → JSON details). A daphne process that
dies cannot remove its entries, so entries whose last heartbeat is older than ``STALE_SECONDS``
are pruned whenever the registry is read.
"""

import asyncio
import json
import time
import weakref

import redis
import redis.asyncio as aioredis
from django.conf import settings

KEY_PREFIX = "nmc:ws:"
STALE_SECONDS = 90


def _key(schema_name: str) -> str:
    return f"{KEY_PREFIX}{schema_name}"


# An asyncio Redis client belongs to the event loop it was created on: one per loop.
_async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _async_client():
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, decode_responses=True)
        _async_clients[loop] = client
    return client


def _client():
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, decode_responses=True)


async def connection_register(*, schema_name: str, connection_id: str, details: dict) -> None:
    now = time.time()
    record = {**details, "connection_id": connection_id, "connected_at": now, "last_heartbeat": now}
    await _async_client().hset(_key(schema_name), connection_id, json.dumps(record))


async def connection_touch(*, schema_name: str, connection_id: str) -> None:
    client = _async_client()
    raw = await client.hget(_key(schema_name), connection_id)
    if raw:
        record = json.loads(raw)
        record["last_heartbeat"] = time.time()
        await client.hset(_key(schema_name), connection_id, json.dumps(record))


async def connection_unregister(*, schema_name: str, connection_id: str) -> None:
    await _async_client().hdel(_key(schema_name), connection_id)


def _live_records(client, key: str) -> list[dict]:
    cutoff = time.time() - STALE_SECONDS
    live, stale_ids = [], []
    for connection_id, raw in client.hgetall(key).items():
        record = json.loads(raw)
        if record.get("last_heartbeat", 0) >= cutoff:
            live.append(record)
        else:
            stale_ids.append(connection_id)
    if stale_ids:
        client.hdel(key, *stale_ids)
    return live


def connection_list(*, schema_name: str) -> list[dict]:
    return sorted(_live_records(_client(), _key(schema_name)), key=lambda record: record["connected_at"])


def connection_get(*, schema_name: str, connection_id: str) -> dict | None:
    raw = _client().hget(_key(schema_name), connection_id)
    return json.loads(raw) if raw else None


def connection_stats() -> dict:
    """Totals across every business (for operators: ``/internal/connections/stats``)."""
    client = _client()
    per_business = {}
    for key in client.scan_iter(match=f"{KEY_PREFIX}*"):
        count = len(_live_records(client, key))
        if count:
            per_business[key.removeprefix(KEY_PREFIX)] = count
    return {
        "total_connections": sum(per_business.values()),
        "businesses": len(per_business),
        "per_business": per_business,
    }


def connection_cleanup() -> int:
    """Prune stale entries everywhere; returns how many were removed."""
    client = _client()
    removed = 0
    for key in client.scan_iter(match=f"{KEY_PREFIX}*"):
        before = client.hlen(key)
        _live_records(client, key)
        removed += before - client.hlen(key)
    return removed
