"""Writes on calls: the lifecycle Twilio reports (incoming, screened, answered or missed), and the
hand-over of a missed call to the conversation (auto-text). Each runs in one transaction with the
call row locked, so a redelivered or concurrent webhook finds the call already settled.

The two status webhooks only record what Twilio said (``call_status_event_record``, one statement);
``call_status_events_apply`` (a Celery task, and the sweep for a lost hand-off) settles the call."""

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Min
from django.utils import timezone

from apps.conversations import services as conversation_services
from apps.telephony.models import Call, CallParticipant, CallStatusEvent
from apps.tenants.config.models import BusinessConfig
from nevermisscall import after_commit
from nevermisscall.db import execute_one, insert_sql
from nevermisscall.errors import BusinessRuleViolation, Conflict
from nevermisscall.events import publish_event

logger = logging.getLogger(__name__)

SOURCE = "telephony"
MISSED_DIAL_STATUSES = {
    "no-answer": Call.MissedReason.NO_ANSWER,
    "busy": Call.MissedReason.BUSY,
    "failed": Call.MissedReason.FAILED,
    "canceled": Call.MissedReason.CANCELED,
}
FINAL_CALL_STATUSES = {"completed", "busy", "no-answer", "failed", "canceled"}


def call_payload(call: Call) -> dict:
    return {
        "call_id": str(call.id),
        "call_sid": call.call_sid,
        "from_number": call.from_number,
        "to_number": call.to_number,
        "direction": call.direction,
        "status": call.status,
        "missed_reason": call.missed_reason,
        "duration": call.duration,
        "conversation_id": str(call.conversation_id) if call.conversation_id else None,
        "started_at": call.started_at,
    }


def _publish(event_type: str, call: Call) -> None:
    publish_event(event_type, call_payload(call), source_service=SOURCE)


def _locked_call(*, call_sid: str, defaults: dict) -> tuple[Call, bool]:
    """The call row, locked (created from ``defaults`` when Twilio's first word about it is a status)."""
    call = Call.objects.select_for_update().filter(call_sid=call_sid).first()
    if call is not None:
        return call, False
    try:
        with transaction.atomic():
            call = Call.objects.create(call_sid=call_sid, **defaults)
    except IntegrityError:  # Created concurrently by the other delivery.
        return Call.objects.select_for_update().get(call_sid=call_sid), False
    CallParticipant.objects.get_or_create(call=call, role=CallParticipant.Role.CALLER, phone_number=call.from_number)
    return call, True


def call_receive(
    *,
    call_sid: str,
    from_number: str,
    to_number: str,
    twilio_status: str = "ringing",
    direction: str = Call.Direction.INBOUND,
    forwarded_to: str = "",
    screening: bool = False,
    caller_name: str = "",
    caller_city: str = "",
    caller_state: str = "",
) -> tuple[Call, bool]:
    """Record an incoming call (once per CallSid: a redelivery finds it) and tell the dashboard.

    The call and its participants are inserted by one statement (one round trip, atomic by itself):
    a duplicate CallSid inserts nothing, and the existing call is read instead.
    """
    call = Call(
        call_sid=call_sid,
        from_number=from_number,
        to_number=to_number,
        direction=direction,
        twilio_status=twilio_status,
        forwarded_to=forwarded_to,
        screening=screening,
        caller_name=caller_name[:200],
        caller_city=caller_city[:100],
        caller_state=caller_state[:50],
    )
    participants = [CallParticipant(call=call, role=CallParticipant.Role.CALLER, phone_number=from_number)]
    if forwarded_to:
        participants.append(CallParticipant(call=call, role=CallParticipant.Role.BUSINESS, phone_number=forwarded_to))
    call_sql, call_params = insert_sql([call], returning=("started_at",))
    participants_sql, participants_params = insert_sql(participants)
    try:
        # Both INSERTs are compiled by Django (values are parameters), so nothing here is interpolated input.
        statement = (
            f"WITH new_call AS ({call_sql}), new_participants AS ({participants_sql}) SELECT started_at FROM new_call"  # noqa: S608
        )
        (call.started_at,) = execute_one(statement, call_params + participants_params)
    except IntegrityError:
        return Call.objects.get(call_sid=call_sid), False
    call._state.adding = False
    _publish("incoming_call", call)
    return call, True


def _mark_missed(call: Call, reason: str, config=None) -> None:
    call.status = Call.Status.MISSED
    call.missed_reason = reason
    call.ended_at = call.ended_at or timezone.now()
    if call.from_number.startswith("+"):
        outcome = conversation_services.auto_reply_for_missed_call(
            call_sid=call.call_sid, customer_number=call.from_number, business_number=call.to_number, config=config
        )
        call.conversation, call.auto_reply_skipped = outcome.conversation, outcome.skipped
    else:  # Withheld caller ID ("anonymous"): nobody to text back.
        call.auto_reply_skipped = "no_caller_id"
    call.save()
    _publish("call_missed", call)
    _publish("call_ended", call)
    if call.auto_reply_skipped:
        logger.info("missed call %s: no auto-text (%s)", call.call_sid, call.auto_reply_skipped)


def _mark_answered(call: Call, duration: int | None) -> None:
    now = timezone.now()
    already_announced = call.status == Call.Status.IN_PROGRESS
    call.status = Call.Status.ANSWERED
    call.answered_at = call.answered_at or now
    call.ended_at = call.ended_at or now
    if duration is not None:
        call.duration = duration
    call.save()
    if not already_announced:
        _publish("call_answered", call)
    _publish("call_ended", call)


def dial_outcome(*, dial_status: str, dial_call_sid: str, screening: bool, screen_accepted: bool) -> str:
    """What a ``<Dial>`` result makes of an unsettled call: ``answered`` only if the leg was bridged
    and, with screening, the owner pressed 1; otherwise the missed reason."""
    if dial_status in MISSED_DIAL_STATUSES:
        return MISSED_DIAL_STATUSES[dial_status]
    if screening and not screen_accepted:
        return Call.MissedReason.NOT_ACCEPTED
    if dial_status in ("completed", "answered") and (dial_call_sid or screen_accepted):
        return Call.Status.ANSWERED
    return Call.MissedReason.NOT_BRIDGED


def call_record_dial_result(
    *,
    call_sid: str,
    from_number: str,
    to_number: str,
    dial_status: str,
    dial_call_sid: str = "",
    dial_duration: int | None = None,
    twilio_status: str = "",
) -> Call:
    """The ``<Dial action>`` callback: the forwarded leg ended. Answered, or missed — and the caller
    gets the text. Runs in ``call_status_events_apply``'s transaction."""
    call, _ = _locked_call(
        call_sid=call_sid, defaults={"from_number": from_number, "to_number": to_number, "twilio_status": twilio_status}
    )
    if call.is_final:
        return call  # Redelivered, or the status callback settled it first.
    call.dial_status = dial_status
    call.dial_call_sid = dial_call_sid or call.dial_call_sid
    if twilio_status:
        call.twilio_status = twilio_status
    outcome = dial_outcome(
        dial_status=dial_status,
        dial_call_sid=dial_call_sid,
        screening=call.screening,
        screen_accepted=call.screen_accepted_at is not None,
    )
    if outcome == Call.Status.ANSWERED:
        _mark_answered(call, dial_duration)
    else:
        _mark_missed(call, outcome)
    return call


@transaction.atomic
def call_mark_unforwarded(*, call_sid: str, config=None) -> Call:
    """No forwarding number is configured: nobody can answer, so the caller gets the text at once."""
    call = Call.objects.select_for_update().get(call_sid=call_sid)
    if not call.is_final:
        _mark_missed(call, Call.MissedReason.NO_FORWARDING, config)
    return call


@transaction.atomic
def call_screen_accept(*, call_sid: str) -> Call | None:
    """The owner pressed 1 on the whisper: the call is being answered by a person."""
    call = Call.objects.select_for_update().filter(call_sid=call_sid).first()
    if call is None or call.is_final or call.screen_accepted_at is not None:
        return call
    call.screen_accepted_at = timezone.now()
    call.answered_at = call.screen_accepted_at
    call.status = Call.Status.IN_PROGRESS
    call.save(update_fields=["screen_accepted_at", "answered_at", "status", "updated_at"])
    _publish("call_answered", call)
    return call


def call_record_status(
    *, call_sid: str, from_number: str, to_number: str, twilio_status: str, duration: int | None = None
) -> Call:
    """The call's status callback (in ``call_status_events_apply``'s transaction). A final status on a call nobody settled (the caller hung up while
    it rang, or no ``<Dial>`` result came) makes it missed, unless someone had accepted it."""
    call, _ = _locked_call(
        call_sid=call_sid, defaults={"from_number": from_number, "to_number": to_number, "twilio_status": twilio_status}
    )
    if call.twilio_status == twilio_status and (call.is_final or twilio_status not in FINAL_CALL_STATUSES):
        return call  # The same status again.
    call.twilio_status = twilio_status
    if call.is_final or twilio_status not in FINAL_CALL_STATUSES:
        if call.status == Call.Status.ANSWERED and duration is not None and call.duration is None:
            call.duration = duration
        call.save()
        return call
    if call.status == Call.Status.IN_PROGRESS:
        _mark_answered(call, call.duration if call.duration is not None else duration)
    elif twilio_status in MISSED_DIAL_STATUSES:
        _mark_missed(call, MISSED_DIAL_STATUSES[twilio_status])
    else:
        _mark_missed(call, Call.MissedReason.NOT_BRIDGED)
    return call


# --- status webhooks: record in the request, settle in a task ---------------------------------------


@dataclass(frozen=True)
class RecordedOutcome:
    """What the webhook needs for its answer: whether this delivery was new, the call as it was, and
    the business's language for anything spoken."""

    recorded: bool
    call_status: str | None  # None: no call row yet (Twilio's first word about it is a status).
    screening: bool
    screen_accepted: bool
    language: str


_RECORD_SQL = """
    WITH recorded AS (
        INSERT INTO {events} (call_sid, kind, status, data, created_at)
        VALUES (%s, %s, %s, %s::jsonb, now())
        ON CONFLICT (call_sid, kind, status) DO NOTHING
        RETURNING id
    )
    SELECT EXISTS (SELECT 1 FROM recorded), call.status, call.screening, call.screen_accepted_at IS NOT NULL,
        (SELECT language FROM {config} WHERE id = 1)
    FROM (SELECT 1) AS one LEFT JOIN {calls} AS call ON call.call_sid = %s
"""


def _enqueue_apply(call_sid: str) -> None:
    """Hand the call's recorded outcomes to a worker after the commit, from the process's publisher
    thread (the response does not wait for the broker); the sweep covers a lost hand-off."""
    from apps.telephony.tasks import apply_call_status_events

    after_commit.enqueue(apply_call_status_events, call_sid, schema=connection.schema_name)


def call_status_event_record(*, call_sid: str, kind: str, status: str, data: dict) -> RecordedOutcome:
    """Record a status callback durably and schedule its work, in one statement (atomic by itself:
    no BEGIN / COMMIT in autocommit). A redelivery (same call, kind and status) inserts nothing and
    schedules nothing. The call's row and the business's language are read in the same statement for
    the TwiML answer."""
    sql = _RECORD_SQL.format(
        events=connection.ops.quote_name(CallStatusEvent._meta.db_table),
        calls=connection.ops.quote_name(Call._meta.db_table),
        config=connection.ops.quote_name(BusinessConfig._meta.db_table),
    )
    recorded, call_status, screening, screen_accepted, language = execute_one(
        sql, [call_sid, kind, status[:20], json.dumps(data), call_sid]
    )
    if recorded:
        _enqueue_apply(call_sid)
    return RecordedOutcome(
        bool(recorded), call_status, bool(screening), bool(screen_accepted), language or settings.LANGUAGE_CODE
    )


def dial_result_is_missed(outcome: RecordedOutcome, *, dial_status: str, dial_call_sid: str) -> bool:
    """Whether the ``<Dial>`` result leaves the call missed (the answer tells a caller still on the
    line that a text is coming): the call's final status if settled, else what the task will decide."""
    if outcome.call_status in (Call.Status.ANSWERED, Call.Status.MISSED):
        return outcome.call_status == Call.Status.MISSED
    decided = dial_outcome(
        dial_status=dial_status,
        dial_call_sid=dial_call_sid,
        screening=outcome.screening,
        screen_accepted=outcome.screen_accepted,
    )
    return decided != Call.Status.ANSWERED


@transaction.atomic
def call_status_events_apply(*, call_sid: str) -> int:
    """Settle the call from its recorded, unapplied outcomes, in the order they arrived, and mark them
    applied in the same transaction. Safe to run twice and concurrently: the events are locked, and a
    second run waits for the first and then finds nothing left (the lock re-checks ``processed_at``);
    the call row lock and the settled-call checks below it stay as before."""
    events = list(
        CallStatusEvent.objects.select_for_update().filter(call_sid=call_sid, processed_at__isnull=True).order_by("id")
    )
    for event in events:
        if event.kind == CallStatusEvent.Kind.DIAL:
            call_record_dial_result(call_sid=call_sid, **event.data)
        else:
            call_record_status(call_sid=call_sid, **event.data)
    if events:
        CallStatusEvent.objects.filter(pk__in=[event.pk for event in events]).update(processed_at=timezone.now())
    return len(events)


def call_status_events_due(*, older_than_seconds: int) -> list[str]:
    """Calls with outcomes recorded at least ``older_than_seconds`` ago and never applied."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        CallStatusEvent.objects.filter(processed_at__isnull=True, created_at__lte=cutoff)
        .order_by("call_sid")
        .values_list("call_sid", flat=True)
        .distinct()[:1000]
    )


def call_status_events_pending_since():
    """When the oldest outcome still unapplied was recorded (None: all applied)."""
    return CallStatusEvent.objects.filter(processed_at__isnull=True).aggregate(at=Min("created_at"))["at"]


@transaction.atomic
def call_mark_missed(*, call: Call) -> Call:
    """An operator or service says this call was missed (``/internal/calls/{id}/missed``)."""
    locked = Call.objects.select_for_update().get(pk=call.pk)
    if locked.status == Call.Status.ANSWERED:
        raise BusinessRuleViolation("This call was answered.")
    if locked.status != Call.Status.MISSED:
        _mark_missed(locked, Call.MissedReason.MANUAL)
    return locked


@transaction.atomic
def call_update(*, call: Call, data: dict) -> Call:
    locked = Call.objects.select_for_update().get(pk=call.pk)
    for name in ("notes", "caller_name"):
        if name in data:
            setattr(locked, name, data[name])
    locked.save()
    return locked


@transaction.atomic
def call_metadata_update(*, call: Call, metadata: dict, replace: bool) -> Call:
    locked = Call.objects.select_for_update().get(pk=call.pk)
    locked.metadata = dict(metadata) if replace else {**locked.metadata, **metadata}
    locked.save(update_fields=["metadata", "updated_at"])
    return locked


def call_participant_add(*, call: Call, role: str, phone_number: str, name: str) -> CallParticipant:
    try:
        with transaction.atomic():
            return CallParticipant.objects.create(call=call, role=role, phone_number=phone_number, name=name)
    except IntegrityError:
        raise Conflict("This participant is already on the call.")


@transaction.atomic
def call_conversation_create(*, call: Call):
    """Open (or join) the caller's conversation for this call."""
    locked = Call.objects.select_for_update().get(pk=call.pk)
    if locked.conversation_id is not None:
        raise Conflict("This call already has a conversation.")
    conversation, _ = conversation_services.conversation_create_for_call(
        customer_number=locked.from_number, business_number=locked.to_number
    )
    locked.conversation = conversation
    locked.save(update_fields=["conversation", "updated_at"])
    return conversation


@transaction.atomic
def call_answer_by_assistant(*, call_sid: str) -> Call | None:
    """The AI voice assistant picked up: the call is answered (not missed, so no missed-call text)."""
    call = Call.objects.select_for_update().filter(call_sid=call_sid).first()
    if call is None or call.is_final or call.status == Call.Status.IN_PROGRESS:
        return call
    call.answered_at = timezone.now()
    call.status = Call.Status.IN_PROGRESS
    call.save(update_fields=["answered_at", "status", "updated_at"])
    _publish("call_answered", call)
    return call
