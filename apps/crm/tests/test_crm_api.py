"""Seed 002's CRM API: customers, search, appointments, timeline, merge, conversation QA — and
Charlie (Beta) never reaching Alpha's rows with Alpha's ids."""

import threading
import uuid
from datetime import datetime, timedelta

import pytest
from django.db import connection, connections, transaction

from apps.accounts.services import user_create
from apps.accounts.tokens import token_pair_for
from apps.conversations.models import Conversation, Message, OptOut
from apps.crm import selectors
from apps.crm.models import Appointment, ConversationReview, Customer, CustomerPhone
from apps.crm.services import appointment_book, customer_get_or_create_by_phone, customer_merge
from apps.telephony.models import Call
from apps.tenants.services import credential_create
from nevermisscall.errors import NotFound

pytestmark = pytest.mark.django_db
NINE = datetime.fromisoformat("2026-12-01T15:00:00+00:00")
HOUR = timedelta(hours=1)
BUSINESS_NUMBER = "+13125559000"


@pytest.fixture
def in_alpha(alpha):
    connection.set_tenant(alpha)
    yield alpha
    connection.set_schema_to_public()


def _customer(phone, name=""):
    customer, _ = customer_get_or_create_by_phone(phone=phone, name=name)
    return customer


def _conversation(number, at, body="hi"):
    conversation = Conversation.objects.create(
        customer_number=number, business_number=BUSINESS_NUMBER, status=Conversation.Status.RESOLVED
    )
    Conversation.objects.filter(pk=conversation.pk).update(created_at=at)
    message = Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.INBOUND,
        kind=Message.Kind.CUSTOMER,
        from_number=number,
        to_number=BUSINESS_NUMBER,
        body=body,
        status="received",
    )
    Message.objects.filter(pk=message.pk).update(created_at=at + timedelta(minutes=1))
    return conversation, message


def _call(number, at):
    return Call.objects.create(
        call_sid=f"CA{uuid.uuid4().hex}", from_number=number, to_number=BUSINESS_NUMBER, status="missed", started_at=at
    )


def test_customer_crud_in_seed_shape_through_each_credential(alpha, alice, client_for):
    _, secret = credential_create(business=alpha, kind="api_key", name="crm")
    token = token_pair_for(alice)["access_token"]
    for index, client in enumerate(
        [client_for(HTTP_X_API_KEY=secret), client_for(HTTP_X_OWNER_TOKEN=token), client_for(alice)]
    ):
        phone = f"(312) 555-01{60 + index}"
        created = client.post("/v1/crm/customers", {"name": "Dana Ruiz", "phone": phone}, format="json")
        assert created.status_code == 201, created.content
        body = created.json()
        assert body["phone"] == f"+1312555016{index}" and body["name"] == "Dana Ruiz"
        again = client.post("/v1/crm/customers", {"phone": phone}, format="json")
        assert again.status_code == 409 and again.json() == {
            "detail": "A customer with this phone number already exists."
        }
        patched = client.patch(f"/v1/crm/customers/{body['id']}", {"email": "dana@example.com"}, format="json")
        assert patched.status_code == 200 and patched.json()["email"] == "dana@example.com"
        assert client.get(f"/v1/crm/customers/{body['id']}").json()["email"] == "dana@example.com"
        assert body["id"] in [c["id"] for c in client.get("/v1/crm/customers?limit=50").json()]
        assert client.delete(f"/v1/crm/customers/{body['id']}").status_code == 204
        assert client.get(f"/v1/crm/customers/{body['id']}").status_code == 404
    assert client_for().get("/v1/crm/customers").status_code == 401


def test_validation_is_422_in_seed_002_shape(alice, client_for):
    response = client_for(alice).post("/v1/crm/customers", {"phone": "not a phone"}, format="json")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"loc": ["body", "phone"], "msg": "Not a valid phone number.", "type": "invalid"}]
    }
    bad = client_for(alice).post(
        "/v1/crm/appointments",
        {"customer_id": str(uuid.uuid4()), "start": "2026-12-01T15:00:00Z", "status": "maybe"},
        format="json",
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "status"]


@pytest.mark.parametrize(
    "typed",
    ["(312) 555-0177", "312.555.0177", "+1 312 555 0177", "13125550177", "0177", "555-0177", "Marisol", "mari lop"],
)
def test_search_by_name_or_a_phone_in_any_format(in_alpha, alice, client_for, typed):
    wanted = _customer("+13125550177", "Marisol Lopez")
    _customer("+13125550288", "Other Person")
    connection.set_schema_to_public()
    response = client_for(alice).get("/v1/crm/customers/search", {"q": typed})
    assert response.status_code == 200
    assert [c["id"] for c in response.json()] == [str(wanted.pk)]


def test_search_needs_four_digits_for_a_number(in_alpha):
    _customer("+13125550177", "Marisol Lopez")
    assert not selectors.customer_search(query="177").exists()
    assert not selectors.customer_search(query="").exists()


def test_appointments_crud_status_technician_tags(in_alpha, alice, client_for):
    customer = _customer("+13125550190", "Tess")
    tech = user_create(
        email="tech@alpha.test", password="correct-horse-battery-9", business=in_alpha, role="technician"
    )
    staff = user_create(email="staff2@alpha.test", password="correct-horse-battery-9", business=in_alpha, role="staff")
    connection.set_schema_to_public()
    client = client_for(alice)
    body = {
        "customer_id": str(customer.pk),
        "start": "2026-12-01T15:00:00Z",
        "duration_min": 90,
        "is_emergency": True,
        "estimated_value": "450.00",
        "tags": ["water heater", "water heater", " vip "],
        "technician_id": str(tech.pk),
        "job_type": "Water heater",
    }
    created = client.post("/v1/crm/appointments", body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["status"], data["duration_min"], data["is_emergency"], data["estimated_value"]) == (
        "booked",
        90,
        True,
        "450.00",
    )
    assert data["tags"] == ["water heater", "vip"] and data["technician_id"] == str(tech.pk)
    conflict = client.post("/v1/crm/appointments", {**body, "start": "2026-12-01T16:00:00Z"}, format="json")
    assert conflict.status_code == 409 and "overlaps" in conflict.json()["detail"]
    not_tech = client.post(
        "/v1/crm/appointments", {**body, "start": "2026-12-02T15:00:00Z", "technician_id": str(staff.pk)}, format="json"
    )
    assert not_tech.status_code == 422
    url = f"/v1/crm/appointments/{data['id']}"
    for seed_status in ("confirmed", "completed", "no-show", "cancelled", "booked"):
        patched = client.patch(url, {"status": seed_status}, format="json")
        assert patched.status_code == 200 and patched.json()["status"] == seed_status
    moved = client.patch(url, {"start": "2026-12-01T18:00:00Z", "tags": [], "estimated_value": None}, format="json")
    assert moved.status_code == 200
    assert (moved.json()["start"], moved.json()["duration_min"], moved.json()["tags"]) == (
        "2026-12-01T18:00:00Z",
        90,
        [],
    )
    assert client.get(url).json()["estimated_value"] is None
    listed = client.get("/v1/crm/appointments", {"technician_id": str(tech.pk), "status": "booked"}).json()
    assert [a["id"] for a in listed] == [data["id"]]
    mine = client.get(f"/v1/crm/customers/{customer.pk}/appointments").json()
    assert [a["id"] for a in mine] == [data["id"]]
    # The technician reads the calendar but cannot change it.
    assert client_for(tech).get(url).status_code == 200
    assert client_for(tech).patch(url, {"status": "completed"}, format="json").status_code == 403


def test_timeline_interleaves_every_kind_newest_first_and_pages_with_a_bounded_query_count(
    in_alpha, alice, client_for, django_assert_max_num_queries
):
    customer = _customer("+13125550150", "Tim")
    base = datetime.fromisoformat("2026-11-01T12:00:00+00:00")
    _call("+13125550150", base)
    conversation, message = _conversation("+13125550150", base + timedelta(minutes=5))
    appointment = appointment_book(
        customer=customer, start=base + timedelta(days=2), end=base + timedelta(days=2, hours=1)
    )
    _call("+13125550999", base + timedelta(minutes=7))  # somebody else
    connection.set_schema_to_public()
    client = client_for(alice)
    response = client.get(f"/v1/crm/customers/{customer.pk}/timeline")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["kind"] for i in items] == ["appointment", "message", "conversation", "call"]
    assert items[0]["id"] == str(appointment.pk) and items[0]["data"]["status"] == "booked"
    assert items[1]["data"]["body"] == "hi" and items[2]["id"] == str(conversation.pk)
    assert response.json()["next_cursor"] is None
    # Pages of one: the same four, in the same order, one at a time.
    seen, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/v1/crm/customers/{customer.pk}/timeline", params).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [i["id"] for i in items]
    connection.set_tenant(in_alpha)
    for n in range(6):
        _conversation("+13125550150", base - timedelta(days=n + 1))
        _call("+13125550150", base - timedelta(days=n + 1))
    connection.set_schema_to_public()
    with django_assert_max_num_queries(14):  # auth + customer + numbers + one per kind, whatever the size
        assert len(client.get(f"/v1/crm/customers/{customer.pk}/timeline").json()["items"]) == 4 + 6 * 3
    assert client.get(f"/v1/crm/customers/{customer.pk}/timeline", {"cursor": "junk"}).status_code == 422


def test_merge_keeps_every_call_conversation_message_appointment_and_opt_out(in_alpha, alice, client_for):
    survivor = _customer("+13125550161", "Dana")
    duplicate = _customer("+13125550162", "")
    Customer.objects.filter(pk=duplicate.pk).update(email="dana@example.com", notes="gate code 4512")
    appointment = appointment_book(customer=duplicate, start=NINE, end=NINE + HOUR)
    call = _call("+13125550162", NINE - HOUR)
    conversation, message = _conversation("+13125550162", NINE - HOUR)
    OptOut.objects.create(phone_number="+13125550162", source=OptOut.Source.KEYWORD)
    connection.set_schema_to_public()
    client = client_for(alice)
    response = client.post(f"/v1/crm/customers/{survivor.pk}/merge", {"duplicate_id": str(duplicate.pk)}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["phones"] == ["+13125550161", "+13125550162"] and body["moved"]["crm.appointment"] == 1
    assert body["customer"]["email"] == "dana@example.com" and body["customer"]["notes"] == "gate code 4512"
    connection.set_tenant(in_alpha)
    assert not Customer.objects.filter(pk=duplicate.pk).exists()
    assert Appointment.objects.get(pk=appointment.pk).customer_id == survivor.pk
    timeline, _ = selectors.customer_timeline(customer=survivor)
    assert {(i.kind, i.id) for i in timeline} == {
        ("appointment", str(appointment.pk)),
        ("call", str(call.pk)),
        ("conversation", str(conversation.pk)),
        ("message", str(message.pk)),
    }
    assert OptOut.objects.filter(phone_number="+13125550162").exists()  # the number's STOP still holds
    # A later text from the old number finds the survivor, not a new duplicate.
    assert customer_get_or_create_by_phone(phone="(312) 555-0162") == (survivor, False)
    assert [c.pk for c in selectors.customer_search(query="555-0162")] == [survivor.pk]
    connection.set_schema_to_public()
    assert (
        client.post(
            f"/v1/crm/customers/{survivor.pk}/merge", {"duplicate_id": str(duplicate.pk)}, format="json"
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/v1/crm/customers/{survivor.pk}/merge", {"duplicate_id": str(survivor.pk)}, format="json"
        ).status_code
        == 422
    )


RACE_PHONES = ["+13125550171", "+13125550172"]


def _in_own_connection(alpha, work, barrier=None):
    outcome = {}

    def target():
        try:
            connection.set_tenant(alpha)
            if barrier:
                barrier.wait(timeout=10)
            outcome["value"] = work()
        except Exception as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def _cleanup(alpha):
    def work():
        with transaction.atomic():
            Appointment.objects.filter(customer__phone__in=RACE_PHONES).delete()
            CustomerPhone.objects.filter(phone__in=RACE_PHONES).delete()
            Customer.objects.filter(phone__in=RACE_PHONES).delete()

    thread, outcome = _in_own_connection(alpha, work)
    thread.join()
    assert "error" not in outcome, outcome


def test_two_merges_racing_in_opposite_directions_one_wins_nothing_is_lost(alpha, db):
    """Two real connections merge A into B and B into A at once: the row locks serialise them, the
    second finds its duplicate gone (NotFound); one customer holds both numbers and both bookings."""

    def setup():
        a, _ = customer_get_or_create_by_phone(phone=RACE_PHONES[0], name="A")
        b, _ = customer_get_or_create_by_phone(phone=RACE_PHONES[1], name="B")
        appointment_book(customer=a, start=NINE, end=NINE + HOUR)
        appointment_book(customer=b, start=NINE + HOUR, end=NINE + 2 * HOUR)
        return a.pk, b.pk

    _cleanup(alpha)
    try:
        thread, outcome = _in_own_connection(alpha, setup)
        thread.join()
        a_id, b_id = outcome["value"]
        barrier = threading.Barrier(2)
        runs = [
            _in_own_connection(alpha, lambda: customer_merge(survivor_id=a_id, duplicate_id=b_id), barrier),
            _in_own_connection(alpha, lambda: customer_merge(survivor_id=b_id, duplicate_id=a_id), barrier),
        ]
        for thread, _ in runs:
            thread.join(timeout=30)
        outcomes = [o for _, o in runs]
        assert sorted("value" in o for o in outcomes) == [False, True], outcomes
        assert isinstance(next(o["error"] for o in outcomes if "error" in o), NotFound)

        def state():
            customers = list(Customer.objects.filter(pk__in=[a_id, b_id]))
            return (
                customers,
                sorted(selectors.customer_numbers(customer=customers[0])),
                Appointment.objects.filter(customer=customers[0]).count(),
            )

        thread, outcome = _in_own_connection(alpha, state)
        thread.join()
        customers, numbers, appointments = outcome["value"]
        assert len(customers) == 1 and numbers == RACE_PHONES and appointments == 2
    finally:
        _cleanup(alpha)


def test_conversation_qa_round_trip(in_alpha, alice, client_for):
    conversation, _ = _conversation("+13125550181", NINE)
    connection.set_schema_to_public()
    client = client_for(alice)
    url = f"/v1/crm/conversations/{conversation.pk}/qa"
    response = client.patch(
        url,
        {"flags": ["wrong_price"], "tags": ["pricing", "pricing"], "outcome": "lost", "notes": "Quoted too high"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["tags"] == ["pricing"] and response.json()["reviewed_by"] == str(alice.pk)
    assert client.patch(url, {"notes": "Called back"}, format="json").json()["outcome"] == "lost"
    detail = client.get(f"/v1/crm/conversations/{conversation.pk}").json()
    assert detail["qa"]["flags"] == ["wrong_price"] and detail["qa"]["notes"] == "Called back"
    assert [m["body"] for m in detail["messages"]] == ["hi"]
    listed = client.get("/v1/crm/conversations", {"outcome": "lost"}).json()
    assert [c["id"] for c in listed] == [str(conversation.pk)]
    assert [c["id"] for c in client.get("/v1/crm/conversations", {"flagged": "true"}).json()] == [str(conversation.pk)]
    assert client.patch(url, {"outcome": "great"}, format="json").status_code == 422
    assert client.patch(url, {}, format="json").status_code == 422


def test_charlie_gets_nothing_with_alphas_ids(in_alpha, charlie, client_for):
    customer = _customer("+13125550191", "Alpha's customer")
    appointment = appointment_book(customer=customer, start=NINE, end=NINE + HOUR)
    conversation, _ = _conversation("+13125550191", NINE)
    connection.set_schema_to_public()
    client = client_for(charlie)
    for url in (
        f"/v1/crm/customers/{customer.pk}",
        f"/v1/crm/customers/{customer.pk}/appointments",
        f"/v1/crm/customers/{customer.pk}/timeline",
        f"/v1/crm/appointments/{appointment.pk}",
        f"/v1/crm/conversations/{conversation.pk}",
    ):
        assert client.get(url).status_code == 404, url
    assert client.patch(f"/v1/crm/customers/{customer.pk}", {"name": "x"}, format="json").status_code == 404
    assert client.delete(f"/v1/crm/customers/{customer.pk}").status_code == 404
    assert (
        client.patch(f"/v1/crm/appointments/{appointment.pk}", {"status": "cancelled"}, format="json").status_code
        == 404
    )
    assert client.patch(f"/v1/crm/conversations/{conversation.pk}/qa", {"notes": "x"}, format="json").status_code == 404
    mine = client.post("/v1/crm/customers", {"phone": "+13125550192"}, format="json").json()
    assert (
        client.post(
            f"/v1/crm/customers/{mine['id']}/merge", {"duplicate_id": str(customer.pk)}, format="json"
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/v1/crm/appointments", {"customer_id": str(customer.pk), "start": "2026-12-01T15:00:00Z"}, format="json"
        ).status_code
        == 404
    )
    assert client.get("/v1/crm/customers/search", {"q": "555-0191"}).json() == []
    assert str(customer.pk) not in [c["id"] for c in client.get("/v1/crm/customers").json()]
    assert str(appointment.pk) not in [a["id"] for a in client.get("/v1/crm/appointments").json()]
    assert str(conversation.pk) not in [c["id"] for c in client.get("/v1/crm/conversations").json()]
    connection.set_tenant(in_alpha)
    assert Customer.objects.get(pk=customer.pk).name == "Alpha's customer"
    assert Appointment.objects.get(pk=appointment.pk).status == "scheduled"
    assert not ConversationReview.objects.filter(conversation_id=conversation.pk).exists()
