"""Every Owner API route: another business's credentials see nothing of this one's data, and the
number of SQL statements does not grow with the data."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.tokens import token_pair_for
from apps.conversations.models import Conversation, Message
from apps.crm.models import Appointment, Customer, Reschedule
from apps.telephony.models import Call
from apps.tenants.models import ApiCredential
from apps.tenants.services import credential_create

pytestmark = pytest.mark.django_db

JSON_PATHS = [
    "/v1/owner/schedule/tomorrow",
    "/v1/owner/summary/today",
    "/v1/owner/workload/next?days=14",
    "/v1/owner/business",
    "/v1/owner/service-mix?days=90",
    "/v1/owner/pipeline?days=90",
    "/v1/owner/customers/analytics?days=90",
    "/v1/owner/service-economics?days=90",
    "/v1/owner/neighborhoods?days=90",
    "/v1/owner/time-to-book?days=90",
    "/v1/owner/conversion-funnel?days=90",
    "/v1/owner/data-completeness?days=90",
    "/v1/owner/followups?days=90",
    "/v1/owner/retention?min_days=1",
    "/v1/owner/conversations/recent?limit=50",
    "/v1/owner/conversations/review?limit=50",
    "/v1/owner/reschedules?days=90",
    "/v1/owner/callbacks?days=90",
    "/v1/owner/sms-metrics?days=90",
    "/v1/owner/twilio-metrics?days=90",
]
CSV_PATHS = ["/v1/owner/export/service-mix.csv?days=90", "/v1/owner/export/conversations.csv?days=90"]
# The dataset's own markers: its customers' numbers and its job names.
MARKERS = ("+131255502", "drain_cleaning", "water_heater", "Ann", "reschedule")


def _body(response) -> str:
    return b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()


@pytest.mark.parametrize("path", JSON_PATHS + CSV_PATHS)
def test_another_business_sees_nothing(path, dataset, figures, charlie, client_for):
    mine = client_for(HTTP_X_OWNER_TOKEN=token_pair_for(charlie)["access_token"]).get(path)
    assert mine.status_code == 200
    text = _body(mine)
    assert not [marker for marker in MARKERS if marker in text], text[:500]
    assert str(figures.id) not in text


@pytest.mark.parametrize("path", ["/v1/owner/service-mix?days=90", "/v1/owner/export/conversations.csv?days=90"])
def test_credentials_of_another_business_or_role_are_refused(path, dataset, figures, charlie, bob, client_for):
    _, figures_key = credential_create(business=figures, kind=ApiCredential.Kind.API_KEY, name="owner-tests")
    assert client_for(HTTP_X_API_KEY=figures_key).get(path).status_code == 200  # the control
    # Charlie's owner token with the figures business's key: the token decides, the request is Beta's.
    mixed = client_for(HTTP_X_OWNER_TOKEN=token_pair_for(charlie)["access_token"], HTTP_X_API_KEY=figures_key)
    response = mixed.get(path)
    assert response.status_code == 200 and "+131255502" not in _body(response)
    # A tampered token is refused, not read as anonymous.
    refused = client_for(HTTP_AUTHORIZATION="Bearer " + token_pair_for(charlie)["access_token"][:-2] + "xx")
    assert refused.get(path).status_code == 401
    # X-Owner-Token is for owners only; no credential at all is a 401 too.
    assert client_for(HTTP_X_OWNER_TOKEN=token_pair_for(bob)["access_token"]).get(path).status_code == 401
    assert client_for().get(path).status_code == 401


def _grow(business, now, n: int):
    """``n`` more customers, each with an appointment (moved once), a conversation of two texts and a
    missed call."""
    connection.set_tenant(business)
    customers = Customer.objects.bulk_create(
        Customer(name=f"Grown {i}", phone=f"+1646555{i:04d}", address=f"{i} Elm St, Chicago IL 606{i % 90:02d}")
        for i in range(n)
    )
    appointments = Appointment.objects.bulk_create(
        Appointment(
            customer=customer,
            job_type=f"service_{i % 7}",
            status=["scheduled", "completed", "cancelled", "confirmed"][i % 4],
            start=now - timedelta(days=20) + timedelta(hours=2 * i),
            end=now - timedelta(days=20) + timedelta(hours=2 * i + 1),
            estimated_value=Decimal(100 + i),
            source="manual",
        )
        for i, customer in enumerate(customers)
    )
    Reschedule.objects.bulk_create(
        Reschedule(
            appointment=appointment,
            status="moved",
            moved_by="calendar",
            from_start=appointment.start - timedelta(days=1),
            from_end=appointment.end - timedelta(days=1),
            to_start=appointment.start,
            to_end=appointment.end,
            moved_at=now - timedelta(minutes=i),
        )
        for i, appointment in enumerate(appointments)
    )
    conversations = Conversation.objects.bulk_create(
        Conversation(customer_number=c.phone, business_number="+13125550300", status="resolved", last_message_at=now)
        for c in customers
    )
    Message.objects.bulk_create(
        Message(
            conversation=v,
            direction=direction,
            kind="customer" if direction == "inbound" else "auto_reply",
            from_number=v.customer_number,
            to_number="+13125550300",
            body="Please reschedule" if direction == "inbound" else "Sorry we missed you",
            status="received" if direction == "inbound" else "delivered",
        )
        for v in conversations
        for direction in ("outbound", "inbound")
    )
    Call.objects.bulk_create(
        Call(call_sid=f"CAgrow{i}", from_number=v.customer_number, to_number="+13125550300", status="missed",
             conversation=v, started_at=now - timedelta(minutes=i))
        for i, v in enumerate(conversations)
    )  # fmt: skip
    connection.set_schema_to_public()


def test_query_counts_do_not_grow_with_the_data(dataset, figures, figures_client, django_assert_max_num_queries):
    counts = {}
    for path in JSON_PATHS + CSV_PATHS:
        with CaptureQueriesContext(connection) as queries:
            response = figures_client.get(path)
            _body(response)
        assert response.status_code == 200, path
        counts[path] = len(queries)
        assert counts[path] <= 10, (path, [q["sql"][:120] for q in queries.captured_queries])
    _grow(figures, dataset.now, 120)
    for path in JSON_PATHS + CSV_PATHS:
        with django_assert_max_num_queries(counts[path]):
            response = figures_client.get(path)
            text = _body(response)
        assert response.status_code == 200, path
    assert "Grown 119" not in text  # (the last path is the conversations export: numbers, not names)
    assert text.count("\n") == 1 + 7 + 120  # header, the dataset's 7 conversations and the 120 grown ones
