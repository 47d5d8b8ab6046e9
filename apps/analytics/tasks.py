"""Beat tasks of the metric store."""

from django_tenants.utils import tenant_context

from apps.analytics.metrics import metrics_prune
from apps.tenants.models import Business
from nevermisscall.celery import app


@app.task(name="analytics.metrics_prune", ignore_result=True)
def metrics_prune_all() -> int:
    """Hourly: raw metric events older than METRIC_RAW_KEEP_DAYS and old 5-minute buckets, per business."""
    deleted = 0
    for business in Business.objects.exclude(schema_name="public"):
        with tenant_context(business):
            deleted += metrics_prune()
    return deleted
