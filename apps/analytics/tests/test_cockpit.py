"""Issue 12, the owner's cockpit: the stored feed, the periods, the money figure, bad input, profile."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.analytics import selectors
from apps.analytics.feed import feed_prune
from apps.analytics.models import FeedEvent
from apps.conversations import services as conversation_services
from apps.conversations.models import Conversation, Message
from apps.crm.models import Appointment, Customer
from apps.telephony.models import Call
from conftest import PASSWORD
from nevermisscall.events import publish_event

pytestmark = pytest.mark.django_db


def _texting_customer(business, *, number="+13125550900", name="Maria Lopez", body="My basement is flooding"):
    connection.set_tenant(business)
    conversation = Conversation.objects.create(
        customer_number=number, business_number="+13125550111", customer_name=name, last_message_at=timezone.now()
    )
    message = Message.objects.create(
        conversation=conversation,
        direction="inbound",
        kind="customer",
        from_number=number,
        to_number="+13125550111",
        body=body,
        status="received",
    )
    publish_event("new_message", conversation_services.message_payload(message), source_service="conversations")
    return conversation


def test_a_published_event_is_stored_with_name_speaker_and_text(alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        conversation = _texting_customer(alpha)
    row = FeedEvent.objects.get()
    assert (row.event_type, row.customer_name, row.actor, row.text) == (
        "new_message",
        "Maria Lopez",
        "customer",
        "My basement is flooding",
    )
    assert row.conversation_id == conversation.pk and row.customer_number == "+13125550900"


def test_the_live_event_carries_the_same_feed_fields(alpha):
    connection.set_tenant(alpha)
    Customer.objects.create(phone="+13125550901", name="Sam Ortiz")
    event = publish_event(
        "call_missed", {"from_number": "+13125550901", "conversation_id": None}, source_service="telephony"
    )
    assert event["feed"]["customer_name"] == "Sam Ortiz" and event["feed"]["feed_id"]
    assert event["payload"] == {"from_number": "+13125550901", "conversation_id": None}  # The seed's payload as it was.


def test_one_user_events_and_heartbeats_are_not_stored(alpha, alice):
    connection.set_tenant(alpha)
    publish_event("new_message", {"body": "for one user"}, source_service="x", user_id=alice.pk)
    publish_event("metrics_update", {"calls": 1}, source_service="x")
    assert not FeedEvent.objects.exists()


def test_takeover_names_the_team_member(alpha, alice):
    connection.set_tenant(alpha)
    conversation = Conversation.objects.create(
        customer_number="+13125550902", business_number="+13125550111", customer_name="Lee"
    )
    conversation_services.conversation_takeover(conversation=conversation, user=alice)
    row = FeedEvent.objects.get(event_type="human_takeover")
    assert row.actor == "staff" and row.actor_name and row.customer_name == "Lee"


def test_the_overview_shows_the_stored_feed_after_a_reload(owner_client, alpha):
    conversation = _texting_customer(alpha)
    page = owner_client.get("/").content.decode()
    assert "Maria Lopez texted" in page and "My basement is flooding" in page
    assert f'href="/inbox/{conversation.pk}/"' in page


def test_business_a_never_sees_business_b_feed(client, alpha, beta, charlie):
    _texting_customer(alpha, name="Alpha Only", body="alpha secret")
    _texting_customer(beta, number="+13125550903", name="Beta Person", body="beta words")
    connection.set_schema_to_public()
    beta.onboarding_completed_at = timezone.now()
    beta.save(update_fields=["onboarding_completed_at"])
    assert client.login(username=charlie.email, password=PASSWORD)
    page = client.get("/").content.decode()
    assert "Beta Person" in page and "beta words" in page
    assert "Alpha Only" not in page and "alpha secret" not in page
    connection.set_tenant(beta)
    assert list(FeedEvent.objects.values_list("customer_name", flat=True)) == ["Beta Person"]


def test_old_feed_rows_are_pruned_and_the_feed_shows_one_day(owner_client, alpha):
    connection.set_tenant(alpha)
    now = timezone.now()
    for days, name in ((40, "Ancient"), (2, "Last week"), (0, "Fresh")):
        FeedEvent.objects.create(event_type="call_missed", customer_name=name, created_at=now - timedelta(days=days))
    assert feed_prune() == 1
    assert [row.customer_name for row in selectors.feed_recent()] == ["Fresh"]


def _missed_call_booking(business, *, index: int, value: str | None, created_at=None, booked=True):
    connection.set_tenant(business)
    number = f"+1312555{index:04d}"
    customer = Customer.objects.create(phone=number, name=f"C{index}")
    start = timezone.now() + timedelta(days=1, hours=index)
    appointment = Appointment.objects.create(
        customer=customer,
        start=start,
        end=start + timedelta(minutes=30),
        estimated_value=Decimal(value) if value else None,
    )
    if created_at is not None:
        Appointment.objects.filter(pk=appointment.pk).update(created_at=created_at)
    conversation = Conversation.objects.create(
        customer_number=number, business_number="+13125550111", appointment_id=appointment.pk if booked else None
    )
    Call.objects.create(
        call_sid=f"CA{index:032d}",
        from_number=number,
        to_number="+13125550111",
        status=Call.Status.MISSED,
        conversation=conversation,
        started_at=timezone.now() - timedelta(minutes=5),
    )
    return appointment


def test_the_money_figure_counts_this_months_bookings_from_missed_calls(owner_client, alpha):
    _missed_call_booking(alpha, index=1, value="250")
    _missed_call_booking(alpha, index=2, value=None)  # A job, unpriced.
    cancelled = _missed_call_booking(alpha, index=3, value="900")
    Appointment.objects.filter(pk=cancelled.pk).update(status=Appointment.Status.CANCELLED)
    _missed_call_booking(alpha, index=4, value="700", created_at=timezone.now() - timedelta(days=62))  # Older.
    _missed_call_booking(alpha, index=5, value="300", booked=False)  # Booked by hand, not by the assistant.
    connection.set_tenant(alpha)
    walk_in = Customer.objects.create(phone="+13125559999")
    start = timezone.now() + timedelta(days=3)
    Appointment.objects.create(customer=walk_in, start=start, end=start + timedelta(hours=1), estimated_value=500)
    money = selectors.money_recovered(business=alpha)
    assert (money["jobs"], money["revenue"]) == (2, Decimal("250"))
    connection.set_schema_to_public()
    page = owner_client.get("/").content.decode()
    assert 'id="money-revenue">$250<' in page and "2 jobs booked" in page
    link = page.split('id="money" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    listed = owner_client.get(link).content.decode()
    names = re.findall(r"<strong>([^<]*)</strong>", listed)
    assert listed.count("data-appointment-id=") == 2 and "C1" in names and "C5" not in names


def test_periods_of_7_and_30_days(owner_client, alpha):
    connection.set_tenant(alpha)
    now = timezone.now()
    for days in (0, 3, 20, 45):
        Call.objects.create(
            call_sid=f"CA{days:032d}",
            from_number="+13125550100",
            to_number="+13125550111",
            status=Call.Status.MISSED,
            started_at=now - timedelta(days=days),
        )
    connection.set_schema_to_public()
    assert 'id="kpi-missed">1<' in owner_client.get("/").content.decode()
    assert 'id="kpi-missed">2<' in owner_client.get("/?period=7d").content.decode()
    page = owner_client.get("/?period=30d").content.decode()
    assert 'id="kpi-missed">3<' in page and "Last 30 days" in page


def test_kpi_cards_link_to_lists_with_the_right_rows(owner_client, alpha):
    connection.set_tenant(alpha)
    now = timezone.now()
    Call.objects.create(call_sid="CA" + "1" * 32, from_number="+13125550201", to_number="+1", status="missed")
    Call.objects.create(call_sid="CA" + "2" * 32, from_number="+13125550202", to_number="+1", status="answered")
    Call.objects.create(
        call_sid="CA" + "3" * 32,
        from_number="+13125550203",
        to_number="+1",
        status="missed",
        started_at=now - timedelta(days=3),
    )
    connection.set_schema_to_public()
    page = owner_client.get("/").content.decode()
    missed_link = page.split('id="kpi-missed"')[0].rsplit('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert "status=missed" in missed_link
    listed = owner_client.get(missed_link).content.decode()
    assert "+13125550201" in listed and "+13125550202" not in listed and "+13125550203" not in listed


@pytest.mark.parametrize(
    "path",
    [
        "/calls/?date_from=2026-13-45",
        "/calls/?date_to=tomorrow",
        "/calls/?status=lost",
        "/calls/?page=abc",
        "/calls/?page=0",
        "/customers/?page=-1",
        "/appointments/?week=2026-02-30",
        "/appointments/?week=9999-12-31",
        "/deliveries/?channel=fax",
        "/inbox/?page=x",
        "/inbox/?status=archived",
        "/?period=99d",
        "/bookings/?date_from=2026-13-45",
        "/bookings/?source=radio",
    ],
)
def test_bad_query_input_answers_the_400_page(owner_client, path):
    response = owner_client.get(path)
    assert response.status_code == 400, path
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'id="query-problems"' in page and 'class="mainnav"' in page


def test_the_api_keeps_its_envelope_for_the_same_mistakes(owner_client, client_for, alice):
    api = client_for(alice)
    response = api.get("/api/calls?date_from=2026-13-45")
    assert response.status_code == 400 and response["Content-Type"].startswith("application/json")
    assert response.json()["success"] is False
    assert api.get("/api/calls?page=abc").json()["success"] is False


def test_unknown_dashboard_urls_answer_the_404_page(owner_client):
    response = owner_client.get("/no-such-page/", HTTP_ACCEPT="text/html,application/xhtml+xml")
    assert response.status_code == 404 and 'class="mainnav"' in response.content.decode()
    assert owner_client.get("/no-such-page/", HTTP_ACCEPT="application/json").json()["success"] is False


def test_the_profile_changes_name_language_notifications_and_password(owner_client, alice):
    assert owner_client.get("/profile/").status_code == 200
    owner_client.post("/profile/", {"action": "name", "first_name": "Alicia", "last_name": "Keys"})
    owner_client.post("/profile/", {"action": "notifications", "emergency": "on"})
    response = owner_client.post("/profile/", {"action": "language", "language": "es"})
    assert response.cookies["django_language"].value == "es"
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name, alice.language) == ("Alicia", "Keys", "es")
    assert alice.preferences["notifications"]["missed_call"] is False
    assert alice.preferences["notifications"]["emergency"] is True and alice.preferences["dashboard"]["sound"] is False
    page = owner_client.get("/").content.decode()
    assert '"toast_missed_call": false' in page and '"sound": false' in page  # live.js honours them.
    assert "Resumen" in page or "Hoy" in page
    wrong = owner_client.post(
        "/profile/",
        {"action": "password", "current_password": "nope", "new_password": "x", "new_password_again": "x"},
    )
    assert wrong.status_code == 400
    new = "a-much-better-secret-42"
    response = owner_client.post(
        "/profile/",
        {"action": "password", "current_password": PASSWORD, "new_password": new, "new_password_again": new},
    )
    assert response.status_code == 302 and owner_client.get("/profile/").status_code == 200  # Still signed in.
    alice.refresh_from_db()
    assert alice.check_password(new)


def test_the_language_switch_stores_the_choice_and_goes_back(owner_client, alice):
    response = owner_client.post("/language/", {"language": "es", "next": "/calls/?status=missed"})
    assert response.status_code == 302 and response["Location"] == "/calls/?status=missed"
    alice.refresh_from_db()
    assert alice.language == "es"
    assert "Llamadas" in owner_client.get("/calls/").content.decode()
    assert owner_client.post("/language/", {"language": "en", "next": "https://evil.test/"})["Location"] == "/"


def test_manifest_icons_and_service_worker_are_served(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response["Service-Worker-Allowed"] == "/"
    assert b"showNotification" in response.content


def test_storing_an_event_is_one_statement(alpha):
    """It runs inside the hottest webhooks' transactions: the name is resolved inside the INSERT."""
    from django.test.utils import CaptureQueriesContext

    connection.set_tenant(alpha)
    Customer.objects.create(phone="+13125550904", name="Quinn")
    with CaptureQueriesContext(connection) as queries:
        event = publish_event("call_missed", {"from_number": "+13125550904"}, source_service="telephony")
    assert len(queries) == 1 and event["feed"]["customer_name"] == "Quinn"


@pytest.mark.parametrize("status", [400, 403, 404])
def test_error_pages_render_without_the_database(rf, alice, alpha, django_assert_num_queries, status):
    """Under ASGI Django renders them in a thread of its own: a query there would hold a connection
    that never goes back to the pool (and is not bound to the business)."""
    from nevermisscall import envelope

    request = rf.get("/nowhere/", HTTP_ACCEPT="text/html")
    request.user, request.tenant, request.session = alice, alpha, {}
    handler = {400: envelope.handler400, 403: envelope.handler403, 404: envelope.handler404}[status]
    with django_assert_num_queries(0):
        response = handler(request, None)
    assert response.status_code == status and b'class="mainnav"' in response.content


def test_the_assistants_reply_is_one_row_not_two(alpha):
    connection.set_tenant(alpha)
    reply = {"kind": "ai", "direction": "outbound", "to_number": "+13125550905", "body": "Booked for 3pm"}
    sent = publish_event("message_sent", reply, source_service="conversations")
    said = publish_event("ai_response", reply, source_service="conversations")
    assert sent["feed"] == {"shown": False}  # live.js leaves it out too.
    assert said["feed"]["shown"] and said["feed"]["actor"] == "assistant"
    assert list(FeedEvent.objects.values_list("event_type", "text")) == [("ai_response", "Booked for 3pm")]


def test_every_200th_write_prunes_in_the_same_statement(alpha, monkeypatch):
    import itertools

    from django.test.utils import CaptureQueriesContext

    from apps.analytics import feed

    connection.set_tenant(alpha)
    FeedEvent.objects.create(event_type="call_missed", created_at=timezone.now() - timedelta(days=31))
    monkeypatch.setattr(feed, "_writes", itertools.count(feed.PRUNE_EVERY))
    with CaptureQueriesContext(connection) as queries:
        publish_event("call_missed", {"from_number": "+13125550906"}, source_service="telephony")
    assert len(queries) == 1
    assert list(FeedEvent.objects.values_list("customer_number", flat=True)) == ["+13125550906"]
