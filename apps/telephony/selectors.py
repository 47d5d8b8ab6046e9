"""Reads of calls and phone numbers (the current schema's)."""

from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.conversations.models import Message
from apps.telephony.models import Call, PhoneNumber
from nevermisscall.ids import parse_uuid


def call_list(*, filters: dict) -> QuerySet[Call]:
    queryset = Call.objects.all()
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("direction"):
        queryset = queryset.filter(direction=filters["direction"])
    if filters.get("caller"):
        queryset = queryset.filter(from_number__contains=filters["caller"])
    if filters.get("date_from"):
        queryset = queryset.filter(started_at__gte=filters["date_from"])
    if filters.get("date_to"):
        queryset = queryset.filter(started_at__lt=filters["date_to"])
    if filters.get("recovered"):  # Missed, and the caller texted back after the call (the overview's KPI).
        replied = Message.objects.filter(
            conversation_id=OuterRef("conversation_id"),
            direction=Message.Direction.INBOUND,
            created_at__gte=OuterRef("started_at"),
        )
        queryset = queryset.filter(status=Call.Status.MISSED).filter(Exists(replied))
    return queryset.order_by("-started_at", "-id")


def call_get(*, call_id) -> Call | None:
    """By our id or by Twilio's CallSid."""
    pk = parse_uuid(call_id)
    if pk is not None:
        return Call.objects.filter(pk=pk).first()
    return Call.objects.filter(call_sid=str(call_id)).first()


def phone_number_list(*, filters: dict) -> QuerySet[PhoneNumber]:
    queryset = PhoneNumber.objects.all()
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    return queryset.order_by("-created_at", "-id")


def phone_number_get(*, number_id) -> PhoneNumber | None:
    pk = parse_uuid(number_id)
    return PhoneNumber.objects.filter(pk=pk).first() if pk is not None else None


def phone_number_stats() -> dict:
    numbers = PhoneNumber.objects.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(status=PhoneNumber.Status.ACTIVE)),
        released=Count("id", filter=Q(status=PhoneNumber.Status.RELEASED)),
    )
    since = timezone.now() - timedelta(days=30)
    calls = Call.objects.filter(started_at__gte=since).aggregate(
        calls_last_30_days=Count("id"),
        missed_calls_last_30_days=Count("id", filter=Q(status=Call.Status.MISSED)),
        answered_calls_last_30_days=Count("id", filter=Q(status=Call.Status.ANSWERED)),
    )
    return {**numbers, **calls}


def sending_number() -> str:
    """The business's number that texts customers: its primary active number, else its oldest."""
    numbers = PhoneNumber.objects.filter(status=PhoneNumber.Status.ACTIVE).order_by("-is_primary", "created_at")
    return numbers.values_list("phone_number", flat=True).first() or ""
