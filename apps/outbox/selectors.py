"""Reads of deliveries: always one business's (the API, the dashboard), or the sweep's and the
health counts' over every business."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from apps.outbox.models import Delivery, DeliveryAttempt, PushSubscription, WebhookEndpoint
from nevermisscall.ids import parse_uuid


def delivery_list(*, business, filters: dict) -> QuerySet[Delivery]:
    queryset = Delivery.objects.filter(business=business)
    for name in ("channel", "status", "kind", "purpose", "cause_type", "cause_id", "hold_reason"):
        if filters.get(name):
            queryset = queryset.filter(**{name: filters[name]})
    if filters.get("recipient"):
        queryset = queryset.filter(recipient__icontains=filters["recipient"])
    if filters.get("date_from"):
        queryset = queryset.filter(created_at__gte=filters["date_from"])
    if filters.get("date_to"):
        queryset = queryset.filter(created_at__lt=filters["date_to"])
    return queryset.order_by("-created_at", "-id")


def delivery_get(*, business, delivery_id) -> Delivery | None:
    pk = parse_uuid(delivery_id)
    if pk is None:
        return None
    return Delivery.objects.filter(business=business, pk=pk).prefetch_related("attempt_rows").first()


def deliveries_due(*, now: datetime, limit: int) -> list[tuple]:
    """(id, schema) of deliveries to hand over: due retries and holds, fresh rows whose hand-off
    was lost (older than the grace period), and claims gone stale (a worker died mid-send)."""
    grace = now - timedelta(seconds=settings.DELIVERY_HANDOFF_GRACE_SECONDS)
    stale = now - timedelta(seconds=settings.DELIVERY_SENDING_STALE_SECONDS)
    queued = Q(status=Delivery.Status.QUEUED, next_attempt_at__lte=now) & (
        Q(next_attempt_at__gt=F("created_at")) | Q(created_at__lt=grace)
    )
    stuck = Q(status=Delivery.Status.SENDING, claimed_at__lt=stale)
    return list(
        Delivery.objects.filter(queued | stuck)
        .order_by("next_attempt_at")
        .values_list("id", "business__schema_name")[:limit]
    )


STATUS_COUNTS = ("queued", "sending", "sent", "delivered", "failed", "dead", "canceled")


def delivery_first_uncertain_attempt_at(*, delivery: Delivery) -> datetime:
    """When the first request of ``delivery`` that got no answer started (its creation if none did)."""
    first = (
        DeliveryAttempt.objects.filter(delivery=delivery, outcome=DeliveryAttempt.Outcome.UNCERTAIN)
        .order_by("started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    return first or delivery.created_at


def delivery_counts(*, business=None, since: datetime | None = None) -> dict:
    """Counts by status, plus the held ones by reason: one business's, or the platform's."""
    queryset = Delivery.objects.all() if business is None else Delivery.objects.filter(business=business)
    if since is not None:
        queryset = queryset.filter(Q(created_at__gte=since) | Q(status__in=["queued", "sending"]))
    aggregates = {name: Count("id", filter=Q(status=name)) for name in STATUS_COUNTS}
    aggregates["held_quiet_hours"] = Count("id", filter=Q(status="queued", hold_reason=Delivery.Hold.QUIET_HOURS))
    aggregates["held_quota"] = Count("id", filter=Q(status="queued", hold_reason=Delivery.Hold.QUOTA))
    aggregates["held_circuit_open"] = Count("id", filter=Q(status="queued", hold_reason=Delivery.Hold.CIRCUIT_OPEN))
    return queryset.aggregate(**aggregates)


def delivery_oldest_pending_seconds() -> float | None:
    oldest = (
        Delivery.objects.filter(status=Delivery.Status.QUEUED, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    return (timezone.now() - oldest).total_seconds() if oldest else None


def webhook_endpoint_list(*, business) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(business=business).order_by("-created_at")


def webhook_endpoint_get(*, business, endpoint_id) -> WebhookEndpoint | None:
    pk = parse_uuid(endpoint_id)
    return WebhookEndpoint.objects.filter(business=business, pk=pk).first() if pk else None


def push_subscription_count(*, user) -> int:
    """How many of this person's browsers get Web Push."""
    return PushSubscription.objects.filter(business_id=user.business_id, user=user).count()


def delivery_dead_letters(*, limit: int) -> list[Delivery]:
    """The newest dead letters over every business, for platform staff's operations page (the
    recipient is shown masked there)."""
    return list(
        Delivery.objects.filter(status=Delivery.Status.DEAD)
        .select_related("business")
        .only(
            "id", "channel", "purpose", "recipient", "status", "attempts", "last_error", "updated_at", "business__name"
        )
        .order_by("-updated_at")[:limit]
    )
