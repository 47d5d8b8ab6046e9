"""The conversation engine's hand-off point: every inbound customer SMS that needs an answer comes
through ``conversation_handle_inbound``. The dispatch engine (OpenAI with the rule-based engine as
its fallback) decides the answer; a confirmed slot is booked and the confirmation goes out by SMS.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.conversations import services
from apps.conversations.assistant import assistant_apply, assistant_decide
from apps.conversations.leads import lead_changes
from apps.conversations.models import Conversation, Message, NeedsYouReason, OptOut
from apps.conversations.selectors import conversation_history, conversation_history_sql
from apps.crm.models import Appointment
from apps.outbox.segments import clip_to_segments
from apps.tenants.config.disclosure import with_disclosure
from apps.tenants.config.selectors import config_digest_sql, config_of_version
from nevermisscall.events import publish_event

logger = logging.getLogger(__name__)


# The assistant's standing in a conversation, for ``_assistant_may_answer``: whether the customer
# opted out, and how many replies the assistant sent; and which version of the settings is current
# (``config_of_version``). Subqueries of a statement made anyway, so the checks and the settings cost
# no round trip of their own; ``{phone}`` and ``{conversation_id}`` are SQL expressions.
_STANDING_SQL = """
    EXISTS(SELECT 1 FROM {opt_out} WHERE phone_number = {phone} AND opted_out) AS customer_opted_out,
    (SELECT count(*) FROM {message} WHERE conversation_id = {conversation_id} AND kind = %s) AS assistant_replies,
    {config_digest} AS config_digest
"""

_CLAIM_SQL = """
    WITH claimed AS (
        UPDATE {message} SET claimed_at = %s
        WHERE id = %s AND direction = %s AND handled_at IS NULL AND (claimed_at IS NULL OR claimed_at < %s)
        RETURNING id, conversation_id, body, created_at
    )
    SELECT conversation.*, claimed.id AS inbound_id, claimed.body AS inbound_body,
           claimed.created_at AS inbound_created_at, {history} AS inbound_history, {standing}
    FROM {conversation} conversation JOIN claimed ON conversation.id = claimed.conversation_id
"""
_DECIDED_SQL = "UPDATE {message} SET handled_at = %s WHERE id = %s AND handled_at IS NULL RETURNING {standing}"


def _sql(template: str, **expressions) -> str:
    quote = connection.ops.quote_name
    tables = {
        "message": quote(Message._meta.db_table),
        "opt_out": quote(OptOut._meta.db_table),
        "conversation": quote(Conversation._meta.db_table),
    }
    standing = _STANDING_SQL.format(**tables, **expressions, config_digest=config_digest_sql())
    history = conversation_history_sql(
        conversation_id="claimed.conversation_id", created_at="claimed.created_at", message_id="claimed.id"
    )
    return template.format(**tables, standing=standing, history=history)


def _inbound_claim(*, message_id) -> Message | None:
    """Claim an undecided inbound message for this worker (a conditional UPDATE, committed at once)
    and load what the turn needs, in one statement: its conversation, with whether the customer
    opted out and how many replies the assistant sent (``_assistant_may_answer``), the digest of the
    settings (``config_of_version``) and the engine's history (``conversation.inbound_history``,
    rows of ``conversation_history_sql``). None when the message is decided, or another worker's
    claim on it is fresh. The message itself carries only its id, body and time (the rest is
    deferred)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.INBOUND_CLAIM_STALE_SECONDS)
    sql = _sql(_CLAIM_SQL, phone="conversation.customer_number", conversation_id="conversation.id")
    params = [now, message_id, Message.Direction.INBOUND, stale, Message.Kind.AI]
    conversation = next(iter(Conversation.objects.raw(sql, params)), None)
    if conversation is None:
        return None
    inbound = Message.from_db(
        conversation._state.db,
        ["id", "conversation_id", "body", "created_at"],
        [conversation.inbound_id, conversation.id, conversation.inbound_body, conversation.inbound_created_at],
    )
    inbound.conversation = conversation
    return inbound


def _assistant_may_answer(conversation: Conversation, config) -> bool:
    """Whether the assistant answers in ``conversation``, whose ``customer_opted_out`` and
    ``assistant_replies`` were read with it (``_inbound_claim``, ``_decided_under_lock``): no query
    of its own."""
    if conversation.status != Conversation.Status.ACTIVE or conversation.handled_by != Conversation.Handler.AI:
        return False
    if conversation.customer_opted_out:
        return False
    ai_settings = config.ai_settings or {}
    if not ai_settings.get("enabled", True):
        return False
    return conversation.assistant_replies < int(ai_settings.get("max_ai_messages", 20))


def _upcoming_appointment(conversation: Conversation) -> Appointment | None:
    """The appointment this conversation booked, while it is still ahead (what later texts are about)."""
    if conversation.appointment_id is None:
        return None
    return Appointment.objects.filter(
        pk=conversation.appointment_id,
        status__in=[Appointment.Status.SCHEDULED, Appointment.Status.CONFIRMED],
        end__gt=timezone.now(),
    ).first()


def _decided(inbound: Message) -> bool:
    """Record the engine's decision on ``inbound`` (in the caller's transaction); False when another
    worker recorded one first."""
    return bool(Message.objects.filter(pk=inbound.pk, handled_at__isnull=True).update(handled_at=timezone.now()))


def _decided_under_lock(inbound: Message, conversation: Conversation) -> bool:
    """``_decided``, once ``conversation`` is locked, reading again in the same statement whether the
    customer opted out, how many replies the assistant sent and the settings' digest (on
    ``conversation``). A statement
    after the lock, so it sees whatever committed before the lock was granted (an opt-out, another
    turn's reply); False when another worker decided the message first."""
    sql = _sql(_DECIDED_SQL, phone="%s", conversation_id="%s")
    params = [timezone.now(), inbound.pk, conversation.customer_number, conversation.pk, Message.Kind.AI]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    conversation.customer_opted_out, conversation.assistant_replies = bool(row[0]), int(row[1])
    conversation.config_digest = row[2]
    return True


def _needs_you_reason(turn, conversation: Conversation) -> str:
    """Why this turn needs a person, or "": the assistant found an emergency (the first time in the
    conversation), the customer asked for a person, or the assistant handed the conversation to the
    team (docs/dashboard.md, "Needs you")."""
    response = turn.response
    first_emergency = response["validation"].get("is_emergency") and conversation.owner_alerted_at is None
    if turn.owner_alerted or (first_emergency and conversation.lead_urgency != "emergency"):
        return NeedsYouReason.EMERGENCY
    if turn.wants_a_person and conversation.handled_by == Conversation.Handler.AI:
        return NeedsYouReason.HANDOFF
    if response["next_action"]["action"] == "escalate_to_owner":
        return NeedsYouReason.ESCALATED
    return ""


def _sms_reply_hook():
    """``settings.SMS_REPLY_HOOK`` (apps above this one answer some texts: a reminder's C / R / X)."""
    path = getattr(settings, "SMS_REPLY_HOOK", "")
    return import_string(path) if path else None


def conversation_handle_inbound(*, message_id) -> Message | None:
    """Answer one inbound message unless a human has the conversation, the customer opted out, the
    assistant is off, or it already answered enough. Claim, decide with no transaction open (the
    engine may wait on OpenAI or the geocoder), then apply in a short transaction that locks the
    conversation and checks again: a takeover or an opt-out that happened meanwhile wins. Safe to
    run twice: one decision per inbound message, recorded in ``handled_at`` (what the inbound sweep
    looks for).

    The assistant's checks read nothing of their own: the opt-out and the count of its replies come
    with the message (before the engine, so that no engine runs for a turn it may not answer) and
    again in the statement that records the decision under the lock. So does the digest of the
    settings: they are read only when this process has no copy of that version (before the engine,
    its input needs them; in the transaction, the apply and the disclosure use them)."""
    inbound = _inbound_claim(message_id=message_id)
    if inbound is None:
        return None
    conversation = inbound.conversation
    text = inbound.body
    hook = _sms_reply_hook()
    if hook is not None and not conversation.customer_opted_out:
        # True: answered by the hook (and decided); a string: what the assistant decides on instead.
        # No statement for a text the hook does not recognise (test_inbound_turn.py pins them).
        answered = hook(conversation=conversation, inbound=inbound)
        if answered is True:
            return None
        if isinstance(answered, str):
            text = answered
    config = config_of_version(digest=conversation.config_digest)
    if not _assistant_may_answer(conversation, config):
        _decided(inbound)
        return None
    decision = assistant_decide(
        business=connection.tenant,
        caller_phone=conversation.customer_number,
        called_number=conversation.business_number,
        history=conversation_history(conversation.inbound_history),
        text=text,
        conversation_ref=str(conversation.id),
        config=config,
    )
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if not _decided_under_lock(inbound, conversation):
            return None  # Another worker decided it while this one was thinking.
        # A change made while the engine was deciding (the assistant turned off) wins: read again
        # when the digest read under the lock is not the version the engine decided with.
        config = config_of_version(digest=conversation.config_digest)
        if not _assistant_may_answer(conversation, config):
            return None
        turn = assistant_apply(
            decision=decision,
            caller_phone=conversation.customer_number,
            source=Appointment.Source.SMS,
            conversation_ref=str(conversation.id),
            owner_alerted=conversation.owner_alerted_at is not None,
            booked=_upcoming_appointment(conversation),
            config=config,
            conversation_id=conversation.pk,
        )
        reply = None
        if not turn.silent:
            if services.automation_disclosure_due(conversation=conversation, config=config):
                body = with_disclosure(turn.reply, turn.language, max_segments=settings.SMS_MAX_SEGMENTS)
            else:
                body = clip_to_segments(turn.reply, settings.SMS_MAX_SEGMENTS)
            try:
                with transaction.atomic():
                    reply = services.message_queue_outbound(
                        conversation=conversation,
                        body=body,
                        kind=Message.Kind.AI,
                        idempotency_key=f"ai-reply:{inbound.id}",
                        opt_out_checked=True,
                        proposed_slot=turn.response.get("proposed_slot"),
                    )
            except IntegrityError:
                return None  # Answered already.
        # The lead record is written with the turn (docs/assistant.md, "The lead record").
        changes = {"stage": turn.stage, **lead_changes(record=conversation, reading=turn.lead, now=timezone.now())}
        name = turn.response["extracted_info"].get("customer_name")
        if name and not conversation.customer_name:
            changes["customer_name"] = name[:200]  # The inbox shows who it is.
        if turn.owner_alerted:
            changes["owner_alerted_at"] = timezone.now()
        if turn.appointment is not None:
            changes["appointment_id"] = turn.appointment.id
        if turn.wants_a_person:  # The team answers from now on; a release hands it back.
            changes["handled_by"] = Conversation.Handler.HUMAN
        Conversation.objects.filter(pk=conversation.pk).update(**changes)
        reason = _needs_you_reason(turn, conversation)
        if reason:
            services.conversation_needs_you_set(conversation_id=conversation.pk, reason=reason, text=inbound.body)
        if reply is None:
            return None
        payload = services.message_payload(reply)
        payload.update(
            stage=turn.stage,
            intent=turn.response["extracted_info"]["intent"],
            language=turn.language,
            appointment_id=str(turn.appointment.id) if turn.appointment else None,
            fallback_used=turn.response["processing"]["fallback_used"],
        )
        publish_event("ai_response", payload, source_service="conversations")
        return reply
