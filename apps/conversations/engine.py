"""The conversation engine's hand-off point: every inbound customer SMS that needs an answer comes
through ``conversation_handle_inbound``. The dispatch engine (OpenAI with the rule-based engine as
its fallback) decides the answer; a confirmed slot is booked and the confirmation goes out by SMS.
"""

import logging

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.conversations import services
from apps.conversations.assistant import Turn, assistant_turn
from apps.conversations.models import Conversation, Message
from apps.crm.models import Appointment
from apps.tenants.config.services import config_get
from nevermisscall.errors import BusinessRuleViolation
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


def _answer(*, conversation: Conversation, inbound: Message) -> Turn:
    return assistant_turn(
        business=connection.tenant,
        caller_phone=conversation.customer_number,
        called_number=conversation.business_number,
        history=conversation_history(conversation=conversation, before=inbound),
        text=inbound.body,
        source=Appointment.Source.SMS,
        conversation_ref=str(conversation.id),
        owner_alerted=conversation.owner_alerted_at is not None,
    )


def conversation_handle_inbound(*, message_id) -> Message | None:
    """Answer one inbound message unless a human has the conversation, the assistant is off, or it
    already answered enough. Safe to run twice: one decision per inbound message, recorded in
    ``handled_at`` in the same transaction (what the inbound sweep looks for)."""
    with transaction.atomic():
        inbound = Message.objects.select_related("conversation").filter(pk=message_id).first()
        if inbound is None or inbound.direction != Message.Direction.INBOUND:
            return None
        conversation = Conversation.objects.select_for_update().get(pk=inbound.conversation_id)
        if not Message.objects.filter(pk=inbound.pk, handled_at__isnull=True).update(handled_at=timezone.now()):
            return None  # Decided already (after waiting for the conversation's lock, if it was running).
        if conversation.status != Conversation.Status.ACTIVE or conversation.handled_by != Conversation.Handler.AI:
            return None
        idempotency_key = f"ai-reply:{inbound.id}"
        if Message.objects.filter(idempotency_key=idempotency_key).exists():
            return None
        ai_settings = config_get().ai_settings or {}
        if not ai_settings.get("enabled", True):
            return None
        sent_by_ai = conversation.messages.filter(kind=Message.Kind.AI).count()
        if sent_by_ai >= int(ai_settings.get("max_ai_messages", 20)):
            return None
        turn = _answer(conversation=conversation, inbound=inbound)
        try:
            with transaction.atomic():
                reply = services.message_queue_outbound(
                    conversation=conversation, body=turn.reply, kind=Message.Kind.AI, idempotency_key=idempotency_key
                )
        except IntegrityError:
            return None
        except BusinessRuleViolation:  # Opted out since it arrived.
            return None
        Message.objects.filter(pk=reply.pk).update(proposed_slot=turn.response.get("proposed_slot"))
        changes = {"stage": turn.stage}
        name = turn.response["extracted_info"].get("customer_name")
        if name and not conversation.customer_name:
            changes["customer_name"] = name[:200]  # The inbox shows who it is.
        if turn.owner_alerted:
            changes["owner_alerted_at"] = timezone.now()
        if turn.appointment is not None:
            changes["appointment_id"] = turn.appointment.id
        Conversation.objects.filter(pk=conversation.pk).update(**changes)
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
