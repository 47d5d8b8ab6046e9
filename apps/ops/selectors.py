"""Reads for the operations surface. Platform-wide figures come from the public schema only
(deliveries, businesses): nothing here walks every business's schema."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone
from django_tenants.utils import get_tenant_model

from apps.ops import components
from apps.outbox import selectors as outbox_selectors
from nevermisscall.metrics import request_summary


def delivery_counts_24h() -> dict:
    return outbox_selectors.delivery_counts(since=timezone.now() - timedelta(hours=24))


def platform_metrics() -> dict:
    """Seed 003's ``metrics`` with what the platform measures in one place: deliveries today and
    their success rate, broker backlog, businesses, this process's requests."""
    connection.set_schema_to_public()
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    counts = outbox_selectors.delivery_counts(since=start)
    settled = counts["sent"] + counts["delivered"] + counts["failed"] + counts["dead"]
    try:
        queued = sum(components.queue_depths().values())
    except Exception:
        queued = None
    return {
        "deliveries_today": settled + counts["queued"] + counts["sending"] + counts["canceled"],
        "delivery_success_rate": round((counts["sent"] + counts["delivered"]) / settled, 4) if settled else None,
        "dead_letters_today": counts["dead"],
        "queued_tasks": queued,
        "businesses": get_tenant_model().objects.exclude(schema_name="public").count(),
        "requests_this_process": request_summary()["total"],
    }


def dead_letters(*, limit: int = 20) -> list:
    return outbox_selectors.delivery_dead_letters(limit=limit)


def component_versions() -> dict:
    found = {
        name: components._version(package)
        for name, package in (
            ("django", "Django"),
            ("celery", "celery"),
            ("channels", "channels"),
            ("twilio", "twilio"),
            ("openai", "openai"),
            ("redis-py", "redis"),
            ("psycopg", "psycopg"),
            ("opentelemetry-sdk", "opentelemetry-sdk"),
        )
    }
    found["application"] = "1.0.0"
    return found


def component_endpoints(name: str) -> list[str]:
    """Where a component is reached, host only (never credentials, paths with keys or query strings)."""
    from django.conf import settings

    hosts = {
        "database": [
            f"postgresql://{connection.settings_dict.get('HOST') or 'localhost'}:{connection.settings_dict.get('PORT') or 5432}"
        ],
        "redis": [f"redis://{components._host(settings.REDIS_URL) or 'localhost'}"],
        "queues": [f"queue:{name}" for name in components.queue_names()],
        "twilio": [f"https://{components._host(settings.TWILIO_API_BASE_URL)}"],
        "openai": [f"https://{components._host(settings.OPENAI_BASE_URL) or 'api.openai.com'}"],
        "geocoding": [f"https://{components._host(getattr(settings, 'GOOGLE_MAPS_BASE_URL', None))}"],
    }
    return hosts.get(name, [])
