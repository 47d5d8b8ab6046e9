"""Stored health-check results: one capped Redis list per component (``LPUSH`` + ``LTRIM``), so
history is pruned as it is written, shared by every process, and gone with nothing to migrate."""

import json
from datetime import UTC, datetime

import redis
from django.conf import settings

from nevermisscall.health import CheckResult

KEY = "nmc:health:history:{}"


def _client():
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)


def record(results: dict[str, CheckResult], *, at: datetime | None = None) -> None:
    at = at or datetime.now(UTC)
    client = _client()
    try:
        pipe = client.pipeline(transaction=False)
        for name, result in results.items():
            entry = {
                "status": result.status,
                "message": result.message,
                "response_time_ms": result.response_time_ms,
                "checked_at": at.isoformat().replace("+00:00", "Z"),
            }
            pipe.lpush(KEY.format(name), json.dumps(entry))
            pipe.ltrim(KEY.format(name), 0, settings.HEALTH_HISTORY_LENGTH - 1)
        pipe.execute()
    finally:
        client.close()


def read(name: str, *, limit: int) -> list[dict]:
    """The newest ``limit`` results of ``name``, newest first."""
    client = _client()
    try:
        return [json.loads(raw) for raw in client.lrange(KEY.format(name), 0, limit - 1)]
    finally:
        client.close()


def read_latest(names) -> dict[str, dict | None]:
    client = _client()
    try:
        pipe = client.pipeline(transaction=False)
        for name in names:
            pipe.lindex(KEY.format(name), 0)
        return {name: json.loads(raw) if raw else None for name, raw in zip(names, pipe.execute(), strict=True)}
    finally:
        client.close()


def _uptime(entries: list[dict]) -> dict:
    if not entries:
        return {"checks": 0, "healthy": 0, "uptime_percent": None, "since": None}
    healthy = sum(1 for e in entries if e["status"] == "healthy")
    return {
        "checks": len(entries),
        "healthy": healthy,
        "uptime_percent": round(100.0 * healthy / len(entries), 2),
        "since": entries[-1]["checked_at"],
    }


def uptime(name: str) -> dict:
    """Share of the stored checks of ``name`` that were healthy, and over what span."""
    return _uptime(read(name, limit=settings.HEALTH_HISTORY_LENGTH))


def uptimes(names) -> dict[str, dict]:
    """``uptime`` of each of ``names``, read in one round trip."""
    names = list(names)
    client = _client()
    try:
        pipe = client.pipeline(transaction=False)
        for name in names:
            pipe.lrange(KEY.format(name), 0, settings.HEALTH_HISTORY_LENGTH - 1)
        lists = pipe.execute()
    finally:
        client.close()
    return {name: _uptime([json.loads(raw) for raw in raw_list]) for name, raw_list in zip(names, lists, strict=True)}
