"""Seed 002's on-demand campaign endpoints, the settings and the run history: the caller's business
only, invalid input refused in seed 002's shape, and the management command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from apps.campaigns.models import CampaignMessage, CampaignRun, CampaignSettings, Kind
from apps.crm.services import appointment_book, customer_get_or_create_by_phone
from apps.outbox.models import Delivery
from apps.tenants.services import credential_create

pytestmark = pytest.mark.django_db


def _booked(business, *, hours: float, phone: str):
    connection.set_tenant(business)
    customer, _ = customer_get_or_create_by_phone(phone=phone, name="Sam Ortiz")
    start = timezone.now() + timedelta(hours=hours)
    return appointment_book(customer=customer, start=start, end=start + timedelta(minutes=30))


def test_send_upcoming_with_an_api_key_reminds_within_hours_ahead(alpha, client_for):
    soon = _booked(alpha, hours=2, phone="+17735550401")
    later = _booked(alpha, hours=30, phone="+17735550402")
    _, secret = credential_create(business=alpha, kind="api_key", name="campaigns")
    response = client_for(HTTP_X_API_KEY=secret).post("/v1/reminders/send-upcoming?hours_ahead=3")
    connection.set_tenant(alpha)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["kind"], body["trigger"], body["reminders_sent"], body["sent"]) == ("reminder", "api", 1, 1)
    assert body["selected"] == 1 and body["finished_at"] is not None
    reminded = set(CampaignMessage.objects.filter(kind=Kind.REMINDER).values_list("appointment_id", flat=True))
    assert soon.id in reminded and later.id not in reminded
    again = client_for(HTTP_X_API_KEY=secret).post("/v1/reminders/send-upcoming?hours_ahead=3").json()
    assert again["reminders_sent"] == 0  # Never twice.


@pytest.mark.parametrize("hours", ["0", "500", "soon"])
def test_a_bad_hours_ahead_is_a_422_and_sends_nothing(alpha, alice, client_for, hours):
    _booked(alpha, hours=2, phone="+17735550403")
    response = client_for(alice).post(f"/v1/reminders/send-upcoming?hours_ahead={hours}")
    connection.set_tenant(alpha)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "hours_ahead"
    assert not CampaignRun.objects.filter(kind=Kind.REMINDER, trigger="api").exists()


def test_followups_and_retention_endpoints_record_runs(alice, alpha, client_for):
    client = client_for(alice)
    followups = client.post("/v1/reminders/send-followups")
    retention = client.post("/v1/retention/send-retention")
    assert followups.status_code == retention.status_code == 200
    assert "lead_followups_sent" in followups.json() and "retention_messages_sent" in retention.json()
    runs = client.get("/v1/campaigns/runs?limit=5").json()
    assert {run["run_id"] for run in runs[:2]} == {followups.json()["run_id"], retention.json()["run_id"]}


def test_another_business_sees_none_of_the_runs_and_settings(alpha, alice, charlie, client_for):
    run = client_for(alice).post("/v1/reminders/send-followups").json()
    client_for(alice).patch("/v1/campaigns/settings", {"review_link": "https://alpha.example/review"}, format="json")
    beta_runs = client_for(charlie).get("/v1/campaigns/runs").json()
    assert run["run_id"] not in {other["run_id"] for other in beta_runs}
    assert client_for(charlie).get("/v1/campaigns/settings").json()["review_link"] == ""
    assert client_for(alice).get("/v1/campaigns/settings").json()["review_link"] == "https://alpha.example/review"


def test_settings_that_cannot_be_stored_are_refused(alice, alpha, client_for):
    client = client_for(alice)
    for bad in ({"followup_delay_hours": 0}, {"review_link": "not a url"}, {"colour": "blue"}):
        response = client.patch("/v1/campaigns/settings", bad, format="json")
        assert response.status_code == 422, bad
    connection.set_tenant(alpha)
    assert not CampaignSettings.objects.exists()
    paused = client.patch("/v1/campaigns/settings", {"reminders_paused": True}, format="json")
    assert paused.status_code == 200 and paused.json()["reminders_paused"] is True


def test_anonymous_callers_are_refused(client):
    assert client.post("/v1/reminders/send-upcoming").status_code in (401, 403)


def test_the_command_runs_one_business_with_a_progress_bar(alpha):
    appointment = _booked(alpha, hours=1, phone="+17735550404")
    out = StringIO()
    call_command("campaign_run", "reminder", "--business", alpha.slug, "--hours-ahead", "2", stdout=out)
    connection.set_tenant(alpha)
    assert "1/1" in out.getvalue() and "1 sent" in out.getvalue()
    assert (
        Delivery.objects.filter(business=alpha, cause_id=str(appointment.id), purpose="campaign_reminder").count() == 1
    )
