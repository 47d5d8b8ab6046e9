"""Writes of customers and appointments. Each runs in one transaction; events go out on commit."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, OperationalError, transaction

from apps.crm.models import Appointment, Customer
from apps.outbox import services as outbox
from nevermisscall.errors import BusinessRuleViolation, Conflict
from nevermisscall.events import publish_event
from nevermisscall.phone import to_e164

EXCLUSION_VIOLATION = "23P01"  # PostgreSQL's SQLSTATE for an exclusion-constraint violation.
DEADLOCK_DETECTED = "40P01"
SOURCE_SERVICE = "crm"


def customer_get_or_create_by_phone(
    *, phone: str, name: str = "", email: str = "", address: str = "", language: str = "", notes: str = ""
) -> tuple[Customer, bool]:
    """The customer with this phone number (E.164), created if new; blank details are filled in,
    known ones are never overwritten by a later, possibly mistyped, message."""
    e164 = to_e164(phone)
    with transaction.atomic():
        customer, created = Customer.objects.select_for_update().get_or_create(
            phone=e164,
            defaults={"name": name, "email": email, "address": address, "language": language or "en", "notes": notes},
        )
        if not created:
            changed = []
            for field_name, value in (("name", name), ("email", email), ("address", address)):
                if value and not getattr(customer, field_name):
                    setattr(customer, field_name, value)
                    changed.append(field_name)
            if language and language != customer.language:
                customer.language = language
                changed.append("language")
            if changed:
                customer.save(update_fields=[*changed, "updated_at"])
    return customer, created


def _is_exclusion_violation(exc: IntegrityError) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) == EXCLUSION_VIOLATION or "appointment_no_overlap" in str(exc)


def _write_against_overlap(write):
    """Run ``write`` in a savepoint; an overlap with another active appointment is a ``Conflict``.

    Two transactions inserting overlapping rows at once can each wait on the other's row while the
    exclusion constraint is checked; PostgreSQL then aborts one with "deadlock detected". Its
    savepoint is rolled back and the write tried once more: the retry waits for the rival to commit
    and then meets the constraint (or finds the slot free if the rival rolled back).
    """
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return write()
        except IntegrityError as exc:
            if _is_exclusion_violation(exc):
                raise Conflict("That time overlaps another appointment.") from exc
            raise
        except OperationalError as exc:
            if attempt == 2 or getattr(exc.__cause__, "sqlstate", None) != DEADLOCK_DETECTED:
                raise


def appointment_payload(appointment: Appointment) -> dict:
    return {
        "appointment_id": str(appointment.id),
        "customer_id": str(appointment.customer_id),
        "job_type": appointment.job_type,
        "status": appointment.status,
        "is_emergency": appointment.is_emergency,
        "start": appointment.start.isoformat(),
        "end": appointment.end.isoformat(),
        "estimated_value": str(appointment.estimated_value) if appointment.estimated_value is not None else None,
    }


def appointment_book(
    *,
    customer: Customer,
    start: datetime,
    end: datetime,
    job_type: str = "",
    trade: str = "",
    is_emergency: bool = False,
    estimated_value: Decimal | None = None,
    address: str = "",
    notes: str = "",
    technician_id=None,
    source: str = Appointment.Source.SMS,
    status: str = Appointment.Status.SCHEDULED,
) -> Appointment:
    """Book ``[start, end)``. Raises ``Conflict`` (409) when an active appointment overlaps it.

    The database decides (exclusion constraint), so two bookings racing for one slot cannot both
    win; a check in Python first would only move the race.
    """
    if end <= start:
        raise BusinessRuleViolation("An appointment must end after it starts.")
    appointment = _write_against_overlap(
        lambda: Appointment.objects.create(
            customer=customer,
            start=start,
            end=end,
            job_type=job_type,
            trade=trade,
            is_emergency=is_emergency,
            estimated_value=estimated_value,
            address=address or customer.address,
            notes=notes,
            technician_id=technician_id,
            source=source,
            status=status,
        )
    )
    publish_event(
        "dashboard_update",
        {"entity": "appointment", "action": "created", **appointment_payload(appointment)},
        source_service=SOURCE_SERVICE,
    )
    outbox.webhook_event_emit(
        event_type="appointment.booked",
        data=appointment_payload(appointment),
        event_id=f"appointment:{appointment.id}",
        cause=("appointment", appointment.id),
    )
    return appointment


def appointment_update(
    *,
    appointment: Appointment,
    starts_at: datetime | None = None,
    duration_min: int | None = None,
    status: str | None = None,
    notes: str | None = None,
) -> Appointment:
    """Reschedule, change status or notes. Moving onto a taken slot, or re-activating a cancelled
    appointment whose slot was taken since, is a ``Conflict``."""
    duration = timedelta(minutes=duration_min) if duration_min is not None else appointment.end - appointment.start
    if starts_at is not None or duration_min is not None:
        appointment.start = starts_at or appointment.start
        appointment.end = appointment.start + duration
    if status is not None:
        appointment.status = status
    if notes is not None:
        appointment.notes = notes
    try:
        _write_against_overlap(
            lambda: appointment.save(update_fields=["start", "end", "status", "notes", "updated_at"])
        )
    except (Conflict, IntegrityError, OperationalError):
        appointment.refresh_from_db()
        raise
    publish_event(
        "dashboard_update",
        {"entity": "appointment", "action": "updated", **appointment_payload(appointment)},
        source_service=SOURCE_SERVICE,
    )
    return appointment


@transaction.atomic
def appointment_note_add(*, appointment: Appointment, note: str) -> Appointment:
    """Append what the customer added after booking ("gate code 4512", "call before you come") to
    the appointment's notes, under the row lock, so two notes never overwrite each other."""
    locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
    line = note.strip()[:500]
    notes = f"{locked.notes}\n{line}".strip() if locked.notes else line
    return appointment_update(appointment=locked, notes=notes[:5000])
