"""Writes on conversations, messages and opt-outs. Each runs in one transaction; events, tasks and
texts go out after the commit (``publish_event``, ``nevermisscall.after_commit``, the outbox)."""

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext

from apps.conversations import keywords
from apps.conversations.leads import LEAD_FIELDS, lead_apply, lead_end_changes, lead_outcome_changes
from apps.conversations.models import (
    NEEDS_YOU_PRIORITY,
    Conversation,
    ConversationNote,
    ConversationRead,
    LeadOutcome,
    LeadOutcomeReason,
    Message,
    MessageStatusEvent,
    NeedsYouReason,
    OptOut,
    QuickReply,
)
from apps.conversations.selectors import auto_reply_history, conversation_is_open, opt_out_rows
from apps.outbox import services as outbox
from apps.outbox.models import Delivery
from apps.tenants.config.disclosure import disclosure_policy
from apps.tenants.config.selectors import missed_call_text
from apps.tenants.config.services import config_get
from nevermisscall import after_commit
from nevermisscall.db import insert_sql
from nevermisscall.errors import BusinessRuleViolation, Conflict, NotFound, ValidationFailed
from nevermisscall.events import publish_event
from nevermisscall.ids import parse_uuid

logger = logging.getLogger(__name__)

SOURCE = "conversations"
# The texts that come from the product, not a person: the first of them in a conversation may have to
# say so (``automation_disclosure_due``).
AUTOMATED_KINDS = (Message.Kind.AUTO_REPLY, Message.Kind.AI)


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
        "segments": message.segments,
        "created_at": message.created_at,
    }


def _tenant():
    return connection.tenant


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
    """Apply every field of ``data`` (name, notes, tags, a hand-back to the assistant, resolution) to
    the locked row and save it once: all of them or none."""
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    for name in ("customer_name", "notes", "tags"):
        if name in data:
            setattr(locked, name, data[name])
    if data.get("handled_by") == Conversation.Handler.AI or data.get("status") == Conversation.Status.RESOLVED:
        _needs_you_clear(locked, user=None, action="resolve" if data.get("status") else "hand_back")
    if data.get("handled_by") == Conversation.Handler.AI and locked.handled_by != Conversation.Handler.AI:
        locked.handled_by = Conversation.Handler.AI
        locked.taken_over_by = None
        locked.taken_over_at = None
        if locked.lead_outcome_reason == LeadOutcomeReason.OWNER_TOOK_OVER:  # Open again, the assistant's.
            lead_apply(locked, lead_outcome_changes(record=locked, outcome="", reason="", now=timezone.now()))
        publish_event("ai_takeover", {"conversation_id": str(locked.id)}, source_service=SOURCE)
    if data.get("status") == Conversation.Status.RESOLVED:
        _resolve(locked)  # After a hand-back, so the lead ends from the outcome it reopened.
    locked.save()
    return locked


@transaction.atomic
def conversation_takeover(*, conversation: Conversation, user) -> Conversation:
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.status != Conversation.Status.ACTIVE:
        raise BusinessRuleViolation("A resolved conversation cannot be taken over.")
    _needs_you_clear(locked, user=user, action="takeover")
    if locked.handled_by != Conversation.Handler.HUMAN:
        locked.handled_by = Conversation.Handler.HUMAN
        locked.taken_over_by = user.pk
        locked.taken_over_at = timezone.now()
        lead_apply(
            locked,
            lead_outcome_changes(
                record=locked,
                outcome=LeadOutcome.HANDED_TO_HUMAN,
                reason=LeadOutcomeReason.OWNER_TOOK_OVER,
                now=locked.taken_over_at,
                keep=(LeadOutcome.OPTED_OUT,),
            ),
        )
        locked.save(update_fields=["handled_by", "taken_over_by", "taken_over_at", *LEAD_FIELDS, "updated_at"])
        publish_event(
            "human_takeover",
            {"conversation_id": str(locked.id), "user_id": str(user.pk)},
            source_service=SOURCE,
        )
    return locked


@transaction.atomic
def conversation_resolve(*, conversation: Conversation, user=None) -> Conversation:
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    _needs_you_clear(locked, user=user, action="resolve")
    if _resolve(locked):
        locked.save(update_fields=["status", "resolved_at", *LEAD_FIELDS, "updated_at"])
    return locked


@transaction.atomic
def conversation_hand_back(*, conversation: Conversation, user) -> Conversation:
    """The team gives the conversation back to the assistant (it answers the customer's next text)."""
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.status != Conversation.Status.ACTIVE:
        raise BusinessRuleViolation("A resolved conversation cannot be handed back; reopen it first.")
    _needs_you_clear(locked, user=user, action="hand_back")
    return conversation_update(conversation=locked, data={"handled_by": Conversation.Handler.AI})


@transaction.atomic
def conversation_reopen(*, conversation: Conversation, user) -> Conversation:
    """A resolved conversation is active again, in the team's hands (the customer may have texted
    since: then their newer conversation is the open one, and this one stays resolved)."""
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.status == Conversation.Status.ACTIVE:
        return locked
    if Conversation.objects.filter(customer_number=locked.customer_number, status=Conversation.Status.ACTIVE).exists():
        raise Conflict("This customer has a newer open conversation; continue there.")
    locked.status = Conversation.Status.ACTIVE
    locked.resolved_at = None
    locked.handled_by = Conversation.Handler.HUMAN
    locked.taken_over_by = user.pk
    locked.taken_over_at = timezone.now()
    if locked.lead_outcome_reason == LeadOutcomeReason.RESOLVED:  # Resolving ended the lead; it is open again.
        lead_apply(locked, lead_outcome_changes(record=locked, outcome="", reason="", now=locked.taken_over_at))
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError:  # The customer's text opened a new conversation at the same moment.
        raise Conflict("This customer has a newer open conversation; continue there.") from None
    publish_event(
        "dashboard_update",
        {"entity": "conversation", "conversation_id": str(locked.id), "status": locked.status, "action": "reopen"},
        source_service=SOURCE,
    )
    return locked


# --- "Needs you" ------------------------------------------------------------------------------------


def needs_you_payload(conversation: Conversation) -> dict:
    """The live event of a conversation that needs a person: everything the toast, the banner and
    the browser notification show, so that no client has to look anything up."""
    return {
        "alert_type": "needs_you",
        "severity": "critical" if conversation.needs_you_reason == NeedsYouReason.EMERGENCY else "warning",
        "reason": conversation.needs_you_reason,
        "message": conversation.needs_you_text,
        "conversation_id": str(conversation.id),
        "customer_name": conversation.customer_name,
        "customer_number": conversation.customer_number,
        "needs_you_at": conversation.needs_you_at,
        "thread_url": f"/inbox/{conversation.id}/",
    }


def conversation_needs_you_set(*, conversation_id, reason: str, text: str) -> Conversation | None:
    """Mark the conversation as waiting for a person, in the caller's transaction, and tell every
    dashboard after the commit. A lesser reason never replaces a graver one still pending (an
    emergency stays an emergency until someone acts); the time is the latest event's, so the thread
    stays at the top. Returns the conversation, or None when there is none."""
    locked = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
    if locked is None:
        return None
    current = locked.needs_you_reason
    if not current or NEEDS_YOU_PRIORITY[NeedsYouReason(reason)] <= NEEDS_YOU_PRIORITY[NeedsYouReason(current)]:
        locked.needs_you_reason = reason
        locked.needs_you_text = (text or "")[:500]
    locked.needs_you_at = timezone.now()
    locked.save(update_fields=["needs_you_reason", "needs_you_text", "needs_you_at", "updated_at"])
    publish_event("system_alert", needs_you_payload(locked), source_service=SOURCE)
    if locked.needs_you_reason != current:  # A new alert, or a graver one: the team's phones too.
        _needs_you_push(locked)
    return locked


def _needs_you_push(conversation: Conversation) -> None:
    """Web Push to the browsers of the people who want it, each in their language (the dashboard's
    toast and alarm need an open tab; this reaches a phone in a pocket)."""
    from apps.accounts.models import User

    people = User.objects.filter(
        business_id=connection.tenant.pk, is_active=True, preferences__notifications__push=True
    ).only("id", "language")
    name = conversation.customer_name or conversation.customer_number
    for person in people:
        with translation.override(person.language):
            title = f"{conversation.get_needs_you_reason_display()}: {name}"
        outbox.push_queue_for_users(
            user_ids=[person.pk],
            title=title,
            body=conversation.needs_you_text,
            url=f"/inbox/{conversation.id}/",
            tag=f"conversation-{conversation.id}",
            event_key=f"needs_you:{conversation.id}:{conversation.needs_you_reason}:{conversation.needs_you_at.isoformat()}",
            cause=("conversation", conversation.id),
        )


def _needs_you_clear(locked: Conversation, *, user, action: str) -> bool:
    """Clear the locked conversation's "Needs you" (saved here) and tell the dashboards; False when
    it was not set."""
    if not locked.needs_you_reason and locked.needs_you_at is None:
        return False
    locked.needs_you_reason, locked.needs_you_text, locked.needs_you_at = "", "", None
    Conversation.objects.filter(pk=locked.pk).update(
        needs_you_reason="", needs_you_text="", needs_you_at=None, updated_at=timezone.now()
    )
    publish_event(
        "dashboard_update",
        {
            "entity": "conversation",
            "conversation_id": str(locked.id),
            "needs_you": False,
            "action": action,
            "user_id": str(user.pk) if user is not None else None,
        },
        source_service=SOURCE,
    )
    return True


@transaction.atomic
def conversation_mark_handled(*, conversation: Conversation, user) -> Conversation:
    """Someone dealt with it outside the thread (called the customer back): it stops needing you."""
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    _needs_you_clear(locked, user=user, action="mark_handled")
    return locked


# --- the team's side: notes, assignment, read markers, quick replies --------------------------------


@transaction.atomic
def conversation_note_add(*, conversation: Conversation, user, body: str) -> ConversationNote:
    """An internal note: stored and shown to the team, never queued for the customer."""
    body = (body or "").strip()
    if not body:
        raise ValidationFailed("Write the note first.", details={"body": ["This field may not be blank."]})
    note = ConversationNote.objects.create(
        conversation_id=conversation.pk,
        author_id=user.pk,
        author_name=(user.full_name or user.email)[:200],
        body=body[:4000],
    )
    publish_event(
        "dashboard_update",
        {"entity": "conversation_note", "conversation_id": str(conversation.pk), "note_id": str(note.id)},
        source_service=SOURCE,
    )
    return note


def _teammate(user_id):
    from apps.accounts.models import User

    return User.objects.filter(pk=user_id, business=connection.tenant, is_active=True).first()


@transaction.atomic
def conversation_assign(*, conversation: Conversation, assignee_id, user) -> Conversation:
    """Put a teammate of this business in charge (None: nobody). A user of another business, or an
    unknown one, is refused as if it did not exist."""
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    assignee = None
    if assignee_id:
        assignee = _teammate(parse_uuid(assignee_id)) if parse_uuid(assignee_id) else None
        if assignee is None:
            raise ValidationFailed("No such teammate.", details={"assignee": ["No such teammate in this business."]})
    locked.assigned_to = assignee.pk if assignee else None
    locked.save(update_fields=["assigned_to", "updated_at"])
    publish_event(
        "dashboard_update",
        {
            "entity": "conversation",
            "conversation_id": str(locked.pk),
            "assigned_to": str(locked.assigned_to) if locked.assigned_to else None,
            "user_id": str(user.pk),
        },
        source_service=SOURCE,
    )
    return locked


def conversation_mark_read(*, conversation: Conversation, user) -> None:
    """``user`` has seen the conversation as it is now (one upsert; other users' markers stay)."""
    ConversationRead.objects.bulk_create(
        [ConversationRead(conversation_id=conversation.pk, user_id=user.pk, read_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["conversation", "user_id"],
        update_fields=["read_at"],
    )


def conversation_mark_unread(*, conversation: Conversation, user) -> None:
    ConversationRead.objects.filter(conversation_id=conversation.pk, user_id=user.pk).delete()


def quick_reply_create(*, title: str, body: str) -> QuickReply:
    title, body = (title or "").strip(), (body or "").strip()
    errors = {}
    if not title:
        errors["title"] = ["This field may not be blank."]
    if not body:
        errors["body"] = ["This field may not be blank."]
    if errors:
        raise ValidationFailed("The quick reply needs a title and a text.", details=errors)
    position = (QuickReply.objects.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    return QuickReply.objects.create(title=title[:60], body=body[:1600], position=position)


def quick_reply_delete(*, quick_reply_id) -> None:
    try:
        pk = int(quick_reply_id)
    except (TypeError, ValueError):
        raise NotFound("No such quick reply.") from None
    deleted, _ = QuickReply.objects.filter(pk=pk).delete()
    if not deleted:
        raise NotFound("No such quick reply.")


def _resolve(locked: Conversation) -> bool:
    """Mark the locked, in-memory ``locked`` resolved and tell the dashboard after the commit; the
    caller saves it. False when it was resolved already (nothing changes)."""
    if locked.status == Conversation.Status.RESOLVED:
        return False
    locked.status = Conversation.Status.RESOLVED
    locked.resolved_at = timezone.now()
    lead_apply(locked, lead_end_changes(record=locked, reason=LeadOutcomeReason.RESOLVED, now=locked.resolved_at))
    publish_event(
        "dashboard_update",
        {"entity": "conversation", "conversation_id": str(locked.id), "status": locked.status},
        source_service=SOURCE,
    )
    return True


# --- outbound messages (the outbox) --------------------------------------------------------------


def message_queue_outbound(
    *,
    conversation: Conversation,
    body: str,
    kind: str,
    idempotency_key: str | None = None,
    sent_by=None,
    opt_out_checked: bool = False,
    proposed_slot: dict | None = None,
) -> Message:
    """Store an outbound SMS in the conversation and its delivery in the outbox, in the caller's
    transaction; the dispatcher sends it after the commit. Raises ValidationFailed for a body too
    long to send and BusinessRuleViolation for a number that opted out. ``proposed_slot``: the slot
    an assistant reply offers (stored with it)."""
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
        proposed_slot=proposed_slot,
    )
    delivery = outbox.sms_delivery_build(
        to=conversation.customer_number,
        body=body,
        purpose=kind,
        idempotency_key=f"message:{message.id}",
        sender=conversation.business_number,
        cause=("message", message.id),
        check_opt_out=not opt_out_checked,
    )
    message.segments = delivery.segments
    now = timezone.now()
    # The message, its delivery and the conversation's last-message time in one round trip (all
    # compiled by Django, values as parameters); a duplicate idempotency key raises IntegrityError.
    message_sql, message_params = insert_sql([message], returning=("created_at",))
    delivery_sql, delivery_params = insert_sql([delivery])
    conversation_table = connection.ops.quote_name(Conversation._meta.db_table)
    statement = (
        f"WITH new_message AS ({message_sql}), new_delivery AS ({delivery_sql}), touched AS ("  # noqa: S608
        f"UPDATE {conversation_table} SET last_message_at = %s, updated_at = %s WHERE id = %s"
        ") SELECT created_at FROM new_message"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*message_params, *delivery_params, now, now, conversation.pk])
        (message.created_at,) = cursor.fetchone()
    message._state.adding = delivery._state.adding = False
    conversation.last_message_at = now
    outbox.delivery_hand_off(delivery)
    return message


@transaction.atomic
def message_send_by_staff(*, conversation: Conversation, body: str, user) -> Message:
    """Staff write to the customer: the AI steps back (human takeover) and the text goes out by SMS."""
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.status != Conversation.Status.ACTIVE:
        raise BusinessRuleViolation("The conversation is resolved; reopen it to write again.")
    _needs_you_clear(locked, user=user, action="reply")
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
    disclose = automation_disclosure_due(conversation=conversation, config=config, new=created)
    message = message_queue_outbound(
        conversation=conversation,
        body=missed_call_text(
            config=config, business=_tenant(), disclose=disclose, customer_name=conversation.customer_name
        ),
        kind=Message.Kind.AUTO_REPLY,
        idempotency_key=f"auto-reply:{call_sid}",
        opt_out_checked=True,
    )
    return AutoReplyOutcome(conversation, message, "")


def automation_disclosure_due(*, conversation: Conversation, config, new: bool = False) -> bool:
    """Whether the next automated text of ``conversation`` must say that replies are automated: the
    business's setting or state asks for it (``disclosure_policy``) and no automated text went out in
    this conversation yet (``new``: the conversation was opened just now, nothing to look up)."""
    if not disclosure_policy(config, _tenant()).required:
        return False
    return new or not conversation.messages.filter(kind__in=AUTOMATED_KINDS).exists()


# --- the outbox tells a message how its delivery goes ---------------------------------------------

MESSAGE_STATUS_OF_DELIVERY = {
    Delivery.Status.QUEUED: Message.Status.QUEUED,
    Delivery.Status.SENDING: Message.Status.SENDING,
    Delivery.Status.SENT: Message.Status.SENT,
    Delivery.Status.DELIVERED: Message.Status.DELIVERED,
    Delivery.Status.FAILED: Message.Status.FAILED,
    Delivery.Status.DEAD: Message.Status.FAILED,
    Delivery.Status.CANCELED: Message.Status.CANCELED,
}
_MIRROR_SQL = """
    UPDATE {table} SET status = %s, provider_sid = COALESCE(%s, provider_sid), sent_at = %s, delivered_at = %s,
        error_code = %s, error_message = %s, updated_at = %s
    WHERE id = %s RETURNING *
"""


def message_delivery_changed(delivery: Delivery, previous_status: str) -> None:
    """Mirror the delivery's status on its message (one statement) and tell the dashboard."""
    status = MESSAGE_STATUS_OF_DELIVERY[delivery.status]
    if status == Message.Status.FAILED and delivery.provider_status == "undelivered":
        status = Message.Status.UNDELIVERED
    sql = _MIRROR_SQL.format(table=connection.ops.quote_name(Message._meta.db_table))
    params = [
        status,
        delivery.provider_ref,
        delivery.sent_at,
        delivery.delivered_at,
        delivery.last_error_code[:20],
        delivery.last_error[:500],
        timezone.now(),
        parse_uuid(delivery.cause_id),
    ]
    message = next(iter(Message.objects.raw(sql, params)), None)
    if message is None:
        return
    if status == Message.Status.SENT:
        publish_event("message_sent", message_payload(message), source_service=SOURCE)
    elif status == Message.Status.DELIVERED:
        publish_event("message_delivered", message_payload(message), source_service=SOURCE)
    elif status in (Message.Status.FAILED, Message.Status.UNDELIVERED, Message.Status.CANCELED):
        publish_event(
            "dashboard_update",
            {"entity": "message", **message_payload(message), "error_code": message.error_code},
            source_service=SOURCE,
        )
        # For good (no retry left): the customer did not get our text, and nobody knows unless told.
        # A cancel is an opt-out or a decision, not a failure.
        if status != Message.Status.CANCELED and delivery.status in (Delivery.Status.FAILED, Delivery.Status.DEAD):
            error = message.error_message or message.error_code
            conversation_needs_you_set(
                conversation_id=message.conversation_id,
                reason=NeedsYouReason.DELIVERY_FAILED,
                text=f"{message.body[:400]}" + (f" ({error})" if error else ""),
            )


OWNER_ALERT_PURPOSE = "owner_alert"


def owner_alert_delivery_changed(delivery: Delivery, previous_status: str) -> None:
    """A delivery caused by a conversation (the owner's emergency or hand-off text, e-mail): when it
    fails for good the owner was not told, so the conversation needs them on the dashboard."""
    if delivery.status not in (Delivery.Status.FAILED, Delivery.Status.DEAD) or previous_status == delivery.status:
        return
    if delivery.purpose != OWNER_ALERT_PURPOSE:
        return
    cause_id = parse_uuid(delivery.cause_id)
    if cause_id is None:
        return
    if delivery.cause_type == "appointment":
        conversation_id = Conversation.objects.filter(appointment_id=cause_id).values_list("pk", flat=True).first()
        if conversation_id is None:
            return
    else:
        conversation_id = cause_id
    conversation_needs_you_set(
        conversation_id=conversation_id,
        reason=NeedsYouReason.ALERT_FAILED,
        text=f"{delivery.channel}: {delivery.last_error or delivery.last_error_code}"[:500],
    )


STATUS_PAYLOAD_FIELDS = 40  # a callback has ~10; the rest of a forged or odd one is not kept
STATUS_PAYLOAD_VALUE_CHARS = 500


def _status_payload(payload) -> dict:
    items = sorted((str(key)[:64], str(value)[:STATUS_PAYLOAD_VALUE_CHARS]) for key, value in payload.items())
    return dict(items[:STATUS_PAYLOAD_FIELDS])


@transaction.atomic
def message_status_callback_receive(
    *, delivery_id=None, message_sid: str, status: str, error_code: str = "", payload
) -> MessageStatusEvent | None:
    """An SMS status callback of the current business: the delivery (and so the message) moves
    forward if it can, and the callback joins the message's history whatever it says. Returns the
    new history row, or None (a retried callback, or no message of this business)."""
    outbox.delivery_status_update(
        delivery_id=delivery_id, provider_ref=message_sid, provider_status=status, error_code=error_code
    )
    if not status:
        return None
    message = None
    if delivery_id:  # The delivery is the current business's, or nothing is found.
        cause_id = (
            Delivery.objects.filter(business=connection.tenant, pk=delivery_id, cause_type="message")
            .values_list("cause_id", flat=True)
            .first()
        )
        message = Message.objects.filter(pk=parse_uuid(cause_id)).first() if cause_id else None
    if message is None and message_sid:
        message = Message.objects.filter(provider_sid=message_sid).first()
    if message is None:
        logger.info("SMS status %s for %s: no message of this business", status, message_sid or delivery_id)
        return None
    fields = _status_payload(payload)
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
    try:
        with transaction.atomic():
            return MessageStatusEvent.objects.create(
                message=message,
                message_sid=message_sid[:64],
                status=status[:20],
                error_code=error_code[:20],
                payload=fields,
                payload_sha256=digest,
            )
    except IntegrityError:  # Twilio retried a callback already stored.
        return None


# --- opt-out ----------------------------------------------------------------------------------------

_OPT_OUT_REASON = {
    OptOut.Source.KEYWORD: LeadOutcomeReason.STOP_KEYWORD,
    OptOut.Source.PROVIDER: LeadOutcomeReason.CARRIER_UNSUBSCRIBED,
    OptOut.Source.STAFF: LeadOutcomeReason.STAFF_OPT_OUT,
    OptOut.Source.MESSAGE: LeadOutcomeReason.ASKED_TO_STOP,
}


def opt_out_set(*, phone_number: str, source: str, keyword: str) -> OptOut:
    now = timezone.now()
    opt_out, _ = OptOut.objects.update_or_create(
        phone_number=phone_number,
        defaults={"opted_out": True, "source": source, "keyword": keyword, "opted_out_at": now},
    )
    outbox.deliveries_cancel_for(recipient=phone_number)  # Nothing still waiting for it goes out.
    # The customer's open conversation ends as opted out (a booked one stays booked).
    Conversation.objects.filter(customer_number=phone_number, status=Conversation.Status.ACTIVE).exclude(
        lead_outcome__in=[LeadOutcome.BOOKED, LeadOutcome.OPTED_OUT]
    ).update(lead_outcome=LeadOutcome.OPTED_OUT, lead_outcome_reason=_OPT_OUT_REASON[source], lead_updated_at=now)
    return opt_out


def opt_out_record_from_provider(phone_number: str) -> None:
    """Twilio refused the number (21610: it replied STOP to Twilio itself)."""
    opt_out_set(phone_number=phone_number, source=OptOut.Source.PROVIDER, keyword="")


def opt_in_set(*, phone_number: str, keyword: str) -> None:
    now = timezone.now()
    OptOut.objects.filter(phone_number=phone_number, opted_out=True).update(
        opted_out=False, keyword=keyword, opted_in_at=now
    )
    # Subscribed again: the open conversation is open again.
    Conversation.objects.filter(
        customer_number=phone_number, status=Conversation.Status.ACTIVE, lead_outcome=LeadOutcome.OPTED_OUT
    ).update(lead_outcome="", lead_outcome_reason="", lead_updated_at=now)


# --- the lead record: conversations that went quiet -------------------------------------------------


def conversations_idle_close_leads(*, idle_hours: int, now=None) -> int:
    """Active conversations with no message for ``idle_hours`` and no outcome get one: price only
    when the customer's request was a price, else abandoned (one statement; a later message from
    the customer opens the lead again, ``leads.lead_changes``). Returns how many changed."""
    now = now or timezone.now()
    quiet = Conversation.objects.filter(
        status=Conversation.Status.ACTIVE, lead_outcome="", last_message_at__lt=now - timedelta(hours=idle_hours)
    )
    price_only = Case(
        When(lead_intent="pricing", then=Value(LeadOutcome.PRICE_ONLY)), default=Value(LeadOutcome.ABANDONED)
    )
    reason = Case(
        When(lead_intent="pricing", then=Value(LeadOutcomeReason.PRICE_ANSWERED)), default=Value(LeadOutcomeReason.IDLE)
    )
    return quiet.update(lead_outcome=price_only, lead_outcome_reason=reason, lead_updated_at=now)


# --- inbound messages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundOutcome:
    message: Message | None
    duplicate: bool
    keyword: str | None


def _inbound_standing(*, message_sid: str, from_number: str) -> tuple[bool, bool]:
    """Whether this MessageSid is stored already, and whether the sender opted out: one statement."""
    known_sql, known_params = Message.objects.filter(provider_sid=message_sid).values("pk").query.sql_with_params()
    opted_sql, opted_params = opt_out_rows(phone_number=from_number).values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        # Compiled by Django; the values are parameters.
        cursor.execute(f"SELECT EXISTS({known_sql}), EXISTS({opted_sql})", [*known_params, *opted_params])  # noqa: S608
        known, opted_out = cursor.fetchone()
    return bool(known), bool(opted_out)


def _inbound_store(message: Message, *, conversation: Conversation, now) -> bool:
    """Insert the inbound ``message`` and set its conversation's last-message time, in one statement
    (no savepoint); False when its MessageSid is stored already (a redelivery that raced this one:
    the insert waits for it, then does nothing)."""
    message_sql, message_params = insert_sql([message])
    conversation_table = connection.ops.quote_name(Conversation._meta.db_table)
    statement = (
        f"WITH new_message AS ({message_sql} ON CONFLICT (provider_sid) DO NOTHING RETURNING created_at), "  # noqa: S608
        f"touched AS (UPDATE {conversation_table} SET last_message_at = %s, updated_at = %s "
        "WHERE id = %s AND EXISTS (SELECT 1 FROM new_message)) SELECT created_at FROM new_message"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*message_params, now, now, conversation.pk])
        row = cursor.fetchone()
    if row is None:
        return False
    (message.created_at,) = row
    message._state.adding = False
    return True


@transaction.atomic
def message_receive(*, message_sid: str, from_number: str, to_number: str, body: str, media: list) -> InboundOutcome:
    """Store an inbound SMS in the sender's conversation, apply opt-out keywords, and hand the rest to
    the conversation engine after the commit. A redelivered MessageSid changes nothing."""
    known, opted_out = _inbound_standing(message_sid=message_sid, from_number=from_number)
    if known:
        return InboundOutcome(None, True, None)
    keyword = keywords.keyword_of(body)
    if keyword in keywords.OPT_IN and not opted_out:
        keyword = None  # "Yes" to a question is a reply, not a re-subscription.
    stop_language = keywords.asks_to_stop(body) if keyword is None and not opted_out else None
    conversation, _ = conversation_open_locked(customer_number=from_number, business_number=to_number)
    now = timezone.now()
    for_the_engine = keyword is None and not opted_out and stop_language is None
    message = Message(
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
    if not _inbound_store(message, conversation=conversation, now=now):  # The same MessageSid twice at once.
        return InboundOutcome(None, True, None)
    conversation.last_message_at = now
    publish_event("new_message", message_payload(message), source_service=SOURCE)
    business = _tenant()
    if keyword in keywords.OPT_OUT:
        opt_out_set(phone_number=from_number, source=OptOut.Source.KEYWORD, keyword=keyword)
    elif stop_language is not None:
        # The carrier did not see it: recorded, and confirmed once (outbox policy lets this one through).
        opt_out_set(phone_number=from_number, source=OptOut.Source.MESSAGE, keyword="")
        with translation.override(stop_language):
            confirmation = gettext("{business}: we won't text you again. Reply START if you change your mind.")
        message_queue_outbound(
            conversation=conversation,
            body=confirmation.format(business=business.name),
            kind=Message.Kind.OPT_OUT_CONFIRMATION,
            opt_out_checked=True,
        )
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
        after_commit.enqueue(handle_inbound_message, str(message.id), schema=connection.schema_name)
    return InboundOutcome(message, False, keyword)
