"""Prometheus metrics of every process; served as text (``/metrics/prometheus``) and summarised as JSON.

Labels come from fixed sets only (URL patterns, channels, outcomes, provider names, status
classes), never a business, a phone number or a path: ``bounded()`` folds anything else into
``other``. With several processes (web, workers) set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory shared by them: prometheus_client then writes each process's values there and
``/metrics/prometheus`` sums them (docs/operations.md "Observability").
"""

import time
from urllib.parse import urlsplit

from prometheus_client import Counter, Histogram

REQUESTS = Counter("nmc_http_requests_total", "HTTP requests handled", ["method", "route", "status"])
LATENCY = Histogram(
    "nmc_http_request_duration_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
STARTED_AT = time.time()
WEBHOOKS = Counter("nmc_webhooks_total", "Twilio webhooks handled", ["route", "status_class"])
DELIVERY_ATTEMPTS = Counter(
    "nmc_delivery_attempts_total", "Outbox delivery attempts by channel and outcome", ["channel", "outcome"]
)
DELIVERY_SECONDS = Histogram(
    "nmc_delivery_attempt_duration_seconds",
    "Time the provider took for one delivery attempt",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SMS = Counter("nmc_sms_total", "SMS send attempts by outcome", ["outcome"])
AI_CALLS = Counter("nmc_ai_calls_total", "Requests to the language model by status class", ["status_class"])
AI_SECONDS = Histogram(
    "nmc_ai_call_duration_seconds", "Language-model request latency", buckets=(0.1, 0.25, 0.5, 1, 1.5, 2.5, 5, 10)
)
PROVIDER_REQUESTS = Counter("nmc_provider_requests_total", "HTTP requests to providers", ["provider", "status_class"])
PROVIDER_SECONDS = Histogram(
    "nmc_provider_request_duration_seconds",
    "HTTP request latency to providers",
    ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

CHANNELS = frozenset({"sms", "email", "webhook", "push"})
OUTCOMES = frozenset({"sent", "delivered", "transient", "uncertain", "permanent"})
PROVIDERS = frozenset({"twilio", "openai", "geocoding", "other"})
STATUS_CLASSES = frozenset({"1xx", "2xx", "3xx", "4xx", "5xx", "error"})


def bounded(value: str, allowed: frozenset) -> str:
    return value if value in allowed else "other"


def status_class(status: int | None) -> str:
    return f"{int(status) // 100}xx" if status and 100 <= int(status) < 600 else "error"


def record_delivery_attempt(*, channel: str, outcome: str, seconds: float) -> None:
    channel, outcome = bounded(channel, CHANNELS), bounded(outcome, OUTCOMES)
    DELIVERY_ATTEMPTS.labels(channel, outcome).inc()
    DELIVERY_SECONDS.labels(channel).observe(seconds)
    if channel == "sms":
        SMS.labels(outcome).inc()


def provider_of(url: str) -> str:
    """Which provider a request went to, by host: the configured base URLs, then the public hosts."""
    from django.conf import settings

    host = urlsplit(url).hostname or ""
    configured = {
        urlsplit(settings.TWILIO_API_BASE_URL).hostname: "twilio",
        urlsplit(settings.OPENAI_BASE_URL or "https://api.openai.com").hostname: "openai",
        urlsplit(getattr(settings, "GOOGLE_MAPS_BASE_URL", "") or "https://maps.googleapis.com").hostname: "geocoding",
    }
    if host in configured:
        return configured[host]
    if host.endswith("twilio.com"):
        return "twilio"
    if host.endswith("openai.com"):
        return "openai"
    if host.endswith("googleapis.com"):
        return "geocoding"
    return "other"


def record_provider_request(*, url: str, status: int | None, seconds: float) -> None:
    provider = provider_of(url)
    PROVIDER_REQUESTS.labels(provider, status_class(status)).inc()
    PROVIDER_SECONDS.labels(provider).observe(seconds)
    if provider == "openai":
        AI_CALLS.labels(status_class(status)).inc()
        AI_SECONDS.observe(seconds)


class RequestMetricsMiddleware:
    """Counts each request by its URL pattern (not its path, to keep label cardinality bounded)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None else "unmatched"
        REQUESTS.labels(_method(request.method), route, str(response.status_code)).inc()
        LATENCY.labels(route).observe(time.perf_counter() - started)
        if request.path.startswith("/webhooks/"):
            WEBHOOKS.labels(route, status_class(response.status_code)).inc()
        return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method(method: str) -> str:
    return method if method in _METHODS else "other"


def request_summary() -> dict:
    """Totals from the counters above, for the JSON ``/metrics``."""
    by_status: dict[str, float] = {}
    total = 0.0
    for metric in REQUESTS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                status_class = sample.labels["status"][0] + "xx"
                by_status[status_class] = by_status.get(status_class, 0) + sample.value
                total += sample.value
    latency_sum = latency_count = 0.0
    for metric in LATENCY.collect():
        for sample in metric.samples:
            if sample.name.endswith("_sum"):
                latency_sum += sample.value
            elif sample.name.endswith("_count"):
                latency_count += sample.value
    return {
        "total": int(total),
        "by_status": {key: int(value) for key, value in sorted(by_status.items())},
        "average_latency_ms": round(latency_sum / latency_count * 1000, 2) if latency_count else 0.0,
    }
