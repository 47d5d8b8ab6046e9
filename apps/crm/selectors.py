"""Reads of customers and appointments."""

import re
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet

from apps.crm.hooks import TimelineCursor, TimelineItem, keyset_after, timeline_sources
from apps.crm.models import Appointment, ConversationReview, Customer, CustomerPhone, Reschedule
from nevermisscall.ids import parse_uuid
from nevermisscall.phone import InvalidPhoneNumber, to_e164


def customer_get_by_phone(*, phone: str) -> Customer | None:
    try:
        e164 = to_e164(phone)
    except InvalidPhoneNumber:
        return None
    return Customer.objects.filter(
        Q(phone=e164) | Q(pk__in=CustomerPhone.objects.filter(phone=e164).values("customer_id"))
    ).first()


def customer_get(*, customer_id) -> Customer | None:
    pk = parse_uuid(customer_id)
    return Customer.objects.filter(pk=pk).first() if pk else None


def customer_list() -> QuerySet[Customer]:
    return Customer.objects.order_by("-created_at", "-id")


MIN_PHONE_DIGITS = 4


def customer_search(*, query: str) -> QuerySet[Customer]:
    """Customers whose name or e-mail contains every word of ``query``, or whose number (their own
    or one merged in) contains its digits: "(312) 555-0100", "312.555.0100", "+1 312 555 0100" and
    "0100" all find +13125550100. Digits are compared against E.164 without the ``+``; a leading
    country code 1 typed by the owner is also tried without it."""
    query = query.strip()
    if not query:
        return Customer.objects.none()
    condition = Q()
    words = [word for word in query.split() if word]
    name_match = Q()
    for word in words:
        name_match &= Q(name__icontains=word) | Q(email__icontains=word)
    condition |= name_match
    digits = re.sub(r"\D", "", query)
    if len(digits) >= MIN_PHONE_DIGITS and not re.search(r"[^\d\s().+\-]", query):
        candidates = {digits}
        if len(digits) == 11 and digits.startswith("1"):
            candidates.add(digits[1:])
        for candidate in candidates:
            condition |= Q(phone__contains=candidate)
            condition |= Exists(CustomerPhone.objects.filter(customer_id=OuterRef("pk"), phone__contains=candidate))
    return Customer.objects.filter(condition).order_by("name", "phone")


def customer_numbers(*, customer: Customer) -> list[str]:
    """The customer's own number and every number merged into it."""
    return [customer.phone, *CustomerPhone.objects.filter(customer=customer).values_list("phone", flat=True)]


def appointment_list(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str | None = None,
    customer_id=None,
    technician_id=None,
) -> QuerySet[Appointment]:
    queryset = Appointment.objects.select_related("customer")
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    if technician_id is not None:
        queryset = queryset.filter(technician_id=technician_id)
    if start is not None:
        queryset = queryset.filter(end__gt=start)
    if end is not None:
        queryset = queryset.filter(start__lt=end)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("start")


def busy_appointments(*, start: datetime, end: datetime) -> QuerySet[Appointment]:
    """Active appointments overlapping ``[start, end)``: what a new booking must avoid."""
    return appointment_list(start=start, end=end).filter(status__in=Appointment.ACTIVE_STATUSES)


def customer_appointment_count(*, customer: Customer) -> int:
    return customer.appointments.exclude(status=Appointment.Status.CANCELLED).count()


def appointment_get(*, appointment_id) -> Appointment | None:
    pk = parse_uuid(appointment_id)
    return Appointment.objects.select_related("customer").filter(pk=pk).first() if pk else None


def technicians(*, business) -> list:
    """The business's active technicians (public schema)."""
    from apps.accounts.models import Role, User

    return list(
        User.objects.filter(business=business, role=Role.TECHNICIAN, is_active=True).order_by("first_name", "email")
    )


def technician_get(*, business, technician_id):
    from apps.accounts.models import Role, User

    pk = parse_uuid(technician_id)
    if pk is None:
        return None
    return User.objects.filter(pk=pk, business=business, role=Role.TECHNICIAN, is_active=True).first()


# --- the customer timeline ----------------------------------------------------------------------------


def appointment_timeline_data(appointment: Appointment) -> dict:
    return {
        "status": appointment.status,
        "start": appointment.start.isoformat(),
        "end": appointment.end.isoformat(),
        "job_type": appointment.job_type,
        "is_emergency": appointment.is_emergency,
        "estimated_value": str(appointment.estimated_value) if appointment.estimated_value is not None else None,
        "technician_id": str(appointment.technician_id) if appointment.technician_id else None,
    }


def _appointment_source(customer: Customer):
    def source(numbers, limit, cursor):
        rows = keyset_after(
            Appointment.objects.filter(customer=customer), field="start", kind="appointment", cursor=cursor
        )
        return [
            TimelineItem(kind="appointment", id=str(a.pk), at=a.start, data=appointment_timeline_data(a))
            for a in rows[:limit]
        ]

    return source


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _reschedule_source(customer: Customer):
    """The customer's reschedules (asked for or moved), placed at the time they were recorded."""

    def source(numbers, limit, cursor):
        rows = keyset_after(
            Reschedule.objects.filter(appointment__customer=customer).select_related("appointment"),
            field="created_at",
            kind="reschedule",
            cursor=cursor,
        )
        return [
            TimelineItem(
                kind="reschedule",
                id=str(r.pk),
                at=r.created_at,
                data={
                    "status": r.status,
                    "moved_by": r.moved_by,
                    "appointment_id": str(r.appointment_id),
                    "job_type": r.appointment.job_type,
                    "from_start": _iso(r.from_start),
                    "from_end": _iso(r.from_end),
                    "to_start": _iso(r.to_start),
                    "to_end": _iso(r.to_end),
                    "moved_at": _iso(r.moved_at),
                },
            )
            for r in rows[:limit]
        ]

    return source


def customer_timeline(
    *, customer: Customer, limit: int = 50, cursor: TimelineCursor | None = None
) -> tuple[list[TimelineItem], TimelineCursor | None]:
    """The customer's calls, conversations, messages, appointments and reschedules, newest first,
    interleaved.

    One query per kind (the other apps' kinds come from their registered sources, ``apps/crm/hooks.py``),
    each ``limit`` rows past the cursor (keyset, not offset: a late page costs what the first does),
    merged here and cut to ``limit``; appointments are placed at their start time. Returns the page
    and the cursor of the next page (None at the end).
    """
    numbers = customer_numbers(customer=customer)
    sources = {
        "appointment": _appointment_source(customer),
        "reschedule": _reschedule_source(customer),
        **timeline_sources(),
    }
    items = []
    for source in sources.values():
        items.extend(source(numbers, limit + 1, cursor))
    items.sort(key=lambda item: (item.at, item.kind, item.id), reverse=True)
    page = items[:limit]
    more = len(items) > limit
    next_cursor = TimelineCursor(at=page[-1].at, kind=page[-1].kind, id=page[-1].id) if more and page else None
    return page, next_cursor


def conversation_reviews(*, conversation_ids) -> dict:
    """The QA reviews of these conversations, by conversation id (one query)."""
    return {str(r.conversation_id): r for r in ConversationReview.objects.filter(conversation_id__in=conversation_ids)}


def reviewed_conversation_ids(*, outcome: str):
    return ConversationReview.objects.filter(outcome=outcome).values("conversation_id")


def flagged_conversation_ids():
    return ConversationReview.objects.exclude(flags=[]).values("conversation_id")
