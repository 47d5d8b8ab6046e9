"""The deployment's real components, each with a live check (``nevermisscall.health`` runs them
concurrently with a timeout) and a registry entry (category, tags, criticality, dependencies).

Providers (Twilio, OpenAI, geocoding) are not called by a check: their state is what the last
real calls left in their circuit breakers (shared in Redis by every process), and whether they are
configured. No check reports a credential, a URL's userinfo or a query string."""

import importlib.metadata
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.db import connections

from nevermisscall import health
from nevermisscall.health import DEGRADED, HEALTHY, UNHEALTHY, CheckResult
from nevermisscall.redis_guard import GuardedConnection


@dataclass(frozen=True)
class Component:
    name: str
    display_name: str
    category: str  # datastore | worker | scheduler | provider | application
    critical: bool
    tags: tuple[str, ...]
    depends_on: tuple[str, ...] = ()
    breakers: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = field(default=())


COMPONENTS = {
    c.name: c
    for c in (
        Component(
            "web",
            "Web (Django on daphne)",
            "application",
            True,
            ("http", "websocket"),
            ("database", "redis"),
            endpoints=("/healthz", "/readyz", "/health", "/status", "/metrics/prometheus"),
        ),
        Component("database", "PostgreSQL", "datastore", True, ("sql", "tenants")),
        Component("redis", "Redis", "datastore", False, ("cache", "broker", "channels")),
        Component("celery", "Celery workers", "worker", False, ("tasks",), ("redis", "database")),
        Component("queues", "Celery queues (broker)", "worker", False, ("tasks", "broker"), ("redis",)),
        Component("beat", "Celery beat", "scheduler", False, ("periodic",), ("database", "redis")),
        Component("outbox", "Outbox (deliveries)", "application", False, ("sms", "email", "webhooks"), ("database",)),
        Component("mail", "E-mail (SMTP)", "provider", False, ("email",)),
        Component(
            "twilio",
            "Twilio",
            "provider",
            False,
            ("sms", "voice"),
            ("celery",),
            breakers=("twilio-sms", "twilio-numbers"),
        ),
        Component("openai", "OpenAI", "provider", False, ("ai",), ("celery",), breakers=("openai",)),
        Component(
            "geocoding", "Geocoding (Google Maps)", "provider", False, ("maps",), ("celery",), breakers=("geocoding",)
        ),
    )
}


def _redis():
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1, connection_class=GuardedConnection
    )


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_database_detailed() -> CheckResult:
    conn = connections["default"]
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT current_setting('server_version'), pg_database_size(current_database())")
            version, size = cursor.fetchone()
        return CheckResult(HEALTHY, details={"vendor": "postgresql", "server_version": version, "size_bytes": size})
    finally:
        conn.close()


def queue_names() -> list[str]:
    queues = getattr(settings, "CELERY_TASK_QUEUES", None)
    if queues:
        return sorted(getattr(q, "name", q) for q in queues)
    return [getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")]


def queue_depths() -> dict[str, int]:
    """Messages waiting in each broker queue (the Redis transport keeps a queue as a list)."""
    client = _redis()
    try:
        pipe = client.pipeline(transaction=False)
        for name in queue_names():
            pipe.llen(name)
        return dict(zip(queue_names(), (int(n) for n in pipe.execute()), strict=True))
    finally:
        client.close()


def check_queues() -> CheckResult:
    depths = queue_depths()
    deepest = max(depths.values(), default=0)
    details = {"queues": depths, "warning_depth": settings.HEALTH_QUEUE_DEPTH_WARNING}
    if deepest > settings.HEALTH_QUEUE_DEPTH_WARNING:
        return CheckResult(DEGRADED, f"{deepest} messages waiting", details)
    return CheckResult(HEALTHY, details=details)


def check_celery_workers() -> CheckResult:
    """``inspect ping`` with a short timeout: which workers answer (the broker first, see health.py)."""
    client = _redis()
    try:
        client.ping()
    finally:
        client.close()
    from nevermisscall.celery import app

    replies = app.control.ping(timeout=1.0) or []
    workers = sorted(name for reply in replies for name in reply)
    details = {"workers": len(workers), "names": workers, "celery_version": _version("celery")}
    if not workers:
        return CheckResult(DEGRADED, "no Celery worker answered", details)
    return CheckResult(HEALTHY, details=details)


def check_beat() -> CheckResult:
    """Beat's last tick: the newest slot any beat claimed (apps/periodic), against its schedule."""
    from apps.periodic.selectors import periodic_last_claims

    try:
        claims = periodic_last_claims(names=list(settings.CELERY_BEAT_SCHEDULE))
    finally:
        connections["default"].close()
    if not claims:
        return CheckResult(DEGRADED, "no beat has sent a periodic task yet", {"last_tick": None})
    at, by = max(claims.values(), key=lambda row: row[0])
    age = (datetime.now(UTC) - at).total_seconds()
    details = {"last_tick": at.isoformat(), "seconds_ago": round(age, 1), "beat": by.split(":")[0] if by else None}
    if age > settings.HEALTH_BEAT_STALE_SECONDS:
        return CheckResult(DEGRADED, f"beat silent for {age:.0f} s", details)
    return CheckResult(HEALTHY, details=details)


def breaker_state(name: str, client) -> dict:
    """A breaker's state as every process sees it (pybreaker's Redis keys), not this process's copy."""
    prefix = f"nmc:breaker:{name}:pybreaker:"
    state, failures, opened_at = client.mget(prefix + "state", prefix + "fail_counter", prefix + "opened_at")
    return {
        "name": name,
        "state": state.decode() if state else "closed",
        "failure_count": int(failures or 0),
        "failure_threshold": settings.CIRCUIT_BREAKER_FAIL_MAX,
        "opened_at": datetime.fromtimestamp(float(opened_at), UTC).isoformat() if opened_at else None,
    }


def all_breakers() -> list[dict]:
    names = sorted(
        {name for c in COMPONENTS.values() for name in c.breakers} | {"smtp", "outgoing-webhooks", "web-push"}
    )
    client = _redis()
    try:
        return [breaker_state(name, client) for name in names]
    finally:
        client.close()


def _host(url: str | None) -> str | None:
    return urlsplit(url).hostname if url else None


def _provider_check(component: str, configured: bool, details: dict):
    def check() -> CheckResult:
        client = _redis()
        try:
            breakers = [breaker_state(name, client) for name in COMPONENTS[component].breakers]
        finally:
            client.close()
        body = {**details, "configured": configured, "breakers": breakers}
        if not configured:  # Deliberate (console SMS, rule-based assistant): not a fault.
            return CheckResult(HEALTHY, "not configured", body)
        open_ = [b["name"] for b in breakers if b["state"] == "open"]
        if open_:
            return CheckResult(UNHEALTHY, f"circuit open: {', '.join(open_)}", body)
        if any(b["state"] == "half-open" or b["failure_count"] for b in breakers):
            return CheckResult(DEGRADED, "recent failures", body)
        return CheckResult(HEALTHY, details=body)

    return check


def check_twilio() -> CheckResult:
    return _provider_check(
        "twilio",
        bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN),
        {"api_host": _host(settings.TWILIO_API_BASE_URL), "sdk_version": _version("twilio")},
    )()


def check_openai() -> CheckResult:
    configured = bool(settings.OPENAI_API_KEY)
    result = _provider_check(
        "openai",
        configured,
        {"api_host": _host(settings.OPENAI_BASE_URL) or "api.openai.com", "model": settings.OPENAI_MODEL},
    )()
    if not configured:  # The assistant runs on its rule-based engine: working, without the model.
        result.message = "not configured: the assistant answers with its rules"
    return result


def check_geocoding() -> CheckResult:
    return _provider_check(
        "geocoding",
        bool(getattr(settings, "GOOGLE_MAPS_API_KEY", "")),
        {"api_host": _host(getattr(settings, "GOOGLE_MAPS_BASE_URL", None))},
    )()


def register() -> None:
    health.register_check("database", check_database_detailed, critical=True, timeout=3.0)
    health.register_check("celery", check_celery_workers, timeout=3.0)
    health.register_check("queues", check_queues, timeout=2.0)
    health.register_check("beat", check_beat, timeout=3.0)
    health.register_check("twilio", check_twilio, timeout=2.0)
    health.register_check("openai", check_openai, timeout=2.0)
    health.register_check("geocoding", check_geocoding, timeout=2.0)


STARTED = time.time()
