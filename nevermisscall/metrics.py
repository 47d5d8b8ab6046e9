"""Request metrics in a Prometheus registry; served as text and summarised as JSON."""

import time

from prometheus_client import Counter, Histogram

REQUESTS = Counter("nmc_http_requests_total", "HTTP requests handled", ["method", "route", "status"])
LATENCY = Histogram(
    "nmc_http_request_duration_seconds",
    "HTTP request latency",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
STARTED_AT = time.time()


class RequestMetricsMiddleware:
    """Counts each request by its URL pattern (not its path, to keep label cardinality bounded)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None else "unmatched"
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        LATENCY.labels(route).observe(time.perf_counter() - started)
        return response


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
