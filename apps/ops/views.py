"""Seed 000's AS-Infrastructure-Service (``/health/*``, ``/metrics/*``, ``/registry/*``) and seed
003's ``/status`` over the deployment's real components (apps/ops/components.py).

``/health…`` and ``/status`` are public, as the seeds say; what triggers work (``POST …/check``)
and what maps the deployment (``/metrics/*`` but Prometheus', ``/registry/*``) is for platform staff
(their session) or a caller with ``X-Admin-API-Key`` or ``x-service-key``. Errors in seed 003's shape."""

import os
import time
from collections import Counter
from datetime import UTC, datetime

import psutil
from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from apps.ops import components, history, selectors
from apps.ops.services import health_check_run
from nevermisscall import health
from nevermisscall.metrics import request_summary
from nevermisscall.middleware import current_request_id
from nevermisscall.permissions import _matches

HISTORY_MAX = 500


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def error(status: int, code: str, message: str, **details) -> JsonResponse:
    body = {"error": {"code": code, "message": message}, "timestamp": _now(), "request_id": current_request_id()}
    if details:
        body["error"]["details"] = details
    return JsonResponse(body, status=status)


def is_platform_staff(request) -> bool:
    if _matches(request.headers.get("X-Admin-API-Key"), settings.ADMIN_API_KEY):
        return True
    if _matches(request.headers.get("x-service-key"), settings.INTERNAL_SERVICE_KEY):
        return True
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.is_staff and not user.business_id)


def staff_only(view):
    def wrapped(request, *args, **kwargs):
        if not is_platform_staff(request):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                return error(403, "FORBIDDEN", "Platform staff only.")
            return error(401, "AUTHENTICATION_FAILED", "Platform staff session, X-Admin-API-Key or x-service-key.")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _result(name: str, result: health.CheckResult, *, detailed: bool = True) -> dict:
    component = components.COMPONENTS.get(name)
    body = {
        "name": name,
        "display_name": component.display_name if component else name,
        "category": component.category if component else "application",
        "critical": health.CHECKS[name][1],
        "status": result.status,
        "response_time_ms": result.response_time_ms,
        "message": result.message,
    }
    if detailed:
        body["details"] = result.details
    return body


def _unknown(name: str) -> JsonResponse:
    return error(404, "SERVICE_NOT_FOUND", f"No service named {name!r}.", known=sorted(health.CHECKS))


def _limit(request, default: int, maximum: int) -> int | JsonResponse:
    raw = request.GET.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        return error(400, "INVALID_REQUEST", f"limit must be a whole number from 1 to {maximum}.", parameter="limit")
    return int(raw)


# --- /health ---------------------------------------------------------------------------------


@require_GET
def health_overview(request):
    overall, results = health_check_run()
    counts = Counter(result.status for result in results.values())
    return JsonResponse(
        {
            "status": overall,
            "timestamp": _now(),
            "version": health.VERSION,
            "uptime_seconds": round(time.time() - components.STARTED, 1),
            "summary": {
                "total": len(results),
                "healthy": counts.get(health.HEALTHY, 0),
                "degraded": counts.get(health.DEGRADED, 0),
                "unhealthy": counts.get(health.UNHEALTHY, 0),
            },
            "critical_failing": sorted(
                n for n, r in results.items() if health.CHECKS[n][1] and r.status == health.UNHEALTHY
            ),
            "services": [_result(name, result, detailed=False) for name, result in results.items()],
        },
        status=503 if overall == health.UNHEALTHY else 200,
    )


@require_GET
def health_services(request):
    status, category = request.GET.get("status"), request.GET.get("category")
    if status and status not in {health.HEALTHY, health.DEGRADED, health.UNHEALTHY}:
        return error(400, "INVALID_REQUEST", "status must be healthy, degraded or unhealthy.", parameter="status")
    categories = {c.category for c in components.COMPONENTS.values()}
    if category and category not in categories:
        return error(400, "INVALID_REQUEST", f"category must be one of {sorted(categories)}.", parameter="category")
    overall, results = health_check_run()
    services = [_result(name, result) for name, result in results.items()]
    services = [
        s for s in services if (not status or s["status"] == status) and (not category or s["category"] == category)
    ]
    return JsonResponse({"status": overall, "timestamp": _now(), "services": services, "count": len(services)})


@require_GET
def health_service(request, name: str):
    if name not in health.CHECKS:
        return _unknown(name)
    _, results = health_check_run(names=[name])
    body = _result(name, results[name])
    body["timestamp"] = _now()
    body["uptime"] = history.uptime(name)
    return JsonResponse(body)


@require_GET
def health_service_history(request, name: str):
    if name not in health.CHECKS:
        return _unknown(name)
    limit = _limit(request, 50, HISTORY_MAX)
    if isinstance(limit, JsonResponse):
        return limit
    return JsonResponse({"name": name, "history": history.read(name, limit=limit), "uptime": history.uptime(name)})


@csrf_exempt
@require_POST
@staff_only
def health_check_all(request):
    overall, results = health_check_run()
    return JsonResponse(
        {"status": overall, "timestamp": _now(), "services": [_result(n, r) for n, r in results.items()]}
    )


@csrf_exempt
@require_POST
@staff_only
def health_check_one(request, name: str):
    if name not in health.CHECKS:
        return _unknown(name)
    _, results = health_check_run(names=[name])
    return JsonResponse({**_result(name, results[name]), "timestamp": _now()})


@require_GET
def health_infrastructure(request):
    names = [n for n in ("database", "redis", "celery", "queues", "beat") if n in health.CHECKS]
    overall, results = health_check_run(names=names)
    return JsonResponse(
        {"status": overall, "timestamp": _now(), "services": [_result(n, r) for n, r in results.items()]}
    )


# --- /status (seed 003) ----------------------------------------------------------------------


def _integration_status(result) -> str:
    """Seed 003 says "connected"; a provider deliberately left unconfigured is not connected."""
    if result.details.get("configured") is False:
        return "not_configured"
    return "connected" if result.status == health.HEALTHY else result.status


@require_GET
def status(request):
    """Seed 003's shape: application, services (the external integrations), metrics."""
    names = [n for n in ("twilio", "openai", "geocoding", "mail", "database", "redis", "celery") if n in health.CHECKS]
    overall, results = health_check_run(names=names)
    services = {
        name: {
            "status": _integration_status(result),
            "message": result.message,
            "last_check": _now(),
        }
        for name, result in results.items()
    }
    return JsonResponse(
        {
            "application": {
                "status": "running" if overall != health.UNHEALTHY else "unhealthy",
                "version": health.VERSION,
                "environment": settings.APP_ENV,
            },
            "services": services,
            "metrics": selectors.platform_metrics(),
        },
        status=503 if overall == health.UNHEALTHY else 200,
    )


# --- /metrics/* --------------------------------------------------------------------------------


def _system() -> dict:
    process = psutil.Process(os.getpid())
    return {
        "pid": process.pid,
        "uptime_seconds": round(time.time() - components.STARTED, 1),
        "memory_rss_bytes": process.memory_info().rss,
        "threads": process.num_threads(),
        "cpu_count": psutil.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "system_memory_percent": psutil.virtual_memory().percent,
    }


@require_GET
@staff_only
def metrics_system(request):
    return JsonResponse({"timestamp": _now(), "system": _system()})


def _service_metrics(name: str) -> dict:
    entries = history.read(name, limit=HISTORY_MAX)
    times = sorted(e["response_time_ms"] for e in entries if e.get("response_time_ms") is not None)
    return {
        "name": name,
        "checks": len(entries),
        "uptime": history.uptime(name),
        "last": entries[0] if entries else None,
        "response_time_ms": {
            "p50": times[len(times) // 2] if times else None,
            "p95": times[min(len(times) - 1, int(len(times) * 0.95))] if times else None,
            "max": times[-1] if times else None,
        },
    }


@require_GET
@staff_only
def metrics_services(request):
    return JsonResponse({"timestamp": _now(), "services": [_service_metrics(n) for n in health.CHECKS]})


@require_GET
@staff_only
def metrics_service(request, name: str):
    if name not in health.CHECKS:
        return _unknown(name)
    return JsonResponse({"timestamp": _now(), **_service_metrics(name)})


@require_GET
@staff_only
def metrics_infrastructure(request):
    return JsonResponse(
        {
            "timestamp": _now(),
            "queues": components.queue_depths(),
            "breakers": components.all_breakers(),
            "deliveries_24h": selectors.delivery_counts_24h(),
        }
    )


@require_GET
@staff_only
def metrics_summary(request):
    return JsonResponse(
        {
            "timestamp": _now(),
            "requests": request_summary(),
            "system": _system(),
            "platform": selectors.platform_metrics(),
            "services": {n: history.uptime(n) for n in health.CHECKS},
        }
    )


# --- /registry/* -------------------------------------------------------------------------------


def _entry(component: components.Component, latest: dict | None) -> dict:
    return {
        "name": component.name,
        "display_name": component.display_name,
        "category": component.category,
        "critical": component.critical,
        "tags": list(component.tags),
        "depends_on": list(component.depends_on),
        "status": latest["status"] if latest else "unknown",
        "last_check": latest["checked_at"] if latest else None,
    }


def _registry() -> list[dict]:
    latest = history.read_latest(list(components.COMPONENTS))
    latest["web"] = {"status": health.HEALTHY, "checked_at": _now()}  # This answer is its check.
    return [_entry(c, latest.get(c.name)) for c in components.COMPONENTS.values()]


def _registry_filtered(request, predicate=lambda entry: True):
    entries = [e for e in _registry() if predicate(e)]
    category, tag = request.GET.get("category"), request.GET.get("tag")
    entries = [e for e in entries if (not category or e["category"] == category) and (not tag or tag in e["tags"])]
    return JsonResponse({"timestamp": _now(), "services": entries, "count": len(entries)})


@require_GET
@staff_only
def registry(request):
    return _registry_filtered(request)


@require_GET
@staff_only
def registry_active(request):
    return _registry_filtered(request, lambda e: e["status"] in {health.HEALTHY, health.DEGRADED})


@require_GET
@staff_only
def registry_critical(request):
    return _registry_filtered(request, lambda e: e["critical"])


@require_GET
@staff_only
def registry_statistics(request):
    entries = _registry()
    return JsonResponse(
        {
            "timestamp": _now(),
            "total": len(entries),
            "by_status": dict(Counter(e["status"] for e in entries)),
            "by_category": dict(Counter(e["category"] for e in entries)),
            "critical": sum(1 for e in entries if e["critical"]),
        }
    )


@require_GET
@staff_only
def registry_health(request):
    entries = _registry()
    return JsonResponse({"timestamp": _now(), "services": {e["name"]: e["status"] for e in entries}})


@require_GET
@staff_only
def registry_versions(request):
    return JsonResponse({"timestamp": _now(), "versions": selectors.component_versions()})


@require_GET
@staff_only
def registry_categories(request):
    grouped: dict[str, list[str]] = {}
    for c in components.COMPONENTS.values():
        grouped.setdefault(c.category, []).append(c.name)
    return JsonResponse({"timestamp": _now(), "categories": grouped})


def _component(name: str):
    return components.COMPONENTS.get(name)


@require_GET
@staff_only
def registry_service(request, name: str):
    component = _component(name)
    if component is None:
        return _unknown(name)
    latest = history.read_latest([name]).get(name)
    return JsonResponse({"timestamp": _now(), **_entry(component, latest), "uptime": history.uptime(name)})


@require_GET
@staff_only
def registry_service_endpoints(request, name: str):
    component = _component(name)
    if component is None:
        return _unknown(name)
    return JsonResponse({"name": name, "endpoints": list(component.endpoints) or selectors.component_endpoints(name)})


@require_GET
@staff_only
def registry_service_uptime(request, name: str):
    if _component(name) is None:
        return _unknown(name)
    return JsonResponse({"name": name, **history.uptime(name)})


@require_GET
@staff_only
def registry_tag(request, tag: str):
    return _registry_filtered(request, lambda e: tag in e["tags"])


@require_GET
@staff_only
def registry_dependencies(request):
    nodes = list(components.COMPONENTS)
    edges = [{"from": c.name, "to": d} for c in components.COMPONENTS.values() for d in c.depends_on]
    return JsonResponse({"timestamp": _now(), "nodes": nodes, "edges": edges})
