"""A business's own metrics (``POST /api/metrics``): each point is kept with its tags (pruned with
the raw events) and counted into the same rollups as the computed metrics, as ``custom.<name>``, so
``GET /api/metrics`` returns both. One unit per metric: a point in another unit is refused."""

from datetime import datetime

from django.db import IntegrityError, connection, transaction

from apps.analytics.metrics import metric_params, rollup_cte
from apps.analytics.models import CustomMetric, CustomMetricPoint
from nevermisscall.errors import Conflict, ValidationFailed

CUSTOM_PREFIX = "custom."


def custom_metric_key(name: str) -> str:
    """The rollups' metric name of a custom metric."""
    return f"{CUSTOM_PREFIX}{name}"


def custom_metric_units() -> dict[str, str]:
    """Every custom metric of the business (its rollup name) → its unit."""
    return {custom_metric_key(name): unit for name, unit in CustomMetric.objects.values_list("name", "unit")}


def _same_point(point: CustomMetricPoint, *, name: str, value: float, tags: dict, at: datetime) -> bool:
    return point.metric.name == name and point.value == value and point.tags == tags and point.at == at


def custom_metric_record(
    *, name: str, value: float, unit: str, tags: dict, at: datetime, idempotency_key: str | None = None
) -> tuple[CustomMetricPoint, bool]:
    """Store one point and add it to the 5-minute and hour rollups, in one transaction. With an
    ``idempotency_key`` already used for the same point: that point, ``created`` False, nothing
    recorded again; used for a different point: Conflict."""
    with transaction.atomic():
        metric, _ = CustomMetric.objects.get_or_create(name=name, defaults={"unit": unit})
        if metric.unit != unit:
            raise ValidationFailed(
                details={"unit": [f"{custom_metric_key(name)} is measured in {metric.unit!r}, not {unit!r}."]}
            )
        try:
            with transaction.atomic():
                point = CustomMetricPoint.objects.create(
                    metric=metric, value=value, tags=tags, at=at, idempotency_key=idempotency_key
                )
        except IntegrityError:
            point = CustomMetricPoint.objects.select_related("metric").get(idempotency_key=idempotency_key)
            if not _same_point(point, name=name, value=value, tags=tags, at=at):
                raise Conflict("This idempotency_key was used for another point.") from None
            return point, False
        with connection.cursor() as cursor:
            cursor.execute(f"WITH {rollup_cte()} SELECT 1", metric_params([(custom_metric_key(name), value)], at))
    return point, True
