"""The Owner API's figures against the fixed dataset of conftest.py, worked out by hand.

Window: the last 30 days. In it (by start): A1 drain 200 completed, A2 drain 300 completed
emergency, A3 water heater 1000 completed, A4 water heater 500 cancelled, A5 plumbing (no value)
scheduled. Outside: A6 drain 150 scheduled in two days, A7 drain 100 completed 60 days ago.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils.dateparse import parse_datetime

pytestmark = pytest.mark.django_db


def get(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.content
    return response.json()


def test_service_mix(figures_client, dataset):
    body = get(figures_client, "/v1/owner/service-mix?days=30")
    assert body["days"] == 30
    assert body["services"] == [
        {"service": "drain_cleaning", "appointments": 2, "completed": 2, "lost": 0, "emergencies": 1,
         "estimated_value": 500.0, "share_pct": 40.0},
        {"service": "water_heater", "appointments": 2, "completed": 1, "lost": 1, "emergencies": 0,
         "estimated_value": 1500.0, "share_pct": 40.0},
        {"service": "plumbing", "appointments": 1, "completed": 0, "lost": 0, "emergencies": 0,
         "estimated_value": 0.0, "share_pct": 20.0},
    ]  # fmt: skip
    # A7 (60 days ago) comes in with a 90-day window.
    wider = get(figures_client, "/v1/owner/service-mix?days=90")["services"]
    assert wider[0]["service"] == "drain_cleaning" and wider[0]["appointments"] == 3


def test_pipeline(figures_client, dataset):
    body = get(figures_client, "/v1/owner/pipeline?days=30")
    stages = {stage["status"]: stage for stage in body["stages"]}
    assert stages["completed"] == {"status": "completed", "appointments": 3, "estimated_value": 1500.0, "upcoming": 0}
    assert stages["cancelled"]["appointments"] == 1 and stages["cancelled"]["estimated_value"] == 500.0
    assert stages["scheduled"] == {"status": "scheduled", "appointments": 2, "estimated_value": 150.0, "upcoming": 1}
    assert stages["confirmed"]["appointments"] == 0 and stages["no_show"]["appointments"] == 0
    assert body["total"] == {"appointments": 6, "estimated_value": 2150.0, "upcoming": 1, "upcoming_value": 150.0}
    assert (body["open_value"], body["won_value"], body["completion_rate_pct"]) == (150.0, 1500.0, 50.0)


def test_customer_analytics(figures_client, dataset):
    body = get(figures_client, "/v1/owner/customers/analytics?days=30")
    assert (body["total_customers"], body["new_customers"], body["active_customers"]) == (3, 3, 2)
    assert (body["repeat_customers"], body["repeat_rate_pct"], body["customers_with_bookings"]) == (2, 100.0, 3)
    assert body["average_lifetime_value"] == 533.33 and body["average_bookings"] == 2.0
    top = [(row["rank"], row["name"], row["bookings"], row["revenue"]) for row in body["top_customers"]]
    assert top == [(1, "Ben", 2, 1000.0), (2, "Ann", 3, 600.0), (3, "", 1, 0.0)]


def test_service_economics(figures_client, dataset):
    services = get(figures_client, "/v1/owner/service-economics?days=30")["services"]
    assert [row["service"] for row in services] == ["water_heater", "drain_cleaning", "plumbing"]
    heater, drain, plumbing = services
    assert (heater["booked"], heater["completed_jobs"], heater["revenue"]) == (1, 1, 1000.0)
    assert (heater["average_ticket"], heater["median_ticket"], heater["revenue_share_pct"]) == (1000.0, 1000.0, 66.7)
    assert (heater["emergency_ticket"], heater["standard_ticket"]) == (None, 1000.0)
    assert (drain["booked"], drain["completed_jobs"], drain["revenue"], drain["average_ticket"]) == (2, 2, 500.0, 250.0)
    assert (drain["median_ticket"], drain["emergency_ticket"], drain["standard_ticket"]) == (250.0, 300.0, 200.0)
    assert drain["revenue_share_pct"] == 33.3 and drain["average_minutes"] == 60
    assert (plumbing["booked"], plumbing["completed_jobs"], plumbing["revenue"], plumbing["average_ticket"]) == (
        1,
        0,
        0.0,
        None,
    )


def test_neighborhoods(figures_client, dataset):
    rows = get(figures_client, "/v1/owner/neighborhoods?days=30")["neighborhoods"]
    assert rows == [
        {"area": "60601", "appointments": 2, "completed": 1, "emergencies": 0, "customers": 2,
         "estimated_value": 1000.0, "share_pct": 40.0},
        {"area": "60614", "appointments": 2, "completed": 2, "emergencies": 1, "customers": 1,
         "estimated_value": 500.0, "share_pct": 40.0},
        {"area": "unknown", "appointments": 1, "completed": 0, "emergencies": 0, "customers": 1,
         "estimated_value": 0.0, "share_pct": 20.0},
    ]  # fmt: skip


def test_time_to_book(figures_client, dataset):
    body = get(figures_client, "/v1/owner/time-to-book?days=30")
    # V1 booked A1 after 10 minutes, V2 booked A5 after 2; seven conversations in all.
    assert (body["conversations"], body["booked"], body["booking_rate_pct"]) == (7, 2, 28.6)
    assert (body["average_seconds"], body["median_seconds"], body["p90_seconds"]) == (360.0, 360.0, 552.0)
    assert (body["fastest_seconds"], body["slowest_seconds"]) == (120.0, 600.0)
    assert (body["within_5_minutes"], body["within_1_hour"], body["within_1_day"], body["over_1_day"]) == (1, 1, 0, 0)


def test_conversion_funnel(figures_client, dataset):
    body = get(figures_client, "/v1/owner/conversion-funnel?days=30")
    stages = [(s["stage"], s["count"], s["of_previous_pct"], s["of_missed_pct"]) for s in body["stages"]]
    assert stages == [
        ("missed_calls", 6, None, 100.0),
        ("texted", 3, 50.0, 50.0),
        ("replied", 2, 66.7, 33.3),
        ("booked", 2, 100.0, 33.3),
        ("completed", 1, 50.0, 16.7),
    ]
    assert body["overall_conversion_pct"] == 16.7


def test_data_completeness(figures_client, dataset):
    body = get(figures_client, "/v1/owner/data-completeness?days=30")
    appointments = body["appointments"]
    assert appointments["total"] == 5
    assert {name: field["filled"] for name, field in appointments["fields"].items()} == {
        "job_type": 4,
        "address": 4,
        "estimated_value": 4,
        "technician": 0,
        "customer_name": 4,
    }
    assert appointments["fields"]["job_type"]["pct"] == 80.0
    customers = body["customers"]
    assert customers["total"] == 3
    assert {name: field["filled"] for name, field in customers["fields"].items()} == {
        "name": 2,
        "email": 1,
        "address": 2,
    }
    conversations = body["conversations"]
    assert conversations["total"] == 7 and conversations["fields"]["customer_name"] == {"filled": 1, "pct": 14.3}
    assert conversations["fields"]["outcome"]["filled"] == 3


def test_followups(figures_client, dataset):
    body = get(figures_client, "/v1/owner/followups?days=30")
    assert body["total"] == 2
    assert body["by_outcome"] == [{"outcome": "open", "leads": 1}, {"outcome": "price_only", "leads": 1}]
    assert [lead["customer_number"] for lead in body["leads"]] == ["+13125550208", "+13125550207"]
    assert body["leads"][0]["inbound_messages"] == 1 and body["leads"][1]["outcome"] == "open"


def test_retention(figures_client, dataset):
    body = get(figures_client, "/v1/owner/retention")
    assert (body["customers_with_visits"], body["last_visit_0_90_days"], body["last_visit_over_365_days"]) == (2, 2, 0)
    assert (body["repeat_customers"], body["repeat_rate_pct"], body["with_future_appointment"]) == (1, 50.0, 1)
    assert body["due_for_retention"] == 0 and body["min_days_since_last_visit"] == 180
    assert body["median_days_between_visits"] == 27.5  # Ann's completed visits: 50 then 5 days apart
    # Ann's last visit was five days ago and nothing is booked ahead: due with a four-day threshold.
    assert get(figures_client, "/v1/owner/retention?min_days=4")["due_for_retention"] == 1


def test_reschedules_and_callbacks(figures_client, dataset):
    body = get(figures_client, "/v1/owner/reschedules?days=7")
    r = dataset.reschedules
    # R1, R2, R3, R5 recorded in the week, R6 moved in it; R4 (ten days ago) is not.
    assert (body["days"], body["total"], body["open_requests"], body["moved"], body["requests_moved"]) == (
        7,
        5,
        1,
        4,
        3,
    )
    assert body["median_hours_to_move"] == 3.0  # requests answered in 1, 3 and 192 hours
    assert body["moved_by"] == {
        "calendar": 1,
        "crm_api": 1,
        "appointments_api": 1,
        "assistant": 1,
        "reminder_reply": 0,
    }
    # Newest first by the move (or the request while it is open).
    assert [row["id"] for row in body["requests"]] == [str(r[n].id) for n in ("R3", "R1", "R5", "R2", "R6")]
    open_request, assistant = body["requests"][0], body["requests"][1]
    assert (open_request["status"], open_request["moved_by"], open_request["to_start"]) == (
        "requested",
        "reminder_reply",
        None,
    )
    assert (open_request["customer_number"], open_request["appointment_id"]) == (
        "+13125550203",
        str(dataset.appointments["A6"].id),
    )
    a5 = dataset.appointments["A5"]
    assert (assistant["customer_name"], assistant["status"], assistant["moved_by"]) == ("Ben", "moved", "assistant")
    assert parse_datetime(assistant["from_start"]) == a5.start
    assert parse_datetime(assistant["to_start"]) == a5.start + timedelta(hours=24)
    limited = get(figures_client, "/v1/owner/reschedules?days=7&limit=2")
    assert limited["total"] == 5 and len(limited["requests"]) == 2
    wide = get(figures_client, "/v1/owner/reschedules?days=30")
    assert (wide["total"], wide["moved_by"]["crm_api"]) == (6, 2)
    callbacks = get(figures_client, "/v1/owner/callbacks?days=7")
    # K1 and K2 callers booked after the call, K6's caller was answered later: K4 (twice) and K3 remain.
    assert callbacks["total"] == 2
    assert [(c["customer_number"], c["missed_calls"]) for c in callbacks["callbacks"]] == [
        ("+13125550205", 2),
        ("+13125550204", 1),
    ]
    assert callbacks["callbacks"][1]["conversation_id"] == str(dataset.conversations["V3"].id)


def test_sms_and_twilio_metrics(figures_client, dataset):
    sms = get(figures_client, "/v1/owner/sms-metrics?days=7")
    assert (sms["inbound"], sms["outbound"], sms["delivered"], sms["failed"], sms["segments"]) == (6, 3, 2, 1, 3)
    assert sms["delivery_rate_pct"] == 66.7 and sms["opt_outs"] == 0
    kinds = {(row["kind"], row["direction"]): row["messages"] for row in sms["by_kind"]}
    assert kinds == {("customer", "inbound"): 6, ("auto_reply", "outbound"): 3}
    twilio = get(figures_client, "/v1/owner/twilio-metrics?days=7")
    assert (twilio["calls"], twilio["answered"], twilio["missed"], twilio["answer_rate_pct"]) == (7, 1, 6, 14.3)
    assert twilio["average_talk_seconds"] == 120 and twilio["missed_by_reason"] == {"no-answer": 6}


def test_conversations_recent_and_review(figures_client, dataset, figures):
    from django.db import connection

    from apps.conversations.models import Conversation

    recent = get(figures_client, "/v1/owner/conversations/recent?limit=3")["conversations"]
    assert [row["id"] for row in recent] == [str(dataset.conversations[key].id) for key in ("V5", "V6", "V4")]
    assert recent[0]["message_count"] == 1 and recent[0]["last_message"] == "R"
    assert get(figures_client, "/v1/owner/conversations/review")["conversations"] == []
    connection.set_tenant(figures)
    Conversation.objects.filter(pk=dataset.conversations["V6"].pk).update(tags=["review"])
    Conversation.objects.filter(pk=dataset.conversations["V3"].pk).update(
        needs_you_reason="delivery_failed", needs_you_at=dataset.now
    )
    connection.set_schema_to_public()
    review = get(figures_client, "/v1/owner/conversations/review")["conversations"]
    assert [row["id"] for row in review] == [str(dataset.conversations[key].id) for key in ("V3", "V6")]
    assert review[0]["needs_you_reason"] == "delivery_failed"


def test_workload_and_business(figures_client, dataset, figures):
    body = get(figures_client, "/v1/owner/workload/next?days=3")
    tz = ZoneInfo(figures.timezone)
    today = dataset.now.astimezone(tz).date()
    a6_day = dataset.appointments["A6"].start.astimezone(tz).date()
    assert [row["date"] for row in body["workload"]] == [(today + timedelta(days=n)).isoformat() for n in range(3)]
    expected = [1 if today + timedelta(days=n) == a6_day else 0 for n in range(3)]
    assert [row["appointments"] for row in body["workload"]] == expected
    booked = [row for row in body["workload"] if row["appointments"]]
    assert all(row["booked_minutes"] == 60 and row["estimated_value"] == 150.0 for row in booked)
    business = get(figures_client, "/v1/owner/business")
    assert (business["id"], business["name"], business["timezone"]) == (
        str(figures.id),
        "Owner Figures Heating",
        "America/Chicago",
    )


@pytest.mark.parametrize(
    "path",
    ["/v1/owner/service-mix?days=0", "/v1/owner/pipeline?days=abc", "/v1/owner/workload/next?days=61",
     "/v1/owner/conversations/recent?limit=500", "/v1/owner/retention?min_days=-1"],
)  # fmt: skip
def test_bad_parameters_are_422_in_seed_002_shape(figures_client, path):
    response = figures_client.get(path)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail[0]["loc"] and detail[0]["msg"]
