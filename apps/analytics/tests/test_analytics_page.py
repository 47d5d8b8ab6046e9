"""The analytics page's JSON (/analytics/data) against a fixed dataset with hand-computed figures:
local days and hours of Alpha's zone (America/Chicago, UTC−5 in June), the money figure, constant
query counts, Beta sees none of it, and who may read it."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.accounts.services import user_create
from apps.analytics.metrics import metrics_record
from apps.conversations.models import Conversation, Message
from apps.crm.models import Appointment, Customer
from apps.telephony.models import Call
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 10, 15, 32, tzinfo=UTC)  # 10:32 in Chicago
TODAY = datetime(2026, 6, 10, 15, 10, tzinfo=UTC)  # 10:10 local, June 10
LATE_EVENING = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)  # 22:00 local, June 9
BEFORE_MIDNIGHT = datetime(2026, 6, 9, 4, 30, tzinfo=UTC)  # 23:30 local, June 8 (June 9 in UTC)
WEEK_AGO = datetime(2026, 6, 3, 12, 0, tzinfo=UTC)  # June 3: in 30 days, not in 7


def _missed_call(number: str, *, replied: bool, value: str | None = None) -> None:
    conversation = Conversation.objects.create(
        customer_number=number, business_number="+13125550111", last_message_at=NOW
    )
    Call.objects.create(
        call_sid="CA" + number[1:].rjust(32, "0"),
        from_number=number,
        to_number="+13125550111",
        status=Call.Status.MISSED,
        missed_reason="no-answer",
        conversation=conversation,
        started_at=TODAY - timedelta(minutes=5),
    )
    if replied:
        Message.objects.create(
            conversation=conversation,
            direction="inbound",
            kind="customer",
            from_number=number,
            to_number="+13125550111",
            body="Water everywhere",
            status="received",
        )
    if value is not None:
        customer = Customer.objects.create(phone=number, name="Rita Recovered")
        appointment = Appointment.objects.create(
            customer=customer,
            job_type="Leak repair",
            start=NOW + timedelta(hours=2),
            end=NOW + timedelta(hours=3),
            estimated_value=Decimal(value),
        )
        conversation.appointment_id = appointment.id
        conversation.save(update_fields=["appointment_id"])


@pytest.fixture
def dataset(alpha):
    """June 10 10:10 local: 3 calls, 2 missed, 2 bookings (150 + 250), replies of 400 and 800 ms;
    June 9 22:00: 2 calls, 1 missed; June 8 23:30 (June 9 in UTC): 1 call, a 1,200 ms reply; June 3:
    5 calls. Rows: two missed calls today, one texted back and booked (300), one not."""
    with time_machine.travel(NOW, tick=False), tenant_context(alpha):
        today = [("calls", 1.0)] * 3 + [("calls_missed", 1.0)] * 2 + [("bookings", 150.0), ("bookings", 250.0)]
        today += [("ai_turns", 400.0), ("ai_turns", 800.0)]
        for moment, increments in (
            (TODAY, today),
            (LATE_EVENING, [("calls", 1.0), ("calls", 1.0), ("calls_missed", 1.0)]),
            (BEFORE_MIDNIGHT, [("calls", 1.0), ("ai_turns", 1200.0)]),
            (WEEK_AGO, [("calls", 1.0)] * 5),
        ):
            for increment in increments:
                metrics_record(increments=[increment], at=moment)
        _missed_call("+13126660001", replied=True, value="300")
        _missed_call("+13126660002", replied=False)


def _data(client, status=200, **params):
    response = client.get("/analytics/data", params)
    assert response.status_code == status, response.content
    return response.json()


def test_seven_days_by_local_day_with_the_money_figure(owner_client, dataset):
    with time_machine.travel(NOW, tick=False):
        body = _data(owner_client, range="7d")
    assert (body["grain"], body["timezone"], body["date_from"], body["date_to"]) == (
        "day",
        "America/Chicago",
        "2026-06-04",
        "2026-06-10",
    )
    assert body["labels"] == [f"2026-06-{day:02d}" for day in range(4, 11)]
    series = body["series"]
    assert series["calls"] == [0, 0, 0, 0, 1, 2, 3]
    assert series["missed"] == [0, 0, 0, 0, 0, 1, 2]
    assert series["recovered"] == [0, 0, 0, 0, 0, 0, 1]
    assert series["booked"] == [0, 0, 0, 0, 0, 0, 2]
    assert series["revenue"] == [0, 0, 0, 0, 0, 0, 400.0]
    assert series["response_time_ms"] == [None, None, None, None, 1200.0, None, 600.0]
    assert body["totals"] == {
        "calls": 6,
        "missed": 3,
        "recovered": 1,
        "booked": 2,
        "revenue": 400.0,
        "response_time_ms": 800.0,  # (400 + 800 + 1,200) / 3
    }
    assert body["money"] == {"missed_calls_recovered": 1, "jobs_booked": 1, "estimated_value": "300.00"}


def test_today_by_local_hour_and_the_longer_ranges(owner_client, dataset):
    with time_machine.travel(NOW, tick=False):
        today = _data(owner_client, range="today")
        month = _data(owner_client, range="30d")
        quarter = _data(owner_client, range="90d")
    assert today["grain"] == "hour"
    assert today["labels"] == [f"{hour:02d}:00" for hour in range(24)]
    assert today["series"]["calls"] == [0] * 10 + [3] + [0] * 13
    assert today["series"]["recovered"][10] == 1 and sum(today["series"]["recovered"]) == 1
    assert today["series"]["response_time_ms"][10] == 600.0
    assert (today["totals"]["calls"], today["totals"]["missed"], today["totals"]["response_time_ms"]) == (3, 2, 600.0)
    assert (month["date_from"], len(month["labels"]), month["totals"]["calls"]) == ("2026-05-12", 30, 11)
    assert month["series"]["calls"][month["labels"].index("2026-06-03")] == 5
    assert (quarter["date_from"], len(quarter["labels"]), quarter["totals"]["calls"]) == ("2026-03-13", 90, 11)


def test_queries_do_not_grow_with_the_range_or_the_data(owner_client, alpha, dataset):
    with time_machine.travel(NOW, tick=False):
        _data(owner_client, range="today")  # the session's first request reads the user once more
        with CaptureQueriesContext(connection) as week:
            _data(owner_client, range="7d")
        with tenant_context(alpha):
            for day in range(60):
                metrics_record(increments=[("calls", 1.0), ("bookings", 90.0)], at=NOW - timedelta(days=day))
        with CaptureQueriesContext(connection) as quarter:
            assert _data(owner_client, range="90d")["totals"]["calls"] == 71
    assert len(quarter) == len(week)


def test_another_business_sees_none_of_it(client, charlie, dataset):
    assert client.login(username=charlie.email, password=PASSWORD)
    with time_machine.travel(NOW, tick=False):
        body = _data(client, range="90d")
    assert body["totals"] == {
        "calls": 0,
        "missed": 0,
        "recovered": 0,
        "booked": 0,
        "revenue": 0.0,
        "response_time_ms": None,
    }
    assert body["money"] == {"missed_calls_recovered": 0, "jobs_booked": 0, "estimated_value": "0.00"}


def test_the_page_bad_ranges_and_who_may_read(owner_client, client, alpha):
    page = owner_client.get("/analytics/?range=30d")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="chart-calls"' in html and 'data-range="30d"' in html and 'href="/analytics/"' in html
    assert "<script>" not in html  # scripts are files; the words travel as JSON data
    owner_client.post("/language/", {"language": "es", "next": "/analytics/"})
    spanish = owner_client.get("/analytics/").content.decode()
    assert "Analítica" in spanish and "Últimos 90 días" in spanish and "Tiempo de respuesta (s)" in spanish
    bad = _data(owner_client, 400, range="year")
    assert bad["success"] is False and "year" in bad["error"]["message"]
    assert owner_client.get("/analytics/?range=year").status_code == 400

    owner_client.logout()
    technician = user_create(
        email="tina@alpha.test", password=PASSWORD, business=alpha, role=Role.TECHNICIAN, first_name="Tina"
    )
    assert client.login(username=technician.email, password=PASSWORD)
    assert client.get("/analytics/data").status_code == 403
    assert client.get("/analytics/").status_code == 403
    assert client.get("/analytics/data").status_code == 403
    assert b'href="/analytics/"' not in client.get("/calls/").content
