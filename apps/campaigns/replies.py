"""The customers' answers to an appointment reminder (``settings.SMS_REPLY_HOOK``), asked by the
conversation engine about each inbound text before its assistant.

C, "confirm", "sí" confirm the appointment; X, "cancel my appointment", "cancelar" cancel it (through
the CRM's services) and the customer is told; R, "reschedule", "cambiar" hand the assistant a
request to move it, so that its reschedule flow offers new times; the request is recorded (a
``requested`` ``crm.Reschedule``, which the move completes). The bare word CANCEL never gets here:
it is a carrier opt-out keyword (apps/conversations/keywords.py) and the appointment stays.

A text that is none of these words costs no query (the inbound turn's statements are pinned).
"""

import re

from django.db import connection, transaction
from django.utils import timezone

from apps.campaigns import selectors, texts
from apps.campaigns.models import CampaignMessage
from apps.conversations import services as conversations
from apps.conversations.models import Message
from apps.crm import services as crm
from apps.crm.models import Appointment, Reschedule
from apps.dispatch.rules import fold

HANDLED = True

_ANSWERS = {
    "confirmed": re.compile(r"^(c|confirm|confirmed|confirmo|confirmar|confirmado|si|si confirmo)$"),
    "cancelled": re.compile(
        r"^(x|cancel (my|the) (appointment|appt|visit)( please)?|please cancel (my|the) (appointment|appt|visit)"
        r"|cancelar|cancelar (mi|la) cita|cancela (mi|la) cita|quiero cancelar( mi cita)?)$"
    ),
    "reschedule": re.compile(
        r"^(r|reschedule|reschedule (my|the) (appointment|appt|visit)( please)?|i need to reschedule"
        r"|cambiar|cambiar (mi|la) cita|reprogramar|quiero cambiar (mi|la) cita)$"
    ),
}


def answer_of(body: str) -> str | None:
    """``confirmed``, ``cancelled`` or ``reschedule`` when the whole text is one of the answers."""
    text = re.sub(r"[\s.!?¡¿,]+", " ", fold(body or "")).strip()
    if not text or len(text) > 40:
        return None
    for answer, pattern in _ANSWERS.items():
        if pattern.match(text):
            return answer
    return None


def _decided(inbound) -> bool:
    return bool(Message.objects.filter(pk=inbound.pk, handled_at__isnull=True).update(handled_at=timezone.now()))


def reminder_reply(*, conversation, inbound):
    """None: not an answer to a reminder (the assistant decides as usual). ``HANDLED``: answered
    here, the inbound message recorded as decided. A string: the text the assistant should decide
    on instead of the customer's "R"."""
    answer = answer_of(inbound.body)
    if answer is None:
        return None
    now = timezone.now()
    reminder = selectors.reminder_pending_for(phone=conversation.customer_number, now=now)
    if reminder is None:
        return None
    appointment = Appointment.objects.select_related("customer").get(pk=reminder.appointment_id)
    language = appointment.customer.language
    if answer == "reschedule":
        with transaction.atomic():
            CampaignMessage.objects.filter(pk=reminder.pk).update(answer=answer, answered_at=now)
            # The request is on record now; the assistant's move (or the owner's) completes it.
            crm.reschedule_request(
                appointment=appointment, moved_by=Reschedule.MovedBy.REMINDER_REPLY, conversation_id=conversation.pk
            )
        return texts.reschedule_request(language)
    with transaction.atomic():
        if not _decided(inbound):
            return HANDLED  # Another worker answered it.
        status = Appointment.Status.CONFIRMED if answer == "confirmed" else Appointment.Status.CANCELLED
        crm.appointment_update(appointment=appointment, status=status)
        CampaignMessage.objects.filter(pk=reminder.pk).update(answer=answer, answered_at=now)
        body = texts.reply_text(answer=answer, business=connection.tenant, language=language, when=appointment.start)
        conversations.message_queue_outbound(
            conversation=conversation,
            body=body,
            kind=Message.Kind.KEYWORD,
            idempotency_key=f"reminder-answer:{inbound.pk}",
            opt_out_checked=True,
        )
    return HANDLED
