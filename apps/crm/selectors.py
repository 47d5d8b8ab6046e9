"""Reads of customers and appointments."""

from datetime import datetime

from django.db.models import QuerySet

from apps.crm.models import Appointment, Customer
from nevermisscall.ids import parse_uuid
from nevermisscall.phone import InvalidPhoneNumber, to_e164


def customer_get_by_phone(*, phone: str) -> Customer | None:
    try:
        e164 = to_e164(phone)
    except InvalidPhoneNumber:
        return None
    return Customer.objects.filter(phone=e164).first()


def appointment_list(
    *, start: datetime | None = None, end: datetime | None = None, status: str | None = None
) -> QuerySet[Appointment]:
    queryset = Appointment.objects.select_related("customer")
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
