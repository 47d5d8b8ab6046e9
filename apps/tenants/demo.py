"""The demo data's names and logins, created and printed by ``manage.py seed_demo`` (``make run``),
and the demo businesses the admin API seeds."""

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

DEMO_BUSINESS = "Acme Plumbing"
DEMO_OWNER = ("owner@acme.test", "acme-demo-2026")
PLATFORM_ADMIN = ("admin@nevermisscall.test", "platform-demo-2026")
DEMO_NUMBER = "+15005550006"  # Acme's business number in the demo (Twilio's test-number range).
DEMO_FORWARDING = "+15005550007"

# --- Demo businesses for the admin API (``POST /v1/admin/demo-tenants``) -------------------------
# Thirty days of calls, missed-call texts, replies and bookings, written through the product's
# services (call_receive, the missed-call path, customer_get_or_create_by_phone, appointment_book)
# and then dated back. Idempotent: the business is found by its name, calls by their CallSid,
# texts by their idempotency key, bookings by their slot. Nothing reaches a provider: demo
# businesses' deliveries never go to a real one (apps/outbox/dispatcher.py), no inbound text is
# handed to the assistant, and no number is bought (the demo numbers are assigned, 555 range).

DEMO_DAYS = 30
DEMO_PASSWORD = "demo-business-2026"
DEMO_JOBS = {
    "plumbing": [("Drain cleaning", 90), ("Water heater repair", 180), ("Leak repair", 120), ("Toilet repair", 60)],
    "electrical": [("Outlet repair", 60), ("Panel upgrade", 240), ("Lighting install", 120), ("EV charger", 180)],
    "hvac": [("AC repair", 120), ("Furnace tune-up", 90), ("Duct cleaning", 180), ("Thermostat install", 60)],
}
DEMO_CATALOGUE = [
    ("Demo Plumbing Co", "plumbing", "+15005550101"),
    ("Demo Electric Co", "electrical", "+15005550102"),
    ("Demo Heating & Air", "hvac", "+15005550103"),
    ("Demo Rooter Pros", "plumbing", "+15005550104"),
    ("Demo Volt Masters", "electrical", "+15005550105"),
]
DEMO_NAMES = ["Maria Lopez", "James Smith", "Aisha Khan", "Tom Becker", "Lin Chen", "Rosa Diaz", "Sam Okafor"]
DEMO_REPLIES = ["Yes please, tomorrow morning?", "How much for that?", "It's leaking a lot, can you come today?"]


@dataclass(frozen=True)
class DemoSummary:
    business_id: str
    name: str
    created: bool
    calls: int
    missed: int
    bookings: int
    owner_email: str


def _demo_slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())[:20]


def demo_business_seed(*, name: str, trade: str = "plumbing", number: str, calls_per_day: int = 3) -> DemoSummary:
    """The demo business ``name`` with its owner, number and 30 days of activity (idempotent)."""
    from apps.tenants.models import Business
    from apps.tenants.services import business_register

    tag = _demo_slug(name)
    owner_email = f"owner@{tag}.demo.test"
    business = Business.objects.filter(is_demo=True, name=name).first()
    created = business is None
    if created:
        business, _ = business_register(
            business_name=name,
            owner_email=owner_email,
            owner_password=DEMO_PASSWORD,
            owner_name="Demo Owner",
            trade=trade,
            timezone_name="America/New_York",
            is_demo=True,
        )
    counts = demo_activity_seed(business=business, trade=trade, number=number, calls_per_day=calls_per_day)
    return DemoSummary(str(business.pk), business.name, created, *counts, owner_email=owner_email)


def demo_activity_seed(*, business, trade: str, number: str, calls_per_day: int = 3) -> tuple[int, int, int]:
    """30 days of calls, missed-call texts, replies and bookings for the demo ``business`` on its
    ``number`` (idempotent: a second run adds nothing); returns (calls, missed, bookings)."""
    with tenant_context(business):
        return _demo_activity(
            business=business, tag=_demo_slug(business.name), trade=trade, number=number, calls_per_day=calls_per_day
        )


def demo_catalogue_seed(*, count: int, calls_per_day: int = 3) -> list[DemoSummary]:
    """The first ``count`` businesses of the demo catalogue, each seeded (idempotent)."""
    return [
        demo_business_seed(name=name, trade=trade, number=number, calls_per_day=calls_per_day)
        for name, trade, number in DEMO_CATALOGUE[:count]
    ]


def _demo_activity(*, business, tag: str, trade: str, number: str, calls_per_day: int) -> tuple[int, int, int]:
    from apps.conversations.models import Conversation, Message
    from apps.crm.models import Appointment
    from apps.crm.services import appointment_book, customer_get_or_create_by_phone
    from apps.outbox.models import Delivery
    from apps.telephony import services as call_services
    from apps.telephony.models import Call
    from apps.telephony.phone_numbers import phone_number_assign
    from nevermisscall.errors import Conflict

    phone_number_assign(phone_number=number, friendly_name=f"{business.name} (demo)")
    jobs = DEMO_JOBS.get(trade, DEMO_JOBS["plumbing"])
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    calls = missed = 0
    for day in range(DEMO_DAYS, 0, -1):
        date = today - timedelta(days=day)
        day_rng = random.Random(f"{tag}:{day}")  # noqa: S311 (invented demo data, reproducible)
        for index in range(calls_per_day + day_rng.randint(-1, 2)):
            # One generator per call: a second run draws exactly what the first drew.
            rng = random.Random(f"{tag}:{day}:{index}")  # noqa: S311
            caller = f"+1212555{rng.randint(1000, 9999)}"
            name = rng.choice(DEMO_NAMES)
            at = date + timedelta(hours=8 + rng.randint(0, 10), minutes=rng.randint(0, 59))
            call_sid = f"CAdemo{tag}{day:02d}{index:02d}".ljust(34, "0")[:34]
            is_missed = rng.random() < 0.35
            job, minutes = rng.choice(jobs)
            emergency = rng.random() < 0.1
            wants_booking = rng.random() < 0.5
            with transaction.atomic():
                call, new = call_services.call_receive(
                    call_sid=call_sid, from_number=caller, to_number=number, caller_name=name
                )
                calls += 1
                if not new:  # Seeded before: idempotent.
                    missed += call.status == Call.Status.MISSED
                    continue
                if is_missed:
                    call = call_services.call_mark_missed(call=call)
                    missed += 1
                else:
                    Call.objects.filter(pk=call.pk).update(
                        status=Call.Status.ANSWERED, answered_at=at, duration=rng.randint(40, 600)
                    )
                Call.objects.filter(pk=call.pk).update(started_at=at, ended_at=at + timedelta(minutes=3))
                call.refresh_from_db()
                if call.conversation_id:
                    conversation = call.conversation
                    texts = Message.objects.filter(conversation=conversation, created_at__gte=today)
                    text_ids = [str(pk) for pk in texts.values_list("pk", flat=True)]
                    texts.update(created_at=at + timedelta(seconds=20), status=Message.Status.DELIVERED, segments=1)
                    # History, already delivered: the dispatcher never claims these.
                    Delivery.objects.filter(cause_type="message", cause_id__in=text_ids).update(
                        status=Delivery.Status.DELIVERED, created_at=at, sent_at=at + timedelta(seconds=20), segments=1
                    )
                    reply_at = at + timedelta(minutes=rng.randint(2, 30))
                    Message.objects.get_or_create(
                        idempotency_key=f"demo-reply:{call_sid}",
                        defaults={
                            "conversation": conversation,
                            "direction": Message.Direction.INBOUND,
                            "kind": Message.Kind.CUSTOMER,
                            "from_number": caller,
                            "to_number": number,
                            "body": rng.choice(DEMO_REPLIES),
                            "status": Message.Status.RECEIVED,
                            "handled_at": reply_at,  # History: never handed to the assistant.
                            "segments": 1,
                        },
                    )
                    Message.objects.filter(idempotency_key=f"demo-reply:{call_sid}").update(created_at=reply_at)
                    Conversation.objects.filter(pk=conversation.pk).update(
                        created_at=at,
                        last_message_at=reply_at,
                        customer_name=name,
                        lead_job_type=job,
                        lead_intent="emergency" if emergency else ("appointment" if wants_booking else "pricing"),
                        status=Conversation.Status.RESOLVED,
                    )
            if wants_booking:
                customer, _ = customer_get_or_create_by_phone(phone=caller, name=name)
                start = (date + timedelta(days=1)).replace(hour=8) + timedelta(hours=2 * (index % 5))
                if not Appointment.objects.filter(start=start).exists():
                    try:
                        appointment = appointment_book(
                            customer=customer,
                            start=start,
                            end=start + timedelta(minutes=minutes),
                            job_type=job,
                            trade=trade,
                            is_emergency=emergency,
                            estimated_value=Decimal(rng.randint(120, 900)),
                            status=Appointment.Status.COMPLETED
                            if start < timezone.now()
                            else Appointment.Status.SCHEDULED,
                        )
                    except Conflict:
                        continue
                    Appointment.objects.filter(pk=appointment.pk).update(created_at=at + timedelta(minutes=30))
                    if call.conversation_id:  # Booked in the texts the missed call started: a recovered job.
                        Conversation.objects.filter(pk=call.conversation_id).update(appointment_id=appointment.pk)
    bookings = Appointment.objects.count()
    return calls, missed, bookings
