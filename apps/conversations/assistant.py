"""One assistant turn, whatever the channel (SMS, voice, web chat), in two steps: the dispatch
engine decides the answer (``assistant_decide``, slow I/O, no transaction), then the decision is
applied (``assistant_apply``: a confirmed slot becomes an appointment, an emergency alerts the
owner) in the caller's short transaction. Callers persist the turn (the history entry and whether
the owner was alerted) in that transaction.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from apps.conversations.leads import LeadReading, lead_reading
from apps.crm.models import Appointment, Reschedule
from apps.crm.services import appointment_note_add, appointment_update
from apps.dispatch import replies
from apps.dispatch.notifications import emergency_owner_notify, owner_notify
from apps.dispatch.selectors import dispatch_request_build
from apps.dispatch.services import appointment_book_from_dispatch, conversation_process, emergency_message
from apps.tenants.config.services import config_get
from nevermisscall.errors import Conflict
from nevermisscall.events import publish_event
from nevermisscall.ids import parse_uuid


@dataclass
class Turn:
    reply: str
    response: dict
    appointment: Appointment | None
    owner_alerted: bool  # The owner was alerted during this turn.

    @property
    def silent(self) -> bool:
        """Nothing to send (spam; a wrong number answered once)."""
        return _action_of(self.response) == "no_reply"

    @property
    def wants_a_person(self) -> bool:
        """The customer asked for a person: the team takes the conversation from here."""
        return "human_requested" in (self.response["validation"].get("issues") or [])

    @property
    def language(self) -> str:
        return self.response["extracted_info"].get("language") or "en"

    @property
    def stage(self) -> str:
        return "completed" if self.appointment is not None else self.response["conversation_stage"]

    @property
    def lead(self) -> LeadReading:
        """What this turn says about the lead; the caller records it with the turn."""
        return lead_reading(self.response, booked=self.appointment is not None)

    def history_entries(self, customer_text: str) -> list[dict]:
        return [
            {"role": "customer", "content": customer_text},
            {"role": "assistant", "content": self.reply, "proposed_slot": self.response.get("proposed_slot")},
        ]


def _escalation_alert(*, response: dict, caller_phone: str, conversation_ref: str) -> None:
    """The assistant told the customer the team will get back to them: the dashboard must show it."""
    publish_event(
        "system_alert",
        {
            "alert_type": "assistant_escalated",
            "severity": "warning",
            "message": f"The assistant handed {caller_phone} to the team: "
            + (", ".join(response["validation"].get("issues") or []) or response["conversation_stage"]),
            "conversation_ref": conversation_ref,
            "customer_phone": caller_phone,
        },
        source_service="conversations",
    )


def _follow_up_reason(response: dict) -> str:
    validation, info = response["validation"], response["extracted_info"]
    issues = validation.get("issues") or []
    if "outside_service_area" in issues:
        distance = validation.get("distance_miles")
        miles = f", {distance:.0f} mi away" if distance is not None else ""
        return f"is outside the service area ({info.get('customer_address')}{miles})"
    if "outside_trades" in issues:
        return f"asked for {(info.get('job_label') or info.get('trade') or 'a job').lower()}, which you don't do"
    return "is waiting for an answer from the team"


def _owner_notice(
    *, kind: str, what: str, decision: "Decision", caller_phone: str, forwarding_number: str, reference: str
) -> None:
    """The owner's text for a hand-off or a follow-up the customer was promised (once each)."""
    info = decision.response["extracted_info"]
    about = f" ({info['job_label']})" if info.get("job_label") and kind == "handoff" else ""
    who = info.get("customer_name") or caller_phone
    tail = "The assistant has stopped; please call or text them back." if kind == "handoff" else "Please reply to them."
    owner_notify(
        kind=kind,
        message=f"{decision.request.get('business_name', '')}: {who} ({caller_phone}) {what}{about}. {tail}",
        forwarding_number=forwarding_number,
        reference=reference,
    )


_THANKS = re.compile(
    r"^\W*(thanks?|thank\s+you|thx|ty|great|perfect|awesome|ok(ay)?|cool|sounds\s+good|see\s+you|"
    r"gracias|perfecto|listo|excelente|muy\s+bien|nos\s+vemos|vale)\b",
    re.IGNORECASE,
)


CHANGE_ACTIONS = ("reschedule_appointment", "cancel_appointment")


def _action_of(response: dict) -> str:
    return response["next_action"]["action"]


def _is_an_aside(response: dict) -> bool:
    """After a booking, a message that is not an emergency, a request for a person or a change of
    the appointment is about that booking: never a new booking flow or another slot."""
    issues = response["validation"].get("issues") or []
    if (response.get("proposed_slot") or {}).get("change") or _action_of(response) in CHANGE_ACTIONS:
        return False
    return not response["validation"].get("is_emergency") and "human_requested" not in issues


def _change_appointment(*, response: dict, caller_phone: str, conversation_id=None) -> Turn:
    """Move or cancel the customer's own appointment (found by their phone when it was proposed,
    checked again here); a time taken meanwhile is answered, never double-booked. A move is
    recorded as the assistant's (``Reschedule``), with the SMS conversation when there is one."""
    slot = response["proposed_slot"]
    appointment = Appointment.objects.filter(
        pk=parse_uuid(slot.get("changes_appointment")),
        customer__phone=caller_phone,
        status__in=Appointment.ACTIVE_STATUSES,
    ).first()
    language = response["extracted_info"].get("language") or "en"
    if appointment is None:
        message = replies.render("no_appointment_found", language)
    elif _action_of(response) == "cancel_appointment":
        appointment_update(appointment=appointment, status=Appointment.Status.CANCELLED)
        message = response["next_action"]["message"]
    else:
        start = datetime.fromisoformat(str(slot["start_datetime"]))
        try:
            appointment_update(
                appointment=appointment,
                starts_at=start,
                moved_by=Reschedule.MovedBy.ASSISTANT,
                conversation_id=conversation_id,
            )
            message = response["next_action"]["message"]
        except Conflict:  # Taken since it was proposed: nothing moved, ask again (no slot to say yes to).
            message = replies.render("ask_when", language)
            response = {**response, "proposed_slot": None}
    return Turn(message, {**response, "next_action": {**response["next_action"], "message": message}}, None, False)


def _after_booking(appointment: Appointment, *, request: dict, response: dict) -> Turn:
    """Thanks are answered, and a price question from the estimate; anything else ("gate code
    4512", "we have a dog") is saved on the appointment for the technician, and the customer is
    told so."""
    text, language = request["current_message"], response["extracted_info"].get("language") or "en"
    when = replies.when(appointment.start, ZoneInfo(request["business_hours"].get("timezone") or "UTC"), language)
    price = (response.get("validation") or {}).get("price_estimate")
    if response["extracted_info"].get("intent") == "pricing" and price:
        # "¿Cómo cuánto me va a salir?": the booked job's range, not a note for the technician.
        message = replies.render(
            "after_booking_price",
            language,
            when=when,
            price=replies.price_range(price["min_price"], price["max_price"]),
        )
    elif _THANKS.match(text) and len(text.split()) <= 6:
        message = replies.render("after_booking_thanks", language, when=when)
    else:
        appointment_note_add(appointment=appointment, note=text)
        message = replies.render("after_booking_note", language, when=when)
    answered = {
        **response,
        "next_action": {
            **response["next_action"],
            "action": "answer_question",
            "message": message,
            "notify_owner": False,
        },
        "conversation_stage": "completed",
        "proposed_slot": None,
        "alternative_slots": [],
    }
    return Turn(message, answered, None, False)


def _without_owner_alert(response: dict) -> dict:
    return {**response, "next_action": {**response["next_action"], "notify_owner": False}}


@dataclass(frozen=True)
class Decision:
    """What the engine decided about one message, before anything is written for it."""

    request: dict
    response: dict


def assistant_decide(
    *,
    business,
    caller_phone: str,
    called_number: str,
    history: list[dict],
    text: str,
    conversation_ref: str,
    now: datetime | None = None,
    config=None,
) -> Decision:
    """Run the engine on ``text`` (OpenAI or the rules, geocoding): slow I/O, so call it with no
    transaction open and no row locked. Only the AI usage row is written. ``config``: the business's
    settings when the caller has read them already."""
    request = dispatch_request_build(
        business=business,
        caller_phone=caller_phone,
        called_number=called_number,
        history=history,
        current_message=text,
        now=now,
        config=config,
    )
    return Decision(request, conversation_process(request=request, conversation_ref=conversation_ref, now=now))


def assistant_apply(
    *,
    decision: Decision,
    caller_phone: str,
    source: str,
    conversation_ref: str,
    owner_alerted: bool,
    now: datetime | None = None,
    booked: Appointment | None = None,
    config=None,
    conversation_id=None,
) -> Turn:
    """Act on the decision inside the caller's transaction: book when the customer confirmed a slot
    (the engine escalates instead when ``ai_settings.auto_book`` is off), alert the owner of an
    emergency unless this conversation already did. The booking and the owner's alerts (outbox
    deliveries) commit or roll back together. ``config``: the business's settings, read in this
    transaction, when the caller has them. ``conversation_id``: the SMS conversation, if any."""
    request, response = decision.request, decision.response
    if _action_of(response) in CHANGE_ACTIONS:
        return _change_appointment(response=response, caller_phone=caller_phone, conversation_id=conversation_id)
    if booked is not None and _is_an_aside(response):
        return _after_booking(booked, request=request, response=response)
    config = config or config_get()
    ai_settings = config.ai_settings or {}
    action = response["next_action"]
    issues = response["validation"].get("issues") or []
    alert_wanted = action["notify_owner"] and ai_settings.get("emergency_alerts", True) and not owner_alerted
    notice = dict(decision=decision, caller_phone=caller_phone, forwarding_number=config.forwarding_number)
    if "human_requested" in issues:
        _owner_notice(kind="handoff", what="asked to talk to a person", reference=conversation_ref, **notice)
    elif "team_follow_up" in issues and not alert_wanted and not owner_alerted:
        _owner_notice(kind="follow_up", what=_follow_up_reason(response), reference=conversation_ref, **notice)
    if action["action"] == "escalate_to_owner" and "human_requested" not in issues:
        _escalation_alert(response=response, caller_phone=caller_phone, conversation_ref=conversation_ref)
    if action["action"] == "book_appointment" and response.get("proposed_slot"):
        outcome = appointment_book_from_dispatch(
            request=request,
            response=response if alert_wanted else _without_owner_alert(response),
            source=source,
            conversation_ref=conversation_ref,
            now=now,
            config=config,
        )
        booked = outcome.appointment is not None
        return Turn(outcome.reply, outcome.response, outcome.appointment, booked and alert_wanted)
    if alert_wanted:
        info = response["extracted_info"]
        emergency_owner_notify(
            message=emergency_message(info=info, slot=None, phone=caller_phone),
            forwarding_number=config.forwarding_number,
            reference=conversation_ref,
        )
        return Turn(action["message"], response, None, True)
    return Turn(action["message"], response, None, False)
