"""Reads that assemble the engine's input from the current business's own data."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apps.crm import selectors as crm_selectors
from apps.crm.models import Appointment
from apps.dispatch import rules
from apps.tenants.config.models import WEEKDAYS
from apps.tenants.config.selectors import closed_dates
from apps.tenants.config.services import config_get

BOOKING_HORIZON_DAYS = 14


def business_context(*, business, now: datetime | None = None, config=None) -> dict:
    """The business fields of a ProcessConversationRequest, from its settings (TS-Config-Service);
    ``config``: the business's settings when the caller has read them already."""
    config = config or config_get()
    area = config.service_area or {}
    where = rules.extract_address(area.get("address") or "") or rules.Address("")
    ai = config.ai_settings or {}
    today = (now or datetime.now(UTC)).astimezone(ZoneInfo(business.timezone)).date()
    closed = closed_dates(config, start=today - timedelta(days=1), end=today + timedelta(days=BOOKING_HORIZON_DAYS + 2))
    return {
        "business_name": business.name,
        "trade_type": (config.trades or [business.trade])[0],
        "business_trades": list(config.trades or [business.trade]),
        "business_hours": {
            "timezone": business.timezone,
            **{day: config.business_hours.get(day) or {"closed": True} for day in WEEKDAYS},
            "closed_dates": [{"date": day.isoformat(), "name": name} for day, name in closed.items()],
        },
        "business_address": {
            "street": where.street or area.get("address") or "",
            "city": where.city or "",
            "state": where.state or "",
            "zip_code": where.zip_code or "",
            "latitude": area.get("latitude"),
            "longitude": area.get("longitude"),
            "service_radius_miles": area.get("radius_miles") or 25,
        },
        "job_estimates": config.job_estimates or [],
        "business_settings": {
            "ai_enabled": ai.get("enabled", True),
            "auto_book": ai.get("auto_book", True),
            "emergency_service": ai.get("emergency_service", True),
            "after_hours_emergency": ai.get("after_hours_emergency", "dispatch_now"),
            "emergency_multiplier": (
                float(config.emergency_multiplier) if config.emergency_multiplier is not None else None
            ),
            "pricing_note": config.pricing_note,
            "referral_note": config.referral_note,
            "emergency_response_minutes": 60,
            "appointment_buffer_minutes": 30,
            "min_lead_minutes": 60,
            "booking_horizon_days": BOOKING_HORIZON_DAYS,
            "language": config.language,
        },
    }


def calendar_events(*, now: datetime | None = None, horizon_days: int = 14) -> list[dict]:
    """Active appointments from a day ago to the booking horizon, as seed 000 CalendarEvents."""
    now = now or datetime.now(UTC)
    appointments = crm_selectors.busy_appointments(
        start=now - timedelta(days=1), end=now + timedelta(days=horizon_days + 2)
    )
    return [
        {
            "summary": job_type or "Appointment",
            "start_datetime": start,
            "end_datetime": end,
            "description": None,
            "location": address or None,
        }
        # Rows, not instances: the customer busy_appointments joins is not needed here.
        for job_type, start, end, address in appointments.values_list("job_type", "start", "end", "address")
    ]


def customer_history(*, phone: str) -> dict | None:
    customer = crm_selectors.customer_get_by_phone(phone=phone)
    if customer is None:
        return None
    last = customer.appointments.order_by("-start").first()
    upcoming = (
        customer.appointments.filter(status__in=Appointment.ACTIVE_STATUSES, start__gt=datetime.now(UTC))
        .order_by("start")
        .first()
    )
    return {
        "customer_id": str(customer.id),
        "name": customer.name,
        "address": customer.address,
        "language": customer.language,
        "previous_appointments": crm_selectors.customer_appointment_count(customer=customer),
        "last_service_date": last.start.date() if last else None,
        "notes": customer.notes,
        "upcoming_appointment": (
            {
                "appointment_id": str(upcoming.id),
                "start_datetime": upcoming.start,
                "end_datetime": upcoming.end,
                "job_type": upcoming.job_type,
            }
            if upcoming
            else None
        ),
    }


def dispatch_request_build(
    *,
    business,
    caller_phone: str,
    called_number: str,
    history: list[dict],
    current_message: str,
    now: datetime | None = None,
    config=None,
) -> dict:
    """A complete ProcessConversationRequest for one inbound message, from the business's data.

    ``history`` is ``[{"role": "customer" | "assistant" | "business" | "system", "content": str,
    "proposed_slot": <the proposed_slot of the response that produced that assistant message>}]``.
    """
    return {
        "caller_phone": caller_phone,
        "called_number": called_number,
        "conversation_history": history,
        "current_message": current_message,
        **business_context(business=business, now=now, config=config),
        "existing_calendar": calendar_events(now=now),
        "customer_history": customer_history(phone=caller_phone),
    }
