"""The conversation engine's hand-off point: every inbound customer SMS that needs an answer comes
through ``conversation_handle_inbound``. Today it answers with ``RuleBasedAnswerer``; the AI issue
replaces the answerer (the OpenAI assistant with this one as its fallback), not the hand-off.
"""

import re

from django.db import IntegrityError, connection, transaction

from apps.conversations import services
from apps.conversations.models import Conversation, Message
from apps.tenants.config.services import config_get
from nevermisscall.errors import BusinessRuleViolation
from nevermisscall.events import publish_event

EMERGENCY = re.compile(r"\b(emergency|urgent|asap|flood\w*|burst|leak\w*|sparks?|smoke|gas|no heat|locked out)\b", re.I)
BOOKING = re.compile(r"\b(book|schedule|appointment|quote|estimate|come out|available|tomorrow|today)\b", re.I)


class RuleBasedAnswerer:
    """Deterministic answers by intent: emergency, booking, anything else."""

    def answer(self, *, business_name: str, business_phone: str, text: str) -> str:
        if EMERGENCY.search(text):
            contact = f" or call {business_phone}" if business_phone else ""
            return (
                f"{business_name}: this sounds urgent. We're alerting the team now{contact}. "
                "What is the address of the job?"
            )
        if BOOKING.search(text):
            return f"{business_name}: happy to get you scheduled. What's the address and what time works best for you?"
        return f"{business_name}: thanks for your message! What do you need help with, and where is the job?"


def conversation_handle_inbound(*, message_id, answerer=None) -> Message | None:
    """Answer one inbound message unless a human has the conversation, the assistant is off, or it
    already answered enough. Safe to run twice: one answer per inbound message at most."""
    answerer = answerer or RuleBasedAnswerer()
    with transaction.atomic():
        inbound = Message.objects.select_related("conversation").filter(pk=message_id).first()
        if inbound is None or inbound.direction != Message.Direction.INBOUND:
            return None
        conversation = Conversation.objects.select_for_update().get(pk=inbound.conversation_id)
        if conversation.status != Conversation.Status.ACTIVE or conversation.handled_by != Conversation.Handler.AI:
            return None
        ai_settings = config_get().ai_settings or {}
        if not ai_settings.get("enabled", True):
            return None
        sent_by_ai = conversation.messages.filter(kind=Message.Kind.AI).count()
        if sent_by_ai >= int(ai_settings.get("max_ai_messages", 20)):
            return None
        business = connection.tenant
        body = answerer.answer(business_name=business.name, business_phone=business.phone, text=inbound.body)
        try:
            with transaction.atomic():
                reply = services.message_queue_outbound(
                    conversation=conversation, body=body, kind=Message.Kind.AI, idempotency_key=f"ai-reply:{inbound.id}"
                )
        except IntegrityError:
            return None
        except BusinessRuleViolation:  # Opted out since it arrived.
            return None
        publish_event("ai_response", services.message_payload(reply), source_service="conversations")
        return reply
