"""Gauges read at scrape time (not per process): broker queue depth, each component's last stored
health, and each circuit breaker's state. Labels are the fixed component, queue and breaker names."""

from prometheus_client.core import GaugeMetricFamily

from apps.ops import components, history

STATUS_VALUE = {"healthy": 1.0, "degraded": 0.5, "unhealthy": 0.0}
BREAKER_VALUE = {"closed": 0.0, "half-open": 0.5, "open": 1.0}


def _families():
    return (
        GaugeMetricFamily("nmc_celery_queue_depth", "Messages waiting in each broker queue", labels=["queue"]),
        GaugeMetricFamily(
            "nmc_component_health", "Last stored check: 1 healthy, 0.5 degraded, 0 unhealthy", labels=["component"]
        ),
        GaugeMetricFamily("nmc_circuit_breaker_open", "1 open, 0.5 half-open, 0 closed", labels=["breaker"]),
    )


class OpsCollector:
    def describe(self):
        return list(_families())

    def collect(self):
        queues, health_, breakers = _families()
        try:
            for name, depth in components.queue_depths().items():
                queues.add_metric([name], depth)
            for name, entry in history.read_latest(list(components.COMPONENTS)).items():
                if entry is not None:
                    health_.add_metric([name], STATUS_VALUE.get(entry["status"], 0.0))
            for breaker in components.all_breakers():
                breakers.add_metric([breaker["name"]], BREAKER_VALUE.get(breaker["state"], 0.0))
        except Exception:  # noqa: S110 - Redis down: the scrape still answers with the rest.
            pass
        return [queues, health_, breakers]
