"""Health checks after seed 000's HealthManager: database (critical), Redis and the Celery worker.

A failing non-critical check makes the whole ``degraded``; a failing critical one ``unhealthy``
(HTTP 503). Checks run concurrently, each with a timeout, so a hung dependency cannot hang a probe.
"""

import os
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from django_tenants.utils import get_tenant_model
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from nevermisscall.mail import DISABLED_MESSAGE
from nevermisscall.metrics import STARTED_AT, request_summary

HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"
VERSION = "1.0.0"

_executor = ThreadPoolExecutor(max_workers=6, thread_name_prefix="health")


@dataclass
class CheckResult:
    status: str
    message: str | None = None
    details: dict = field(default_factory=dict)
    response_time_ms: float | None = None


def check_database() -> CheckResult:
    from django.db import connections

    conn = connections["default"]
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return CheckResult(HEALTHY, details={"vendor": conn.vendor})
    finally:
        conn.close()  # This runs in a worker thread: give the connection back.


def _redis_client():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)


def check_redis() -> CheckResult:
    client = _redis_client()
    try:
        client.ping()
        info = client.info("server")
        return CheckResult(HEALTHY, details={"redis_version": info.get("redis_version")})
    finally:
        client.close()


def check_celery() -> CheckResult:
    # Ask the broker first: without it, Celery's own ping retries for a long time.
    client = _redis_client()
    try:
        client.ping()
    finally:
        client.close()
    from nevermisscall.celery import app

    replies = app.control.ping(timeout=1.0) or []
    if not replies:
        return CheckResult(DEGRADED, "no Celery worker answered", {"workers": 0})
    return CheckResult(HEALTHY, details={"workers": len(replies)})


def check_mail() -> CheckResult:
    if settings.EMAIL_DISABLED:
        return CheckResult(DEGRADED, DISABLED_MESSAGE, {"backend": "disabled"})
    return CheckResult(HEALTHY, details={"backend": settings.EMAIL_BACKEND.rsplit(".", 2)[-2]})


CHECKS = {
    # name: (function, critical, timeout seconds)
    "database": (check_database, True, 3.0),
    "redis": (check_redis, False, 2.0),
    "celery": (check_celery, False, 3.0),
    "mail": (check_mail, False, 1.0),
}


def register_check(name: str, function, *, critical: bool = False, timeout: float = 3.0) -> None:
    """Add an app's check (from its ``AppConfig.ready``): ``function() -> CheckResult``."""
    CHECKS[name] = (function, critical, timeout)


def _timed(function) -> CheckResult:
    started = time.perf_counter()
    try:
        result = function()
    except Exception as exc:
        result = CheckResult(UNHEALTHY, f"{type(exc).__name__}: {exc}")
    result.response_time_ms = round((time.perf_counter() - started) * 1000, 2)
    return result


def run_checks(names=None) -> tuple[str, dict[str, CheckResult]]:
    names = list(names or CHECKS)
    futures = {name: _executor.submit(_timed, CHECKS[name][0]) for name in names}
    results: dict[str, CheckResult] = {}
    overall = HEALTHY
    for name, future in futures.items():
        _, critical, timeout = CHECKS[name]
        try:
            result = future.result(timeout=timeout)
        except FutureTimeout:
            result = CheckResult(UNHEALTHY, f"health check timed out after {timeout}s")
        results[name] = result
        if result.status == UNHEALTHY and critical:
            overall = UNHEALTHY
        elif result.status != HEALTHY and overall == HEALTHY:
            overall = DEGRADED
    return overall, results


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _as_dict(result: CheckResult, detailed: bool) -> dict:
    body = {"status": result.status, "response_time_ms": result.response_time_ms}
    if result.message:
        body["message"] = result.message
    if detailed and result.details:
        body["details"] = result.details
    return body


def _summary(detailed: bool) -> JsonResponse:
    overall, results = run_checks()
    body = {
        "status": overall,
        "timestamp": _now(),
        "service": "nevermisscall",
        "version": VERSION,
        "checks": {name: _as_dict(result, detailed) for name, result in results.items()},
    }
    if detailed:
        body["uptime_seconds"] = round(time.time() - STARTED_AT, 1)
        body["environment"] = settings.APP_ENV
    return JsonResponse(body, status=503 if overall == UNHEALTHY else 200)


@require_GET
def healthz(request):
    """Liveness: the process answers. Shape satisfies both seed documents (SPEC section 9)."""
    return JsonResponse({"status": "ok", "ok": True})


@require_GET
def health_live(request):
    return JsonResponse({"status": "ok", "timestamp": _now()})


@require_GET
def readyz(request):
    """Readiness: ``{"db": "ok", ...}``; 503 when the database is down."""
    _, results = run_checks(["database", "redis"])
    body = {name: ("ok" if result.status == HEALTHY else "error") for name, result in results.items()}
    body = {"db": body.pop("database"), **body}
    body["status"] = "ready" if body["db"] == "ok" else "not_ready"
    return JsonResponse(body, status=200 if body["db"] == "ok" else 503)


@require_GET
def health(request):
    return _summary(detailed=False)


@require_GET
def health_detailed(request):
    return _summary(detailed=True)


@require_GET
def metrics_json(request):
    connection.set_schema_to_public()
    return JsonResponse(
        {
            "timestamp": _now(),
            "uptime_seconds": round(time.time() - STARTED_AT, 1),
            "requests": request_summary(),
            "businesses": get_tenant_model().objects.exclude(schema_name="public").count(),
            "users": get_user_model().objects.count(),
        }
    )


def prometheus_text() -> bytes:
    """This process's registry; with ``PROMETHEUS_MULTIPROC_DIR``, every process's counters and
    histograms summed from that directory, plus the gauges read at scrape time (the custom
    collectors of the registry: outbox, queues, health, breakers)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return generate_latest(REGISTRY)
    from prometheus_client import CollectorRegistry, multiprocess
    from prometheus_client.metrics import MetricWrapperBase

    combined = CollectorRegistry()
    multiprocess.MultiProcessCollector(combined)
    live = CollectorRegistry(auto_describe=True)
    for collector in list(REGISTRY._collector_to_names):  # Custom collectors only (not per-process metrics).
        if not isinstance(collector, MetricWrapperBase) and type(collector).__module__.startswith(
            ("apps.", "nevermisscall")
        ):
            live.register(collector)
    return generate_latest(combined) + generate_latest(live)


@require_GET
def metrics_prometheus(request):
    return HttpResponse(prometheus_text(), content_type=CONTENT_TYPE_LATEST)
