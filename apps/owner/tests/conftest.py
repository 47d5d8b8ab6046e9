"""A business of its own for the Owner API's figures (created once per session, committed) and a
small fixed dataset in it (per test, rolled back) whose figures are worked out by hand in
test_analytics.py."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.tokens import token_pair_for
from apps.conversations.models import Conversation, Message
from apps.crm.models import Appointment, Customer, Reschedule
from apps.telephony.models import Call

# The signed-webhook fixtures of the telephony tests, for /twilio/owner-voice.
from apps.telephony.tests.conftest import _standin, business_numbers, twilio, webhook  # noqa: F401
from apps.tenants.services import business_register

FIGURES_BUSINESS = "Owner Figures Heating"
FIGURES_OWNER = "owner-figures@figures.test"
BUSINESS_NUMBER = "+13125550300"


@pytest.fixture(scope="session")
def figures_owner_id(people, django_db_blocker):
    with django_db_blocker.unblock():
        owner = User.objects.filter(email=FIGURES_OWNER).first()
        if owner is None:
            _, owner = business_register(
                business_name=FIGURES_BUSINESS,
                owner_email=FIGURES_OWNER,
                owner_password="figures-password-12345",
                owner_name="Fiona Figures",
                trade="hvac",
                timezone_name="America/Chicago",
                phone=BUSINESS_NUMBER,
            )
        connection.set_schema_to_public()
        return owner.pk


@pytest.fixture
def figures_owner(figures_owner_id, db):
    return User.objects.select_related("business").get(pk=figures_owner_id)


@pytest.fixture
def figures(figures_owner):
    return figures_owner.business


@pytest.fixture
def figures_client(figures_owner, client_for):
    """The figures business's owner, with seed 002's ``X-Owner-Token``."""
    return client_for(HTTP_X_OWNER_TOKEN=token_pair_for(figures_owner)["access_token"])


@dataclass
class Dataset:
    now: datetime
    customers: dict = field(default_factory=dict)
    appointments: dict = field(default_factory=dict)
    conversations: dict = field(default_factory=dict)
    calls: dict = field(default_factory=dict)
    reschedules: dict = field(default_factory=dict)


def _appointment(
    customer, *, start, job_type="", trade="", status="scheduled", value=None, emergency=False, address=""
):
    return Appointment.objects.create(
        customer=customer,
        job_type=job_type,
        trade=trade,
        status=status,
        estimated_value=None if value is None else Decimal(value),
        is_emergency=emergency,
        start=start,
        end=start + timedelta(hours=1),
        address=address,
        source="manual",
    )


def _message(conversation, *, direction, body, status, kind=None, created_at=None):
    inbound = direction == "inbound"
    message = Message.objects.create(
        conversation=conversation,
        direction=direction,
        kind=kind or ("customer" if inbound else "auto_reply"),
        from_number=conversation.customer_number if inbound else BUSINESS_NUMBER,
        to_number=BUSINESS_NUMBER if inbound else conversation.customer_number,
        body=body,
        status=status,
        segments=None if inbound else 1,
    )
    if created_at is not None:
        Message.objects.filter(pk=message.pk).update(created_at=created_at)
    return message


def _conversation(number, *, created_at, name="", appointment=None, outcome="", job_type="", status="active"):
    conversation = Conversation.objects.create(
        customer_number=number,
        business_number=BUSINESS_NUMBER,
        customer_name=name,
        appointment_id=appointment.id if appointment else None,
        lead_outcome=outcome,
        lead_job_type=job_type,
        status=status,
        last_message_at=created_at,
    )
    Conversation.objects.filter(pk=conversation.pk).update(created_at=created_at)
    conversation.created_at = created_at
    return conversation


def _call(sid, number, *, started_at, status="missed", conversation=None, duration=None):
    return Call.objects.create(
        call_sid=sid,
        from_number=number,
        to_number=BUSINESS_NUMBER,
        status=status,
        missed_reason="no-answer" if status == "missed" else "",
        duration=duration,
        conversation=conversation,
        started_at=started_at,
    )


def _reschedule(appointment, *, moved_by, created_at, requested_at=None, moved_at=None, hours=24):
    """A reschedule record as ``appointment_update`` writes it: ``requested`` without ``moved_at``,
    else moved by ``hours``."""
    fields = {"status": "requested", "to_start": None, "to_end": None}
    if moved_at is not None:
        delta = timedelta(hours=hours)
        fields = {"status": "moved", "to_start": appointment.start + delta, "to_end": appointment.end + delta}
    reschedule = Reschedule.objects.create(
        appointment=appointment,
        moved_by=moved_by,
        from_start=appointment.start,
        from_end=appointment.end,
        requested_at=requested_at,
        moved_at=moved_at,
        **fields,
    )
    Reschedule.objects.filter(pk=reschedule.pk).update(created_at=created_at)
    return reschedule


def build_dataset(now: datetime) -> Dataset:
    """The fixed dataset (see test_analytics.py for the figures it must give)."""
    data = Dataset(now=now)
    day, hour = timedelta(days=1), timedelta(hours=1)
    ann = Customer.objects.create(
        name="Ann", phone="+13125550201", email="ann@example.test", address="10 A St, Chicago, IL 60614"
    )
    ben = Customer.objects.create(name="Ben", phone="+13125550202")
    cy = Customer.objects.create(name="", phone="+13125550203", address="5 C Ave, Chicago IL 60601")
    data.customers = {"ann": ann, "ben": ben, "cy": cy}
    a = data.appointments
    a["A1"] = _appointment(ann, start=now - 10 * day, job_type="drain_cleaning", status="completed", value="200")
    a["A2"] = _appointment(
        ann,
        start=now - 5 * day,
        job_type="drain_cleaning",
        status="completed",
        value="300",
        emergency=True,
        address="77 Z St, Chicago IL 60614",
    )
    a["A3"] = _appointment(
        ben,
        start=now - 3 * day,
        job_type="water_heater",
        status="completed",
        value="1000",
        address="9 B Rd, Chicago, IL 60601",
    )
    a["A4"] = _appointment(cy, start=now - 2 * day, job_type="water_heater", status="cancelled", value="500")
    a["A5"] = _appointment(ben, start=now - 1 * day, trade="plumbing", status="scheduled")
    a["A6"] = _appointment(cy, start=now + 2 * day, job_type="drain_cleaning", status="scheduled", value="150")
    a["A7"] = _appointment(ann, start=now - 60 * day, job_type="drain_cleaning", status="completed", value="100")
    Appointment.objects.filter(pk=a["A7"].pk).update(created_at=now - 61 * day)
    Appointment.objects.filter(pk=a["A1"].pk).update(created_at=now - 2 * hour + timedelta(minutes=10))
    Appointment.objects.filter(pk=a["A5"].pk).update(created_at=now - 3 * hour + timedelta(minutes=2))

    v = data.conversations
    v["V1"] = _conversation(
        "+13125550201", created_at=now - 2 * hour, name="Ann", appointment=a["A1"], status="resolved"
    )
    v["V2"] = _conversation("+13125550202", created_at=now - 3 * hour, appointment=a["A5"], status="resolved")
    v["V3"] = _conversation("+13125550204", created_at=now - hour)
    v["V4"] = _conversation("+13125550207", created_at=now - 40 * timedelta(minutes=1))
    v["V5"] = _conversation("+13125550202", created_at=now - 20 * timedelta(minutes=1), outcome="booked")
    v["V6"] = _conversation("+13125550208", created_at=now - 30 * timedelta(minutes=1), outcome="price_only")
    v["V7"] = _conversation("+13125550209", created_at=now - 50 * timedelta(minutes=1), outcome="opted_out")
    _message(v["V1"], direction="outbound", body="Sorry we missed you", status="delivered")
    _message(v["V1"], direction="inbound", body="Drain is clogged", status="received")
    _message(v["V2"], direction="outbound", body="Sorry we missed you", status="delivered")
    _message(v["V2"], direction="inbound", body="Need a plumber", status="received")
    _message(v["V3"], direction="outbound", body="Sorry we missed you", status="failed")
    _message(v["V4"], direction="inbound", body="Can I reschedule?", status="received")
    _message(v["V5"], direction="inbound", body="R", status="received")
    _message(v["V6"], direction="inbound", body="How much for a water heater", status="received")
    _message(v["V7"], direction="inbound", body="stop", status="received")

    c = data.calls
    minute = timedelta(minutes=1)
    c["K1"] = _call("CAfig1", "+13125550201", started_at=now - 2 * hour - 5 * minute, conversation=v["V1"])
    c["K2"] = _call("CAfig2", "+13125550202", started_at=now - 3 * hour - 5 * minute, conversation=v["V2"])
    c["K3"] = _call("CAfig3", "+13125550204", started_at=now - hour - 5 * minute, conversation=v["V3"])
    c["K4"] = _call("CAfig4", "+13125550205", started_at=now - 50 * minute)
    c["K4a"] = _call("CAfig4a", "+13125550205", started_at=now - 4 * hour)
    c["K6"] = _call("CAfig6", "+13125550206", started_at=now - 5 * hour)
    c["K5"] = _call("CAfig5", "+13125550206", started_at=now - 4 * hour, status="answered", duration=120)
    r, hours = data.reschedules, [now - n * hour for n in range(6)]
    # R1: Ben's reminder answered R two hours ago, the assistant moved it an hour later (1 h).
    r["R1"] = _reschedule(a["A5"], moved_by="assistant", created_at=hours[2], requested_at=hours[2], moved_at=hours[1])
    # R2: the owner dragged Cy's job three hours ago; R3: Cy asked again 30 minutes ago, still open.
    r["R2"] = _reschedule(a["A6"], moved_by="calendar", created_at=hours[3], moved_at=hours[3])
    r["R3"] = _reschedule(a["A6"], moved_by="reminder_reply", created_at=now - hour / 2, requested_at=now - hour / 2)
    # R5: Ben's other job asked five hours ago, moved through the CRM API three hours later (3 h).
    r["R5"] = _reschedule(a["A3"], moved_by="crm_api", created_at=hours[5], requested_at=hours[5], moved_at=hours[2])
    # R6: asked nine days ago, moved by Bella's API a day ago (192 h): in a 7-day window by its move.
    r["R6"] = _reschedule(
        a["A2"], moved_by="appointments_api", created_at=now - 9 * day, requested_at=now - 9 * day, moved_at=now - day
    )
    # R4: moved ten days ago: outside a 7-day window.
    r["R4"] = _reschedule(a["A1"], moved_by="crm_api", created_at=now - 10 * day, moved_at=now - 10 * day)
    return data


@pytest.fixture
def dataset(figures):
    connection.set_tenant(figures)
    data = build_dataset(timezone.now())
    connection.set_schema_to_public()
    return data
