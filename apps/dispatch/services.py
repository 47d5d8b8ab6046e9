"""Writes of the dispatch app: run the engine and record the AI call; book what the customer confirmed."""

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name

from apps.crm.models import Appointment, Customer
from apps.crm.services import appointment_book, customer_get_or_create_by_phone
from apps.dispatch import engine, selectors
from apps.dispatch.models import AiUsage
from apps.dispatch.notifications import emergency_owner_notify
from apps.dispatch.pricing import CENT
from apps.tenants.config.services import config_get
from nevermisscall.errors import BusinessRuleViolation, Conflict

logger = logging.getLogger(__name__)


def ai_usage_record(*, response: dict, ai_result, conversation_ref: str = "") -> AiUsage | None:
    """One row per engine run in the business's schema; None outside a business (public schema)."""
    if connection.schema_name == get_public_schema_name():
        return None
    processing = response["processing"]
    return AiUsage.objects.create(
        engine=processing["engine"],
        model=ai_result.model if ai_result else "",
        prompt_tokens=ai_result.prompt_tokens if ai_result else 0,
        completion_tokens=ai_result.completion_tokens if ai_result else 0,
        latency_ms=ai_result.latency_ms if ai_result else processing["latency_ms"],
        cost_usd=ai_result.cost_usd if ai_result else Decimal("0"),
        fallback_used=processing["fallback_used"],
        error=(ai_result.error if ai_result else "")[:200],
        intent=response["extracted_info"]["intent"],
        conversation_ref=conversation_ref[:64],
    )


def conversation_process(*, request: dict, conversation_ref: str = "", now: datetime | None = None) -> dict:
    """Run the engine on one message and record the AI usage. Always returns a response."""
    response, ai_result = engine.process_conversation(request, now=now)
    ai_usage_record(
        response=response, ai_result=ai_result, conversation_ref=conversation_ref or request["caller_phone"]
    )
    return response


@dataclass
class BookingOutcome:
    """``appointment`` is set when the booking succeeded; otherwise ``response`` proposes another
    slot (someone else took this one a moment earlier) and its message is the polite alternative."""

    appointment: Appointment | None
    customer: Customer
    reply: str
    response: dict


def estimated_value(slot: dict) -> Decimal | None:
    """The midpoint of the quoted range (the emergency multiplier is already in it)."""
    low, high = slot.get("estimated_min"), slot.get("estimated_max")
    if low is None or high is None:
        return None
    return ((Decimal(str(low)) + Decimal(str(high))) / 2).quantize(CENT)


def appointment_book_from_dispatch(
    *,
    request: dict,
    response: dict,
    source: str = Appointment.Source.SMS,
    conversation_ref: str = "",
    now: datetime | None = None,
    config=None,
) -> BookingOutcome:
    """Book the slot the customer just confirmed (``next_action.action == "book_appointment"``).

    Matches or creates the customer by phone, books with the quoted value, and tells the owner about
    emergencies. When the slot was taken in the meantime (the database refuses the overlap), the
    engine runs again on the fresh calendar and the outcome carries its alternative proposal.
    """
    if response["next_action"]["action"] != "book_appointment" or not response.get("proposed_slot"):
        raise BusinessRuleViolation("Nothing to book: the customer has not confirmed a slot.")
    info, slot = response["extracted_info"], response["proposed_slot"]
    customer, _ = customer_get_or_create_by_phone(
        phone=request["caller_phone"],
        name=info["customer_name"] or "",
        address=info["customer_address"] or "",
        language=info["language"],
    )
    start, end = (datetime.fromisoformat(slot["start_datetime"]), datetime.fromisoformat(slot["end_datetime"]))
    try:
        with transaction.atomic():
            appointment = appointment_book(
                customer=customer,
                start=start,
                end=end,
                # The business's own job key when its estimate matched (its duration and price were used).
                job_type=response["validation"].get("estimate_job_type") or info["job_type"] or info["trade"] or "",
                trade=info["trade"] or "",
                is_emergency=slot["is_emergency"],
                estimated_value=estimated_value(slot),
                address=info["customer_address"] or "",
                notes=(info["job_description"] or "")[:1000],
                source=source,
            )
            config = config or config_get()
            if response["next_action"]["notify_owner"] and config.ai_settings.get("emergency_alerts", True):
                emergency_owner_notify(
                    message=emergency_message(info=info, slot=slot, phone=customer.phone),
                    forwarding_number=config.forwarding_number,
                    reference=conversation_ref,
                    appointment_id=str(appointment.id),
                )
    except Conflict:
        fresh = dict(request, existing_calendar=selectors.calendar_events(now=now))
        alternative, _ = engine.process_conversation(fresh, now=now, use_ai=False)
        return BookingOutcome(None, customer, alternative["next_action"]["message"], alternative)
    return BookingOutcome(appointment, customer, response["next_action"]["message"], response)


def emergency_message(*, info: dict, slot: dict | None, phone: str) -> str:
    parts = [
        "EMERGENCY",
        info.get("job_label") or info.get("trade") or "job",
        f"for {info.get('customer_name') or phone}",
        f"({phone})",
    ]
    if info.get("customer_address"):
        parts.append(f"at {info['customer_address']}")
    if slot:
        parts.append(f"- booked {slot['display']}")
    return " ".join(parts) + ": " + (info.get("job_description") or "")[:200]
