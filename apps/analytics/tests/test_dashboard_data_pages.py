"""Overview, calls, inbox and thread, customers and appointments: content, isolation, query counts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.conversations.models import Conversation, Message
from apps.crm.models import Appointment, Customer
from apps.telephony.models import Call
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

PAGES = ("/", "/calls/", "/calls/?status=missed", "/inbox/", "/customers/", "/appointments/")


def _seed(business, count: int, offset: int = 0) -> list[Conversation]:
    """``count`` missed calls, each with a conversation (auto-text + customer reply), customer and booking."""
    connection.set_tenant(business)
    now = timezone.now()
    conversations = []
    for index in range(offset, offset + count):
        number = f"+1312555{index:04d}"
        conversation = Conversation.objects.create(
            customer_number=number, business_number="+13125550111", last_message_at=now
        )
        Call.objects.create(
            call_sid=f"CA{index:032d}",
            from_number=number,
            to_number="+13125550111",
            status=Call.Status.MISSED,
            missed_reason="no-answer",
            conversation=conversation,
            started_at=now - timedelta(minutes=5),
        )
        Message.objects.create(
            conversation=conversation,
            direction="outbound",
            kind="auto_reply",
            from_number="+13125550111",
            to_number=number,
            body="Sorry we missed you!",
            status="sent",
        )
        Message.objects.create(
            conversation=conversation,
            direction="inbound",
            kind="customer",
            from_number=number,
            to_number="+13125550111",
            body=f"My sink is leaking #{index}",
            status="received",
        )
        customer = Customer.objects.create(phone=number, name=f"Customer {index}")
        Appointment.objects.create(
            customer=customer,
            job_type="Leak repair",
            start=now + timedelta(hours=index + 1),
            end=now + timedelta(hours=index + 1, minutes=30),
            estimated_value=Decimal("200"),
        )
        conversations.append(conversation)
    connection.set_schema_to_public()
    return conversations


def _query_count(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured)


def test_pages_show_the_business_data(owner_client, alpha):
    conversations = _seed(alpha, 3)
    overview = owner_client.get("/").content.decode()
    assert 'id="kpi-missed">3<' in overview and 'id="kpi-recovered">3<' in overview
    assert 'id="kpi-booked">3<' in overview and 'id="kpi-revenue">$600<' in overview
    assert "+13125550002" in owner_client.get("/calls/").content.decode()
    assert "My sink is leaking #2" in owner_client.get("/inbox/").content.decode()
    thread = owner_client.get(f"/inbox/{conversations[0].pk}/").content.decode()
    assert "Sorry we missed you!" in thread and "Take over" in thread
    assert "Customer 1" in owner_client.get("/customers/?q=Customer").content.decode()
    assert "Leak repair" in owner_client.get("/appointments/").content.decode()


def test_query_counts_do_not_grow_with_the_data(owner_client, alpha):
    _seed(alpha, 3)
    for path in PAGES:  # Warm up: the first request of a session may write it.
        owner_client.get(path)
    small = {path: _query_count(owner_client, path) for path in PAGES}
    _seed(alpha, 27, offset=100)
    large = {path: _query_count(owner_client, path) for path in PAGES}
    assert small == large
    assert max(large.values()) <= 15, large


def test_another_business_sees_none_of_it(client, charlie, alpha):
    conversations = _seed(alpha, 2)
    assert client.login(username=charlie.email, password=PASSWORD)
    assert "+13125550001" not in client.get("/calls/").content.decode()
    assert "My sink" not in client.get("/inbox/").content.decode()
    assert client.get(f"/inbox/{conversations[0].pk}/").status_code == 404
    response = client.post(f"/inbox/{conversations[0].pk}/reply", {"body": "hijack"})
    assert response.status_code == 404
    connection.set_tenant(alpha)
    assert not Message.objects.filter(body="hijack").exists()


def test_take_over_reply_and_resolve_from_the_thread(owner_client, alpha, twilio, django_capture_on_commit_callbacks):
    conversation = _seed(alpha, 1, offset=500)[0]
    base = f"/inbox/{conversation.pk}"
    assert owner_client.post(f"{base}/takeover", {"confirm": "yes"}).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"{base}/reply", {"body": "Hi, this is Alice. I can come at 3pm."})
    assert response.status_code == 302
    sent = [r.form for r in twilio.messages()]
    assert [(form["To"], form["Body"]) for form in sent] == [("+13125550500", "Hi, this is Alice. I can come at 3pm.")]
    assert owner_client.post(f"{base}/resolve", {"confirm": "yes"}).status_code == 302
    connection.set_tenant(alpha)
    conversation.refresh_from_db()
    assert conversation.handled_by == "human" and conversation.status == "resolved"


def test_staff_reply_to_an_opted_out_customer_is_refused_with_a_message(owner_client, alpha, twilio):
    from apps.conversations.models import OptOut

    conversation = _seed(alpha, 1, offset=600)[0]
    connection.set_tenant(alpha)
    OptOut.objects.create(phone_number=conversation.customer_number, source="keyword", keyword="STOP")
    connection.set_schema_to_public()
    page = owner_client.post(f"/inbox/{conversation.pk}/reply", {"body": "Still there?"}, follow=True)
    assert page.status_code == 200
    assert b"flash-error" in page.content
    assert twilio.messages() == []
