"""Voice calls and web chats with the assistant (``AssistantSession``): start, one turn, end.

The engine decides each turn with no transaction open; the turn is then applied with the session
row locked and re-checked, so two web processes serving the same session cannot both apply a turn
on the same history. The whole history lives in the row, so any process can serve the next turn.
"""

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from apps.conversations import services
from apps.conversations.assistant import Turn, assistant_apply, assistant_decide
from apps.conversations.leads import LEAD_FIELDS, lead_apply, lead_changes, lead_end_changes, lead_outcome_changes
from apps.conversations.models import AssistantSession, Conversation, LeadOutcome, LeadOutcomeReason, Message
from apps.conversations.selectors import is_opted_out
from apps.dispatch import replies
from apps.outbox.hooks import hooks
from apps.tenants.config.models import DEFAULT_GREETING
from apps.tenants.config.services import config_get
from nevermisscall.errors import BusinessRuleViolation, Conflict
from nevermisscall.events import publish_event

SOURCE = "conversations"
# An engine decision that ends the assistant's part: the owner takes it from here.
HANDOFF_ACTIONS = {"escalate_to_owner"}


def greeting(*, business, config, language: str) -> str:
    """The business's own greeting when it wrote one; otherwise ours, in the business's language."""
    if config.greeting_template and config.greeting_template != DEFAULT_GREETING:
        return config.greeting_template.replace("{business_name}", business.name).replace(
            "{business_phone}", business.phone or ""
        )
    business_name = business.name
    with override(language):
        return _("Thanks for contacting %(business)s! I'm the virtual assistant. How can I help you today?") % {
            "business": business_name
        }


def handoff_message(*, language: str) -> str:
    with override(language):
        return _("I'll have someone from our team get back to you shortly. Thank you for your patience!")


def session_state(session: AssistantSession, turn: Turn | None = None) -> dict:
    state = {
        "session_id": str(session.id),
        "channel": session.channel,
        "status": session.status,
        "stage": session.stage or "initial",
        "language": session.language,
        "turns": session.turns,
        "appointment_id": str(session.appointment_id) if session.appointment_id else None,
    }
    if turn is not None:
        info = turn.response["extracted_info"]
        state.update(
            next_action=turn.response["next_action"]["action"],
            proposed_slot=turn.response.get("proposed_slot"),
            intent=info["intent"],
            job_type=info["job_type"],
            urgency=info["urgency_level"],
            customer_name=info["customer_name"],
            address=info["customer_address"],
        )
    return state


def _event(session: AssistantSession, reply: str, turn: Turn | None) -> None:
    payload = {"session_id": str(session.id), "channel": session.channel, "reply": reply, **session_state(session)}
    if turn is not None:
        payload["fallback_used"] = turn.response["processing"]["fallback_used"]
    publish_event("ai_response", payload, source_service=SOURCE)


@transaction.atomic
def assistant_session_start(
    *, channel: str, caller_phone: str = "", called_number: str = "", call_sid: str | None = None, metadata=None
) -> tuple[AssistantSession, str]:
    """A new session and its greeting. With a ``call_sid`` (Twilio redelivering the same call) the
    existing session is returned instead of a second one."""
    config = config_get()
    if not (config.ai_settings or {}).get("enabled", True):
        raise BusinessRuleViolation("The assistant is turned off for this business.")
    if call_sid:
        existing = AssistantSession.objects.filter(call_sid=call_sid).first()
        if existing is not None:
            return existing, existing.history[0]["content"] if existing.history else ""
    language = config.language or "en"
    text = greeting(business=connection.tenant, config=config, language=language)
    session = AssistantSession.objects.create(
        channel=channel,
        call_sid=call_sid or None,
        caller_phone=caller_phone,
        called_number=called_number,
        language=language,
        history=[{"role": "assistant", "content": text, "proposed_slot": None}],
        metadata=metadata or {},
    )
    _event(session, text, None)
    return session, text


def assistant_session_get(*, session_id) -> AssistantSession | None:
    return AssistantSession.objects.filter(pk=session_id).first()


SESSION_TURN_TRIES = 3


def assistant_session_input(*, session: AssistantSession, text: str) -> tuple[AssistantSession, str, Turn | None]:
    """One caller turn: the reply, the updated session, and the engine's turn (None when the
    assistant handed the conversation to the team because it reached its message limit).

    The engine decides with no transaction open (it may wait on OpenAI or the geocoder); the turn is
    applied in a short transaction that locks the session and checks it did not move on meanwhile
    (another turn of the same session won the race: decide again on the new history)."""
    for _try in range(SESSION_TURN_TRIES):
        current = AssistantSession.objects.get(pk=session.pk)
        if current.status != AssistantSession.Status.ACTIVE:
            raise BusinessRuleViolation("This session has ended.")
        ai_settings = config_get().ai_settings or {}
        if current.turns >= int(ai_settings.get("max_ai_messages", 20)):
            return _session_hand_over(current)
        decision = assistant_decide(
            business=connection.tenant,
            caller_phone=current.caller_phone,
            called_number=current.called_number,
            history=current.history,
            text=text,
            conversation_ref=str(current.id),
        )
        with transaction.atomic():
            locked = AssistantSession.objects.select_for_update().get(pk=session.pk)
            if locked.turns != current.turns or locked.status != AssistantSession.Status.ACTIVE:
                continue
            return _session_apply(locked, text=text, decision=decision)
    raise Conflict("The conversation moved on while this answer was being prepared; send it again.")


@transaction.atomic
def _session_hand_over(session: AssistantSession) -> tuple[AssistantSession, str, None]:
    locked = AssistantSession.objects.select_for_update().get(pk=session.pk)
    reply = handoff_message(language=locked.language)
    if locked.status == AssistantSession.Status.ACTIVE:
        now = timezone.now()
        locked.status, locked.ended_at = AssistantSession.Status.TRANSFERRED, now
        lead_apply(
            locked,
            lead_outcome_changes(
                record=locked,
                outcome=LeadOutcome.HANDED_TO_HUMAN,
                reason=LeadOutcomeReason.MESSAGE_LIMIT,
                now=now,
            ),
        )
        locked.save(update_fields=["status", "ended_at", *LEAD_FIELDS, "updated_at"])
        _event(locked, reply, None)
    return locked, reply, None


def _session_apply(locked: AssistantSession, *, text: str, decision) -> tuple[AssistantSession, str, Turn]:
    turn = assistant_apply(
        decision=decision,
        caller_phone=locked.caller_phone,
        source="voice" if locked.channel == AssistantSession.Channel.VOICE else "web",
        conversation_ref=str(locked.id),
        owner_alerted=locked.owner_alerted_at is not None,
    )
    if turn.silent:  # A live call or chat always gets an answer, even to what SMS leaves unanswered.
        turn.reply = replies.render("ask_problem", turn.language, business=connection.tenant.name)
    locked.history = [*locked.history, *turn.history_entries(text)]
    lead_apply(locked, lead_changes(record=locked, reading=turn.lead, now=timezone.now()))
    locked.turns += 1
    locked.stage = turn.stage
    locked.language = turn.language
    info = turn.response["extracted_info"]
    locked.customer_name = info.get("customer_name") or locked.customer_name
    if turn.owner_alerted:
        locked.owner_alerted_at = timezone.now()
    if turn.appointment is not None:
        locked.appointment_id = turn.appointment.id
        locked.status = AssistantSession.Status.BOOKED
        _text_confirmation(locked, turn)
    elif turn.response["next_action"]["action"] in HANDOFF_ACTIONS:
        locked.status = AssistantSession.Status.TRANSFERRED
    if locked.status != AssistantSession.Status.ACTIVE:
        locked.ended_at = timezone.now()
    locked.save()
    _event(locked, turn.reply, turn)
    return locked, turn.reply, turn


def _text_confirmation(session: AssistantSession, turn: Turn) -> Message | None:
    """A booking by voice or chat is confirmed by SMS too, in the customer's SMS conversation (so
    a reply to it reaches the assistant with the booking in view). Never to a number that opted out."""
    business_number = session.called_number or hooks.default_sms_sender()
    if not session.caller_phone or not business_number or is_opted_out(phone_number=session.caller_phone):
        return None
    conversation, _ = services.conversation_open_locked(
        customer_number=session.caller_phone, business_number=business_number
    )
    message = services.message_queue_outbound(
        conversation=conversation,
        body=turn.reply,
        kind=Message.Kind.AI,
        idempotency_key=f"booking-confirmation:{turn.appointment.id}",
        opt_out_checked=True,
    )
    # The SMS conversation is where the owner reads the lead (API, dashboard): it gets the booked one.
    changes = {
        "appointment_id": turn.appointment.id,
        "stage": turn.stage,
        **lead_changes(record=conversation, reading=turn.lead, now=timezone.now()),
    }
    if session.customer_name and not conversation.customer_name:
        changes["customer_name"] = session.customer_name[:200]
    Conversation.objects.filter(pk=conversation.pk).update(**changes)
    return message


@transaction.atomic
def assistant_session_end(*, session: AssistantSession) -> AssistantSession:
    locked = AssistantSession.objects.select_for_update().get(pk=session.pk)
    if locked.status == AssistantSession.Status.ACTIVE:
        now = timezone.now()
        locked.status, locked.ended_at = AssistantSession.Status.ENDED, now
        lead_apply(locked, lead_end_changes(record=locked, reason=LeadOutcomeReason.SESSION_ENDED, now=now))
        locked.save(update_fields=["status", "ended_at", *LEAD_FIELDS, "updated_at"])
        publish_event(
            "dashboard_update", {"entity": "assistant_session", **session_state(locked)}, source_service=SOURCE
        )
    return locked
