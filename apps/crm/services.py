"""Writes of customers and appointments. Each runs in one transaction; events go out on commit."""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.crm.models import Appointment, ConversationReview, Customer, CustomerPhone, Reschedule
from apps.outbox import services as outbox
from apps.outbox.hooks import hooks as outbox_hooks
from nevermisscall.errors import BusinessRuleViolation, Conflict, NotFound
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
        # A number merged into another customer (``CustomerPhone``) finds that customer: one query.
        customer = (
            Customer.objects.select_for_update()
            .filter(Q(phone=e164) | Q(pk__in=CustomerPhone.objects.filter(phone=e164).values("customer_id")))
            .first()
        )
        created = customer is None
        if created:
            try:
                with transaction.atomic():  # A savepoint: the statements get_or_create would run.
                    customer = Customer.objects.create(
                        phone=e164, name=name, email=email, address=address, language=language or "en", notes=notes
                    )
            except IntegrityError:  # Created by a concurrent request since our read.
                customer, created = Customer.objects.select_for_update().get(phone=e164), False
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
    tags: list | None = None,
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
            tags=tags or [],
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


UNSET = object()
# Fields ``appointment_update`` may change besides the time and status.
APPOINTMENT_DETAIL_FIELDS = (
    "notes",
    "job_type",
    "trade",
    "is_emergency",
    "estimated_value",
    "address",
    "technician_id",
    "tags",
)


def _reschedule_record(*, appointment: Appointment, before: tuple, moved_by: str, actor_id, conversation_id) -> None:
    """Record the move just saved from ``before`` (start, end) to the times ``appointment`` holds
    (its row is locked): the customer's open request is completed, otherwise a ``moved`` row is
    written."""
    now = timezone.now()
    moved = {
        "status": Reschedule.Status.MOVED,
        "moved_by": moved_by,
        "from_start": before[0],
        "from_end": before[1],
        "to_start": appointment.start,
        "to_end": appointment.end,
        "actor_id": actor_id,
        "moved_at": now,
    }
    if conversation_id is not None:
        moved["conversation_id"] = conversation_id
    if not Reschedule.objects.filter(appointment=appointment, status=Reschedule.Status.REQUESTED).update(**moved):
        Reschedule.objects.create(appointment=appointment, **moved)


def appointment_update(
    *,
    appointment: Appointment,
    starts_at: datetime | None = None,
    duration_min: int | None = None,
    ends_at: datetime | None = None,
    status: str | None = None,
    moved_by: str | None = None,
    actor_id=None,
    conversation_id=None,
    **details,
) -> Appointment:
    """Reschedule, change status or details (``APPOINTMENT_DETAIL_FIELDS``). Moving onto a taken
    slot, or re-activating a cancelled appointment whose slot was taken since, is a ``Conflict``;
    the database decides (the exclusion constraint), and on a refusal nothing changes.

    A change of time needs ``moved_by`` (``Reschedule.MovedBy``): the move is recorded as a
    ``Reschedule`` (with ``actor_id`` and ``conversation_id`` when known) in the savepoint of the
    write, from the times read under the row's lock, so a refused move records nothing."""
    unknown = set(details) - set(APPOINTMENT_DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"appointment_update() got unexpected fields {sorted(unknown)}")
    duration = timedelta(minutes=duration_min) if duration_min is not None else appointment.end - appointment.start
    timed = starts_at is not None or duration_min is not None or ends_at is not None
    if timed:
        if moved_by not in Reschedule.MovedBy.values:
            raise TypeError("appointment_update() moving an appointment needs moved_by (Reschedule.MovedBy)")
        appointment.start = starts_at or appointment.start
        appointment.end = ends_at or appointment.start + duration
        if appointment.end <= appointment.start:
            appointment.refresh_from_db()
            raise BusinessRuleViolation("An appointment must end after it starts.")
    if status is not None:
        appointment.status = status
    for field_name, value in details.items():
        setattr(appointment, field_name, value)

    def write():
        before = None
        if timed:
            before = Appointment.objects.select_for_update().values_list("start", "end").get(pk=appointment.pk)
        appointment.save(update_fields=["start", "end", "status", *details, "updated_at"])
        if before is not None and before != (appointment.start, appointment.end):
            _reschedule_record(
                appointment=appointment,
                before=before,
                moved_by=moved_by,
                actor_id=actor_id,
                conversation_id=conversation_id,
            )

    try:
        _write_against_overlap(write)
    except (Conflict, IntegrityError, OperationalError):
        appointment.refresh_from_db()
        raise
    publish_event(
        "dashboard_update",
        {"entity": "appointment", "action": "updated", **appointment_payload(appointment)},
        source_service=SOURCE_SERVICE,
    )
    return appointment


def _local_time_text(moment: datetime, language: str) -> str:
    """``moment`` in the business's time zone, written for the customer ("Tuesday 1 December, 9 a.m.")."""
    local = moment.astimezone(zoneinfo.ZoneInfo(connection.tenant.timezone))
    with translation.override(language or "en"):
        return f"{date_format(local, 'l j F')}, {date_format(local, 'TIME_FORMAT')}"


def reschedule_request(*, appointment: Appointment, moved_by: str, conversation_id=None) -> None:
    """Record that the customer asked to move ``appointment`` (a ``requested`` row, no new time
    yet), once: while a request is open another one adds nothing (one statement, ``ON CONFLICT DO
    NOTHING`` on the open-request index). The next move completes it."""
    Reschedule.objects.bulk_create(
        [
            Reschedule(
                appointment=appointment,
                status=Reschedule.Status.REQUESTED,
                moved_by=moved_by,
                from_start=appointment.start,
                from_end=appointment.end,
                conversation_id=conversation_id,
                requested_at=timezone.now(),
            )
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def appointment_reschedule(*, appointment_id, start: datetime, actor_id=None, notify: bool = True) -> Appointment:
    """Move an appointment to ``start`` keeping its length (the dashboard's drag), under its row
    lock, and text the customer the new time through the outbox (cause: the appointment).

    A taken slot raises ``Conflict`` and nothing changes (no move, no text). A customer who replied
    STOP is not texted; the move still happens."""
    locked = Appointment.objects.select_for_update().select_related("customer").filter(pk=appointment_id).first()
    if locked is None:
        raise NotFound("Appointment not found.")
    if locked.status not in (Appointment.Status.SCHEDULED, Appointment.Status.CONFIRMED):
        raise BusinessRuleViolation("Only a booked or confirmed appointment can be moved.")
    if locked.start == start:
        return locked
    appointment = appointment_update(
        appointment=locked, starts_at=start, moved_by=Reschedule.MovedBy.CALENDAR, actor_id=actor_id
    )
    customer = appointment.customer
    if notify and not outbox_hooks.is_opted_out(customer.phone):
        tenant = connection.tenant
        with translation.override(customer.language or "en"):
            body = _("%(business)s: your appointment has moved to %(when)s. Reply to this text with any question.") % {
                "business": tenant.name,
                "when": _local_time_text(appointment.start, customer.language),
            }
        outbox.delivery_queue_sms(
            to=customer.phone,
            body=body,
            purpose="appointment_rescheduled",
            idempotency_key=f"appointment-rescheduled:{appointment.id}:{appointment.updated_at.timestamp()}",
            cause=("appointment", appointment.id),
            check_opt_out=False,
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


# --- customers ------------------------------------------------------------------------------------

CUSTOMER_FIELDS = ("name", "email", "address", "notes", "language")


def _phone_taken(e164: str, *, exclude_pk=None) -> bool:
    customers = Customer.objects.filter(phone=e164)
    phones = CustomerPhone.objects.filter(phone=e164)
    if exclude_pk is not None:
        customers, phones = customers.exclude(pk=exclude_pk), phones.exclude(customer_id=exclude_pk)
    return customers.exists() or phones.exists()


def customer_create(*, phone: str, **fields) -> Customer:
    """A new customer; ``Conflict`` when the number already belongs to one (their own or merged in)."""
    e164 = to_e164(phone)
    if _phone_taken(e164):
        raise Conflict("A customer with this phone number already exists.")
    try:
        with transaction.atomic():
            customer = Customer.objects.create(phone=e164, **{k: v for k, v in fields.items() if k in CUSTOMER_FIELDS})
    except IntegrityError as exc:  # Created by someone else between the check and the insert.
        raise Conflict("A customer with this phone number already exists.") from exc
    publish_event(
        "dashboard_update",
        {"entity": "customer", "action": "created", "customer_id": str(customer.id)},
        source_service=SOURCE_SERVICE,
    )
    return customer


def customer_update(*, customer: Customer, phone: str | None = None, **fields) -> Customer:
    changed = [name for name in fields if name in CUSTOMER_FIELDS]
    for name in changed:
        setattr(customer, name, fields[name])
    if phone is not None:
        e164 = to_e164(phone)
        if e164 != customer.phone:
            if _phone_taken(e164, exclude_pk=customer.pk):
                raise Conflict("A customer with this phone number already exists.")
            customer.phone = e164
            changed.append("phone")
    if changed:
        try:
            with transaction.atomic():
                customer.save(update_fields=[*changed, "updated_at"])
        except IntegrityError as exc:
            customer.refresh_from_db()
            raise Conflict("A customer with this phone number already exists.") from exc
    return customer


def customer_delete(*, customer: Customer) -> None:
    """Remove a customer without appointments; one with appointments is kept (merge it instead)."""
    with transaction.atomic():
        locked = Customer.objects.select_for_update().filter(pk=customer.pk).first()
        if locked is None:
            raise NotFound("Customer not found.")
        if locked.appointments.exists():
            raise Conflict("This customer has appointments; merge the record into another instead of deleting it.")
        locked.delete()


@dataclass(frozen=True)
class MergeResult:
    survivor: Customer
    duplicate_id: str
    moved: dict


def customer_merge(*, survivor_id, duplicate_id) -> MergeResult:
    """Fold the duplicate record into the survivor in one transaction, both rows locked (in id
    order, so two merges of the same pair cannot deadlock; the second finds one gone: ``NotFound``).

    Everything pointing at the duplicate moves: every foreign key to ``Customer`` (appointments, and
    whatever other apps add, found through the model's relations), its extra numbers, and its own
    number, kept as the survivor's extra number. Calls, conversations, messages, opt-outs and
    consents are keyed by number, so they follow the number: nothing is rewritten or lost, and a
    text from the old number reaches the survivor. Blank details of the survivor are filled from
    the duplicate; notes are joined."""
    if str(survivor_id) == str(duplicate_id):
        raise BusinessRuleViolation("A customer cannot be merged into itself.")
    with transaction.atomic():
        locked = {
            str(c.pk): c
            for c in Customer.objects.select_for_update().filter(pk__in=[survivor_id, duplicate_id]).order_by("pk")
        }
        survivor, duplicate = locked.get(str(survivor_id)), locked.get(str(duplicate_id))
        if survivor is None or duplicate is None:
            raise NotFound("Customer not found.")
        moved = {}
        for relation in Customer._meta.related_objects:
            if not (relation.one_to_many and relation.field.concrete) or relation.related_model is CustomerPhone:
                continue
            model = relation.related_model
            count = model._base_manager.filter(**{relation.field.name: duplicate}).update(
                **{relation.field.name: survivor}
            )
            moved[model._meta.label_lower] = count
        moved["crm.customerphone"] = CustomerPhone.objects.filter(customer=duplicate).update(customer=survivor)
        old_phone = duplicate.phone
        changed = []
        for field_name in ("name", "email", "address"):
            if not getattr(survivor, field_name) and getattr(duplicate, field_name):
                setattr(survivor, field_name, getattr(duplicate, field_name))
                changed.append(field_name)
        if duplicate.notes and duplicate.notes not in survivor.notes:
            survivor.notes = f"{survivor.notes}\n{duplicate.notes}".strip()
            changed.append("notes")
        duplicate.delete()
        CustomerPhone.objects.create(customer=survivor, phone=old_phone, merged_from=duplicate_id)
        if changed:
            survivor.save(update_fields=[*changed, "updated_at"])
    publish_event(
        "dashboard_update",
        {"entity": "customer", "action": "merged", "customer_id": str(survivor.id), "merged": str(duplicate_id)},
        source_service=SOURCE_SERVICE,
    )
    return MergeResult(survivor=survivor, duplicate_id=str(duplicate_id), moved=moved)


# --- conversation QA --------------------------------------------------------------------------------


def conversation_review_save(*, conversation_id, user=None, **fields) -> ConversationReview:
    """Store the QA review of a conversation (flags, tags, outcome, notes); only given fields change.
    The caller (the conversations app, which owns the conversation) has checked it exists."""
    with transaction.atomic():
        review, _ = ConversationReview.objects.select_for_update().get_or_create(conversation_id=conversation_id)
        for name in ("flags", "tags", "outcome", "notes"):
            if name in fields:
                setattr(review, name, fields[name])
        review.reviewed_by = getattr(user, "pk", None)
        review.save()
    return review
