"""Writes on conversations, messages and opt-outs. Each runs in one transaction; events and tasks
go out after the commit (``publish_event``, ``transaction.on_commit``)."""

import logging
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.conversations import keywords
from apps.conversations.models import Conversation, Message, OptOut
from apps.conversations.selectors import auto_reply_history, conversation_is_open, is_opted_out
from apps.tenants.config.services import config_get
from nevermisscall import handoff
from nevermisscall.db import insert_sql
from nevermisscall.errors import BusinessRuleViolation
from nevermisscall.events import publish_event

logger = logging.getLogger(__name__)

SOURCE = "conversations"
DEFAULT_AUTO_REPLY = "Thanks for calling! We missed your call but got your message. We'll get back to you shortly."


def message_payload(message: Message) -> dict:
    return {
        "message_id": str(message.id),
        "conversation_id": str(message.conversation_id),
        "direction": message.direction,
        "kind": message.kind,
        "from_number": message.from_number,
        "to_number": message.to_number,
        "body": message.body,
        "status": message.status,
        "provider_sid": message.provider_sid,
        "created_at": message.created_at,
    }


def _tenant():
    return connection.tenant


_in_process = threading.local()


@contextmanager
def sends_collected():
    """Inside, queued messages are collected (the yielded list) instead of enqueued, for a worker
    that sends them itself once its transaction committed: one task per missed call instead of two.
    The rows are queued either way, so the outbox sweep still covers a process that dies first."""
    collected = []
    previous = getattr(_in_process, "collected", None)
    _in_process.collected = collected
    try:
        yield collected
    finally:
        _in_process.collected = previous


def _enqueue_send(message_id) -> None:
    """Hand the message to a worker after the commit; the outbox sweep covers a lost hand-off."""
    collected = getattr(_in_process, "collected", None)
    if collected is not None:
        collected.append(message_id)
        return
    schema = connection.schema_name

    def enqueue():
        from apps.conversations.tasks import send_sms

        try:
            send_sms.apply_async(args=[str(message_id)], headers={"_schema_name": schema})
        except Exception:  # Broker down: the row is committed as queued and the sweep will send it.
            logger.warning("could not enqueue message %s; the outbox sweep will", message_id, exc_info=True)

    transaction.on_commit(enqueue)


# --- conversations ---------------------------------------------------------------------------------


_OPEN_CONVERSATION_SQL = """
    INSERT INTO {table} (id, customer_number, business_number, customer_name, status, handled_by, notes, tags,
                         created_at, updated_at)
    VALUES (%s, %s, %s, '', %s, %s, '', '[]'::jsonb, now(), now())
    ON CONFLICT (customer_number) WHERE status = %s DO UPDATE SET updated_at = EXCLUDED.updated_at
    RETURNING *, (xmax = 0) AS inserted
"""


def conversation_open_locked(*, customer_number: str, business_number: str) -> tuple[Conversation, bool]:
    """The customer's active conversation, locked, or a new one. Call inside ``transaction.atomic``.

    One ``INSERT … ON CONFLICT DO UPDATE`` against the partial unique index (one active conversation
    per customer): it creates the row or locks the existing one, so two requests racing to open it
    end up with the same row, the second waiting for the first to commit.
    """
    sql = _OPEN_CONVERSATION_SQL.format(table=connection.ops.quote_name(Conversation._meta.db_table))
    active = Conversation.Status.ACTIVE
    params = [uuid.uuid4(), customer_number, business_number, active, Conversation.Handler.AI, active]
    conversation = next(iter(Conversation.objects.raw(sql, params)))
    return conversation, bool(conversation.inserted)


@transaction.atomic
def conversation_create_for_call(*, customer_number: str, business_number: str) -> tuple[Conversation, bool]:
    return conversation_open_locked(customer_number=customer_number, business_number=business_number)


@transaction.atomic
def conversation_update(*, conversation: Conversation, data: dict) -> Conversation:
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    for name in ("customer_name", "notes", "tags"):
        if name in data:
            setattr(locked, name, data[name])
    if data.get("status") == Conversation.Status.RESOLVED and locked.status != Conversation.Status.RESOLVED:
        return conversation_resolve(conversation=locked)
    if data.get("handled_by") == Conversation.Handler.AI and locked.handled_by != Conversation.Handler.AI:
        locked.handled_by = Conversation.Handler.AI
        locked.taken_over_by = None
        locked.taken_over_at = None
        publish_event("ai_takeover", {"conversation_id": str(locked.id)}, source_service=SOURCE)
    locked.save()
    return locked


@transaction.atomic
def conversation_takeover(*, conversation: Conversation, user) -> Conversation:
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.status != Conversation.Status.ACTIVE:
        raise BusinessRuleViolation("A resolved conversation cannot be taken over.")
    if locked.handled_by != Conversation.Handler.HUMAN:
        locked.handled_by = Conversation.Handler.HUMAN
        locked.taken_over_by = user.pk
        locked.taken_over_at = timezone.now()
        locked.save(update_fields=["handled_by", "taken_over_by", "taken_over_at", "updated_at"])
        publish_event(
            "human_takeover",
            {"conversation_id": str(locked.id), "user_id": str(user.pk)},
            source_service=SOURCE,
        )
    return locked


@transaction.atomic
def conversation_resolve(*, conversation: Conversation) -> Conversation:
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.status != Conversation.Status.RESOLVED:
        locked.status = Conversation.Status.RESOLVED
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["status", "resolved_at", "updated_at"])
        publish_event(
            "dashboard_update",
            {"entity": "conversation", "conversation_id": str(locked.id), "status": locked.status},
            source_service=SOURCE,
        )
    return locked


# --- outbound messages (the outbox) --------------------------------------------------------------


def message_queue_outbound(
    *,
    conversation: Conversation,
    body: str,
    kind: str,
    idempotency_key: str | None = None,
    sent_by=None,
    opt_out_checked: bool = False,
) -> Message:
    """Store an outbound SMS as ``queued`` in the caller's transaction; a worker sends it after commit."""
    if not opt_out_checked and is_opted_out(phone_number=conversation.customer_number):
        raise BusinessRuleViolation("This customer replied STOP; no message can be sent to them.")
    now = timezone.now()
    message = Message(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        kind=kind,
        from_number=conversation.business_number,
        to_number=conversation.customer_number,
        body=body,
        status=Message.Status.QUEUED,
        idempotency_key=idempotency_key,
        sent_by=sent_by,
    )
    # The outbox row and the conversation's last-message time in one round trip (both compiled by
    # Django, values as parameters); a duplicate idempotency key raises IntegrityError as before.
    message_sql, message_params = insert_sql([message], returning=("created_at",))
    conversation_table = connection.ops.quote_name(Conversation._meta.db_table)
    statement = (
        f"WITH new_message AS ({message_sql}), touched AS ("  # noqa: S608
        f"UPDATE {conversation_table} SET last_message_at = %s, updated_at = %s WHERE id = %s"
        ") SELECT created_at FROM new_message"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*message_params, now, now, conversation.pk])
        (message.created_at,) = cursor.fetchone()
    message._state.adding = False
    conversation.last_message_at = now
    _enqueue_send(message.id)
    return message


@transaction.atomic
def message_send_by_staff(*, conversation: Conversation, body: str, user) -> Message:
    """Staff write to the customer: the AI steps back (human takeover) and the text goes out by SMS."""
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.status != Conversation.Status.ACTIVE:
        raise BusinessRuleViolation("The conversation is resolved; reopen it by texting from a new conversation.")
    if locked.handled_by != Conversation.Handler.HUMAN:
        conversation_takeover(conversation=locked, user=user)
        locked.refresh_from_db()
    message = message_queue_outbound(conversation=locked, body=body, kind=Message.Kind.HUMAN, sent_by=user.pk)
    publish_event("new_message", message_payload(message), source_service=SOURCE)
    return message


@dataclass(frozen=True)
class AutoReplyOutcome:
    conversation: Conversation
    message: Message | None
    skipped: str  # "" when a message was queued


def auto_reply_for_missed_call(
    *, call_sid: str, customer_number: str, business_number: str, config=None
) -> AutoReplyOutcome:
    """Open or continue the caller's conversation and queue the missed-call text, at most once per
    caller per cooldown window and never while a conversation with them is open. Runs inside the
    caller's transaction, which holds the call's row lock (so this runs once per call); the
    conversation row lock serialises concurrent calls from one caller. The unique idempotency key
    ``auto-reply:<CallSid>`` is the database's backstop."""
    conversation, created = conversation_open_locked(customer_number=customer_number, business_number=business_number)
    opted_out, last = auto_reply_history(phone_number=customer_number)
    if opted_out:
        return AutoReplyOutcome(conversation, None, "opted_out")
    if not created and conversation_is_open(conversation):
        return AutoReplyOutcome(conversation, None, "conversation_open")
    config = config or config_get()
    if last is not None and last >= timezone.now() - timedelta(minutes=config.sms_cooldown_minutes):
        return AutoReplyOutcome(conversation, None, "cooldown")
    message = message_queue_outbound(
        conversation=conversation,
        body=render_template(config.auto_reply_template or DEFAULT_AUTO_REPLY),
        kind=Message.Kind.AUTO_REPLY,
        idempotency_key=f"auto-reply:{call_sid}",
        opt_out_checked=True,
    )
    return AutoReplyOutcome(conversation, message, "")


def render_template(template: str) -> str:
    business = _tenant()
    return template.replace("{business_name}", business.name).replace("{business_phone}", business.phone or "")


# --- sending (called by the send_sms task) ------------------------------------------------------


def message_claim(*, message_id) -> Message | None:
    """Claim a queued message for sending (or one whose worker died); None if another worker has it
    or it is done. A conditional UPDATE, so two workers can never both claim it."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.SMS_SENDING_STALE_SECONDS)
    claimable = Message.objects.filter(pk=message_id, direction=Message.Direction.OUTBOUND).filter(
        Q(status=Message.Status.QUEUED) | Q(status=Message.Status.SENDING, claimed_at__lt=stale)
    )
    if claimable.update(status=Message.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1) != 1:
        return None
    return Message.objects.get(pk=message_id)


def message_count_attempt(*, message: Message) -> None:
    Message.objects.filter(pk=message.pk).update(attempts=F("attempts") + 1)
    message.attempts += 1


@transaction.atomic
def message_mark_sent(*, message: Message, provider_sid: str) -> None:
    now = timezone.now()
    updated = Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        status=Message.Status.SENT, provider_sid=provider_sid, sent_at=now, error_code="", error_message=""
    )
    if updated:
        message.status, message.provider_sid, message.sent_at = Message.Status.SENT, provider_sid, now
        publish_event("message_sent", message_payload(message), source_service=SOURCE)


def message_release(*, message: Message, error: str) -> None:
    """Back to ``queued`` after a transient failure (or an open breaker): the sweep retries it."""
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        status=Message.Status.QUEUED, error_message=error[:500]
    )


def message_hold_unconfirmed(*, message: Message, error: str) -> None:
    """Keep the claim after a request whose outcome is unknown: the status callback settles it, or
    the claim goes stale and the sweep sends it again (sending.py)."""
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        error_message=f"unconfirmed: {error}"[:500]
    )


@transaction.atomic
def message_mark_failed(*, message: Message, code: str, error: str) -> None:
    Message.objects.filter(pk=message.pk, status__in=[Message.Status.SENDING, Message.Status.QUEUED]).update(
        status=Message.Status.FAILED, error_code=code, error_message=error[:500]
    )
    if code == "21610":
        opt_out_set(phone_number=message.to_number, source=OptOut.Source.PROVIDER, keyword="")


def message_cancel(*, message: Message, reason: str) -> None:
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        status=Message.Status.CANCELED, error_message=reason
    )


# Order of Twilio's message statuses; a callback never moves a message backwards.
STATUS_RANK = {
    Message.Status.QUEUED: 0,
    Message.Status.SENDING: 1,
    Message.Status.SENT: 2,
    Message.Status.DELIVERED: 3,
    Message.Status.UNDELIVERED: 3,
    Message.Status.FAILED: 3,
    Message.Status.CANCELED: 3,
}
TWILIO_STATUS = {
    "accepted": Message.Status.QUEUED,
    "scheduled": Message.Status.QUEUED,
    "queued": Message.Status.QUEUED,
    "sending": Message.Status.SENDING,
    "sent": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "read": Message.Status.DELIVERED,
    "undelivered": Message.Status.UNDELIVERED,
    "failed": Message.Status.FAILED,
    "canceled": Message.Status.CANCELED,
}


@transaction.atomic
def message_status_update(*, message_id=None, provider_sid: str, twilio_status: str, error_code: str = "") -> bool:
    """Apply a Twilio status callback; False when it changes nothing (unknown, stale or repeated)."""
    status = TWILIO_STATUS.get(twilio_status)
    if status is None:
        return False
    queryset = Message.objects.select_for_update().filter(direction=Message.Direction.OUTBOUND)
    message = None
    if message_id is not None:
        message = queryset.filter(pk=message_id).first()
    if message is None and provider_sid:
        message = queryset.filter(provider_sid=provider_sid).first()
    if message is None or STATUS_RANK[status] <= STATUS_RANK.get(message.status, 0):
        return False
    message.status = status
    if provider_sid and not message.provider_sid:
        message.provider_sid = provider_sid
    if status in (Message.Status.SENT, Message.Status.DELIVERED) and message.sent_at is None:
        message.sent_at = timezone.now()  # Its send's answer was lost (sending.py): the callback tells.
    if status == Message.Status.DELIVERED:
        message.delivered_at = timezone.now()
    if error_code:
        message.error_code = error_code
    message.save(update_fields=["status", "provider_sid", "sent_at", "delivered_at", "error_code", "updated_at"])
    if error_code == "21610":
        opt_out_set(phone_number=message.to_number, source=OptOut.Source.PROVIDER, keyword="")
    if status == Message.Status.DELIVERED:
        publish_event("message_delivered", message_payload(message), source_service=SOURCE)
    else:
        publish_event(
            "dashboard_update",
            {"entity": "message", **message_payload(message), "error_code": message.error_code},
            source_service=SOURCE,
        )
    return True


# --- opt-out ----------------------------------------------------------------------------------------


def opt_out_set(*, phone_number: str, source: str, keyword: str) -> OptOut:
    now = timezone.now()
    opt_out, _ = OptOut.objects.update_or_create(
        phone_number=phone_number,
        defaults={"opted_out": True, "source": source, "keyword": keyword, "opted_out_at": now},
    )
    # Anything still waiting for this number will not go out.
    Message.objects.filter(
        to_number=phone_number, direction=Message.Direction.OUTBOUND, status=Message.Status.QUEUED
    ).update(status=Message.Status.CANCELED, error_message="opted out")
    return opt_out


def opt_in_set(*, phone_number: str, keyword: str) -> None:
    OptOut.objects.filter(phone_number=phone_number, opted_out=True).update(
        opted_out=False, keyword=keyword, opted_in_at=timezone.now()
    )


# --- inbound messages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundOutcome:
    message: Message | None
    duplicate: bool
    keyword: str | None


@transaction.atomic
def message_receive(*, message_sid: str, from_number: str, to_number: str, body: str, media: list) -> InboundOutcome:
    """Store an inbound SMS in the sender's conversation, apply opt-out keywords, and hand the rest to
    the conversation engine after the commit. A redelivered MessageSid changes nothing."""
    if Message.objects.filter(provider_sid=message_sid).exists():
        return InboundOutcome(None, True, None)
    keyword = keywords.keyword_of(body)
    opted_out = is_opted_out(phone_number=from_number)
    if keyword in keywords.OPT_IN and not opted_out:
        keyword = None  # "Yes" to a question is a reply, not a re-subscription.
    conversation, _ = conversation_open_locked(customer_number=from_number, business_number=to_number)
    now = timezone.now()
    for_the_engine = keyword is None and not opted_out
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                direction=Message.Direction.INBOUND,
                kind=Message.Kind.CUSTOMER,
                from_number=from_number,
                to_number=to_number,
                body=body,
                media=media,
                status=Message.Status.RECEIVED,
                provider_sid=message_sid,
                handled_at=None if for_the_engine else now,  # Keywords are answered here.
            )
    except IntegrityError:  # The same MessageSid delivered twice at once.
        return InboundOutcome(None, True, None)
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now, updated_at=now)
    publish_event("new_message", message_payload(message), source_service=SOURCE)
    business = _tenant()
    if keyword in keywords.OPT_OUT:
        opt_out_set(phone_number=from_number, source=OptOut.Source.KEYWORD, keyword=keyword)
    elif keyword in keywords.OPT_IN:
        opt_in_set(phone_number=from_number, keyword=keyword)
        message_queue_outbound(
            conversation=conversation,
            body=f"{business.name}: you are subscribed again. Reply HELP for help, STOP to opt out.",
            kind=Message.Kind.KEYWORD,
        )
    elif keyword in keywords.HELP:
        if not opted_out:
            contact = business.phone or to_number
            message_queue_outbound(
                conversation=conversation,
                body=f"{business.name}: call or text us at {contact}. Reply STOP to opt out.",
                kind=Message.Kind.KEYWORD,
            )
    elif for_the_engine:
        from apps.conversations.tasks import handle_inbound_message

        # After the commit, from the publisher thread; the inbound sweep covers a lost hand-off.
        handoff.enqueue_on_commit(handle_inbound_message, str(message.id), schema=connection.schema_name)
    return InboundOutcome(message, False, keyword)
