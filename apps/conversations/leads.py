"""The lead record (``models.LeadRecord``) of a conversation or an assistant session: what one
dispatch engine response says about the lead (``LeadReading``), and the column changes it makes.

Pure functions: the callers write the changes in their own transaction, with the row locked
(``engine.conversation_handle_inbound``, ``sessions._session_apply``, ``services``).

Rules (docs/assistant.md, "The lead record"):
- extracted values only replace the record's with non-empty ones: a turn that does not mention the
  address keeps it; a new address replaces the old one together with its geocode and service-area
  decision (a failed geocode of the new address leaves no stale coordinates);
- the outcome is the latest turn's (declined out of area / out of trade, handed to the team, spam)
  or blank while the conversation is open; booked stays booked;
- ending a conversation with no outcome (resolved, quiet for ``CONVERSATION_IDLE_HOURS``, a call
  or chat ended) makes it ``price_only`` when the customer's request was a price, else ``abandoned``.
"""

from dataclasses import dataclass
from datetime import datetime

from apps.conversations.models import LeadOutcome, LeadOutcomeReason, LeadRecord, LeadUrgency

# The reasons the engine gives for handing a conversation to the team, in the order they are told.
_ESCALATION_REASONS = (
    LeadOutcomeReason.HUMAN_REQUESTED,
    LeadOutcomeReason.NO_AVAILABILITY,
    LeadOutcomeReason.AUTO_BOOK_OFF,
    LeadOutcomeReason.EMERGENCY_SERVICE_OFF,
)
# Outcomes a later event does not replace: the appointment exists whatever happens next.
_FINAL = {LeadOutcome.BOOKED}
TIME_WINDOW_WORDS_MAX = 40  # A model's "tomorrow morning", a short reply; not a whole message.

# Column names, for callers that save with ``update_fields``.
EXTRACTED_FIELDS = (
    "lead_job_type",
    "lead_job_label",
    "lead_trade",
    "lead_intent",
    "lead_urgency",
    "lead_urgency_reason",
    "lead_address",
    "lead_latitude",
    "lead_longitude",
    "lead_in_service_area",
    "lead_distance_miles",
    "lead_time_window",
)
OUTCOME_FIELDS = ("lead_outcome", "lead_outcome_reason")
LEAD_FIELDS = (*EXTRACTED_FIELDS, *OUTCOME_FIELDS, "lead_updated_at")


@dataclass(frozen=True)
class LeadReading:
    """What one engine response (seed 000's ProcessConversationResponse) says about the lead.
    Empty strings and None mean "this response did not say"."""

    job_type: str = ""
    job_label: str = ""
    trade: str = ""
    intent: str = ""
    urgency: str = ""
    urgency_reason: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    in_service_area: bool | None = None
    distance_miles: float | None = None
    time_window: str = ""
    outcome: str = ""  # This turn's outcome; "" when the conversation goes on.
    outcome_reason: str = ""


def _outcome_of(response: dict, *, booked: bool) -> tuple[str, str]:
    action = response["next_action"]["action"]
    issues = response["validation"].get("issues") or []
    if booked:
        return LeadOutcome.BOOKED, LeadOutcomeReason.CUSTOMER_CONFIRMED
    if action == "decline_out_of_area":
        return LeadOutcome.DECLINED_OUT_OF_AREA, LeadOutcomeReason.OUTSIDE_SERVICE_AREA
    if action == "decline_out_of_trade":
        return LeadOutcome.DECLINED_OUT_OF_TRADE, LeadOutcomeReason.OUTSIDE_TRADES
    if action == "escalate_to_owner":
        reason = next((reason for reason in _ESCALATION_REASONS if reason.value in issues), None)
        return LeadOutcome.HANDED_TO_HUMAN, reason or LeadOutcomeReason.ESCALATED
    if "suspected_spam" in issues:
        return LeadOutcome.SPAM, LeadOutcomeReason.SUSPECTED_SPAM
    return "", ""


def time_window_text(info: dict) -> str:
    """The customer's time window as text: the parsed window ("2026-03-10 07:00–12:00", "asap",
    "after 13:00") and, when short, their own words ("“tomorrow morning”")."""
    window = info.get("time_preference") or {}
    parts = []
    if window.get("asap"):
        parts.append("asap")
    if window.get("flexible"):
        parts.append("any time")
    if window.get("date"):
        parts.append(window["date"])
    elif window.get("earliest_date"):
        parts.append(f"from {window['earliest_date']}")
    after, before = window.get("after"), window.get("before")
    if window.get("at"):
        parts.append(f"at {window['at']}")
    elif after and before:
        parts.append(f"{after}–{before}")
    elif after:
        parts.append(f"after {after}")
    elif before:
        parts.append(f"before {before}")
    words = " ".join((info.get("preferred_time") or "").split())
    if words and len(words) <= TIME_WINDOW_WORDS_MAX:
        parts.append(f"“{words}”")
    return " ".join(parts)[:200]


def lead_reading(response: dict, *, booked: bool = False) -> LeadReading:
    """The lead in one engine response; ``booked`` when this turn made the appointment."""
    info, validation = response["extracted_info"], response["validation"]
    urgency = info.get("urgency_level") or ""
    reason = info.get("urgency_reason") or ""
    if urgency == LeadUrgency.NORMAL and not (reason or info.get("trade")):
        urgency = ""  # "normal" with no job and no word about urgency is not known yet.
    point = info.get("coordinates") or {}
    outcome, outcome_reason = _outcome_of(response, booked=booked)
    intent = info.get("intent") or ""
    return LeadReading(
        job_type=(validation.get("estimate_job_type") or info.get("job_type") or "")[:100],
        job_label=(info.get("job_label") or "")[:100],
        trade=info.get("trade") or "",
        intent="" if intent == "general" else intent,
        urgency=urgency,
        urgency_reason=reason[:200],
        address=(info.get("customer_address") or "")[:300],
        latitude=point.get("latitude"),
        longitude=point.get("longitude"),
        in_service_area=validation.get("service_area_valid"),
        distance_miles=validation.get("distance_miles"),
        time_window=time_window_text(info),
        outcome=outcome,
        outcome_reason=outcome_reason,
    )


def lead_changes(*, record: LeadRecord, reading: LeadReading, now: datetime) -> dict:
    """The columns of ``record`` that ``reading`` changes (with ``lead_updated_at``), or {}."""
    wanted: dict = {}
    for field in ("job_type", "job_label", "trade", "intent", "time_window"):
        if getattr(reading, field):
            wanted[f"lead_{field}"] = getattr(reading, field)
    if reading.urgency:
        wanted["lead_urgency"] = reading.urgency
        if reading.urgency != record.lead_urgency or reading.urgency_reason:
            wanted["lead_urgency_reason"] = reading.urgency_reason
    if reading.address:
        located = {
            "lead_latitude": reading.latitude,
            "lead_longitude": reading.longitude,
            "lead_in_service_area": reading.in_service_area,
            "lead_distance_miles": reading.distance_miles,
        }
        if reading.address != record.lead_address:  # A new or corrected address: its own facts only.
            wanted.update(lead_address=reading.address, **located)
        else:
            wanted.update({name: value for name, value in located.items() if value is not None})
    if record.lead_outcome not in _FINAL:
        wanted.update(lead_outcome=reading.outcome, lead_outcome_reason=reading.outcome_reason)
    return _changed(record, wanted, now)


def lead_outcome_changes(*, record: LeadRecord, outcome: str, reason: str, now: datetime, keep=()) -> dict:
    """Set the outcome (an event outside the engine: takeover, STOP, a booking by voice), unless
    the record's outcome is final or one of ``keep``."""
    if record.lead_outcome in _FINAL or record.lead_outcome in keep:
        return {}
    return _changed(record, {"lead_outcome": outcome, "lead_outcome_reason": reason}, now)


def lead_end_changes(*, record: LeadRecord, reason: str, now: datetime) -> dict:
    """The conversation ended with no outcome: price only when the customer's request was a price,
    else abandoned. An outcome already recorded stays."""
    if record.lead_outcome:
        return {}
    if record.lead_intent == "pricing":
        return _changed(
            record,
            {"lead_outcome": LeadOutcome.PRICE_ONLY, "lead_outcome_reason": LeadOutcomeReason.PRICE_ANSWERED},
            now,
        )
    return _changed(record, {"lead_outcome": LeadOutcome.ABANDONED, "lead_outcome_reason": reason}, now)


def lead_apply(record: LeadRecord, changes: dict) -> LeadRecord:
    """Set ``changes`` on the in-memory ``record`` (after they were written)."""
    for name, value in changes.items():
        setattr(record, name, value)
    return record


def _changed(record: LeadRecord, wanted: dict, now: datetime) -> dict:
    changes = {name: value for name, value in wanted.items() if getattr(record, name) != value}
    if changes:
        changes["lead_updated_at"] = now
    return changes
