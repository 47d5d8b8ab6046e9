"""Seed 003's ``GET /api/logs/latest`` and ``WS /api/logs/stream``: the latest lines of every
process (the capped Redis stream written by ``nevermisscall.logs.RedisLogHandler``), for platform
staff only. Lines were redacted when written and are redacted again on the way out."""

import asyncio
import json
import logging
from urllib.parse import parse_qs

import redis.asyncio as aioredis
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET

from apps.ops.views import error, staff_only
from nevermisscall import logs
from nevermisscall.tenancy.asgi import resolve_websocket_tenant

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_LINES = 1000


def _clean(entry: dict) -> dict:
    return json.loads(logs.redact(json.dumps(entry, default=str)))


@require_GET
@staff_only
def logs_latest(request):
    raw_lines = request.GET.get("lines", "100")
    if not raw_lines.isdigit() or not 1 <= int(raw_lines) <= MAX_LINES:
        return error(400, "INVALID_REQUEST", f"lines must be a whole number from 1 to {MAX_LINES}.", parameter="lines")
    level = request.GET.get("level", "").upper() or None
    if level and level not in LEVELS:
        return error(400, "INVALID_REQUEST", f"level must be one of {', '.join(LEVELS)}.", parameter="level")
    since = None
    if request.GET.get("since"):
        since = parse_datetime(request.GET["since"].replace(" ", "+"))
        if since is None or since.tzinfo is None:
            return error(400, "INVALID_REQUEST", "since must be an ISO 8601 timestamp with a zone.", parameter="since")
    try:
        entries, total = logs.read_latest(lines=int(raw_lines), level=level, since=since)
    except Exception:
        return error(503, "SERVICE_UNAVAILABLE", "The log buffer (Redis) is unreachable.")
    from django.http import JsonResponse

    return JsonResponse({"logs": [_clean(e) for e in entries], "total_lines": total, "filtered_lines": len(entries)})


async def staff_socket_refusal(scope) -> int | None:
    """The close code for a socket that is not platform staff's (4401 anonymous, 4403 a business
    user or a non-staff account), None for staff. Session cookie or ``?token=``."""
    query = parse_qs(scope.get("query_string", b"").decode())
    token = (query.get("token") or [None])[0]
    user, _ = await resolve_websocket_tenant(scope, token)
    if user is None or not user.is_authenticated:
        return 4401
    if not user.is_staff or user.business_id is not None:
        return 4403
    return None


class LogStreamConsumer(AsyncWebsocketConsumer):
    """Every new line as one JSON message, optionally ``?level=`` or above. Staff only: a
    business user or an anonymous scope is closed with 4403 / 4401 before anything is sent."""

    async def connect(self):
        refusal = await staff_socket_refusal(self.scope)
        if refusal is not None:
            await self.close(code=refusal)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode())
        level = ((query.get("level") or ["DEBUG"])[0] or "DEBUG").upper()
        self.minimum = logging.getLevelName(level) if level in LEVELS else logging.DEBUG
        await self.accept()
        self.redis = aioredis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1)
        self.task = asyncio.ensure_future(self._pump())

    async def _pump(self):
        last_id = "$"
        while True:
            try:
                answer = await self.redis.xread({logs.STREAM_KEY: last_id}, block=1000, count=200)
            except Exception:
                await asyncio.sleep(1.0)
                continue
            for _, rows in answer or []:
                for stream_id, fields in rows:
                    last_id = stream_id
                    entry = json.loads(fields[b"entry"])
                    if logging.getLevelName(entry.get("level", "INFO")) >= self.minimum:
                        await self.send(text_data=logs.redact(json.dumps(entry, default=str)))

    async def disconnect(self, code):
        task = getattr(self, "task", None)
        if task is not None:
            task.cancel()
        client = getattr(self, "redis", None)
        if client is not None:
            await client.aclose()
