"""The conversation engine's hand-off point: every inbound customer SMS that needs an answer comes
through ``conversation_handle_inbound``. The dispatch engine (OpenAI with the rule-based engine as
its fallback) decides the answer; a confirmed slot is booked and the confirmation goes out by SMS.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.conversations import services
from apps.conversations.assistant import assistant_apply, assistant_decide
from apps.conversations.leads import lead_changes
from apps.conversations.models import Conversation, Message
from apps.conversations.selectors import is_opted_out
from apps.crm.models import Appointment
from apps.outbox.segments import clip_to_segments
from apps.tenants.config.disclosure import with_disclosure
from apps.tenants.config.services import config_get
from nevermisscall.events import publish_event

logger = logging.getLogger(__name__)

ROLE_OF_KIND = {
    Message.Kind.CUSTOMER: "customer",
    Message.Kind.AI: "assistant",
    Message.Kind.AUTO_REPLY: "business",
    Message.Kind.HUMAN: "business",
}


def conversation_history(*, conversation: Conversation, before: Message) -> list[dict]:
    """The dispatch engine's history: every message before ``before``, oldest first, with the slot
    each assistant reply proposed (keyword replies such as HELP are not part of the dialogue)."""
    messages = conversation.messages.filter(created_at__lte=before.created_at).exclude(pk=before.pk)
    history = []
    for message in messages.order_by("created_at").only("kind", "body", "proposed_slot"):
        role = ROLE_OF_KIND.get(message.kind)
        if role is None:
            continue
        entry = {"role": role, "content": message.body}
        if role == "assistant":
            entry["proposed_slot"] = message.proposed_slot
        history.append(entry)
    return history


def _inbound_claim(*, message_id) -> Message | None:
    """Claim an undecided inbound message for this worker (one conditional UPDATE, committed at
    once); None when it is decided, or another worker's claim on it is fresh."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.INBOUND_CLAIM_STALE_SECONDS)
    claimable = Message.objects.filter(pk=message_id, direction=Message.Direction.INBOUND, handled_at__isnull=True)
    claimable = claimable.filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
    if claimable.update(claimed_at=now) != 1:
        return None
    return Message.objects.select_related("conversation").get(pk=message_id)


def _assistant_may_answer(conversation: Conversation, inbound: Message) -> bool:
    if conversation.status != Conversation.Status.ACTIVE or conversation.handled_by != Conversation.Handler.AI:
        return False
    if is_opted_out(phone_number=conversation.customer_number):
        return False
    ai_settings = config_get().ai_settings or {}
    if not ai_settings.get("enabled", True):
        return False
    sent_by_ai = conversation.messages.filter(kind=Message.Kind.AI).count()
    return sent_by_ai < int(ai_settings.get("max_ai_messages", 20))


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


def conversation_handle_inbound(*, message_id) -> Message | None:
    """Answer one inbound message unless a human has the conversation, the customer opted out, the
    assistant is off, or it already answered enough. Claim, decide with no transaction open (the
    engine may wait on OpenAI or the geocoder), then apply in a short transaction that locks the
    conversation and checks again: a takeover or an opt-out that happened meanwhile wins. Safe to
    run twice: one decision per inbound message, recorded in ``handled_at`` (what the inbound sweep
    looks for)."""
    inbound = _inbound_claim(message_id=message_id)
    if inbound is None:
        return None
    conversation = inbound.conversation
    if not _assistant_may_answer(conversation, inbound):
        _decided(inbound)
        return None
    decision = assistant_decide(
        business=connection.tenant,
        caller_phone=conversation.customer_number,
        called_number=conversation.business_number,
        history=conversation_history(conversation=conversation, before=inbound),
        text=inbound.body,
        conversation_ref=str(conversation.id),
    )
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if not _decided(inbound):
            return None  # Another worker decided it while this one was thinking.
        if not _assistant_may_answer(conversation, inbound):
            return None
        turn = assistant_apply(
            decision=decision,
            caller_phone=conversation.customer_number,
            source=Appointment.Source.SMS,
            conversation_ref=str(conversation.id),
            owner_alerted=conversation.owner_alerted_at is not None,
            booked=_upcoming_appointment(conversation),
        )
        reply = None
        if not turn.silent:
            if services.automation_disclosure_due(conversation=conversation, config=config_get()):
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
                    )
            except IntegrityError:
                return None  # Answered already.
            Message.objects.filter(pk=reply.pk).update(proposed_slot=turn.response.get("proposed_slot"))
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
