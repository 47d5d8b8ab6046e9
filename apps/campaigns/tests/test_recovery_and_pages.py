"""The recovery queue (leads nobody booked, declined or answered, oldest first, against the
response target; the owner texted once past it) and the campaigns page (history, next run, pause)."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from apps.campaigns import selectors, services
from apps.campaigns.models import CampaignRun, Kind
from apps.conversations.models import Conversation, LeadOutcome, Message
from apps.outbox.models import Delivery
from apps.tenants.config.models import BusinessConfig

pytestmark = pytest.mark.django_db

BUSINESS_NUMBER = "+13125550111"
OWNER = "+13125550199"


def _ended(phone: str, *, quiet: timedelta, outcome=LeadOutcome.ABANDONED, human=False, booked=None, name=""):
    now = timezone.now()
    conversation = Conversation.objects.create(
        customer_number=phone,
        business_number=BUSINESS_NUMBER,
        customer_name=name,
        lead_outcome=outcome,
        appointment_id=booked,
        last_message_at=now - quiet,
        status=Conversation.Status.RESOLVED,
    )
    Message.objects.create(
        conversation=conversation,
        direction="inbound",
        kind="customer",
        from_number=phone,
        to_number=BUSINESS_NUMBER,
        body="my basement is flooding",
        status="received",
    )
    if human:
        Message.objects.create(
            conversation=conversation,
            direction="outbound",
            kind="human",
            from_number=BUSINESS_NUMBER,
            to_number=phone,
            body="calling you now",
            status="sent",
        )
    return conversation


# Open around the clock, so the wait in business hours is the wall clock's whenever this runs
# (tests/test_recovery_hours.py counts minutes inside real opening hours).
ALWAYS_OPEN = {
    day: {"open": "00:00", "close": "24:00", "closed": False}
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
}


def test_the_queue_lists_unworked_leads_oldest_first_and_alerts_the_owner_once(alpha):
    connection.set_tenant(alpha)
    BusinessConfig.objects.filter(pk=1).update(forwarding_number=OWNER, business_hours=ALWAYS_OPEN)
    oldest = _ended("+17735550501", quiet=timedelta(minutes=40), name="Dana")
    newer = _ended("+17735550502", quiet=timedelta(minutes=5))
    _ended("+17735550503", quiet=timedelta(minutes=50), human=True)
    _ended("+17735550504", quiet=timedelta(minutes=50), outcome=LeadOutcome.DECLINED_OUT_OF_AREA)
    _ended("+17735550505", quiet=timedelta(minutes=50), outcome=LeadOutcome.BOOKED, booked=oldest.id)
    queue = selectors.recovery_queue(now=timezone.now())
    assert [item.conversation_id for item in queue] == [oldest.id, newer.id]
    assert [item.over_target for item in queue] == [True, False]
    first = services.campaign_run(kind=Kind.RECOVERY)
    second = services.campaign_run(kind=Kind.RECOVERY)
    alerts = Delivery.objects.filter(business=alpha, purpose="owner_alert", recipient=OWNER, cause_id=str(oldest.id))
    assert (first.sent, second.selected, alerts.count()) == (1, 0, 1)
    assert "Dana wrote 40 min ago" in alerts.get().payload["body"]
    with time_machine.travel(timezone.now() + timedelta(minutes=15)):
        assert services.campaign_run(kind=Kind.RECOVERY).sent == 1  # The newer one, once past the target.
    assert selectors.recovery_queue(now=timezone.now())[0].owner_alerted


def test_the_pages_render_in_english_and_spanish(owner_client, alpha, alice):
    connection.set_tenant(alpha)
    BusinessConfig.objects.filter(pk=1).update(business_hours=ALWAYS_OPEN)
    _ended("+17735550506", quiet=timedelta(minutes=20), name="Dana")
    services.campaign_run(kind=Kind.REMINDER)
    page = owner_client.get("/campaigns/")
    assert page.status_code == 200
    assert b"Appointment reminder" in page.content and b"every 5 minutes" in page.content
    recovery = owner_client.get("/recovery/")
    assert recovery.status_code == 200 and b"Dana" in recovery.content and b"over target" in recovery.content
    alice.language = "es"
    alice.save(update_fields=["language"])
    spanish = owner_client.get("/recovery/")
    assert "Cola de recuperación".encode() in spanish.content


def test_pausing_a_campaign_from_the_page(owner_client, alpha):
    response = owner_client.post("/campaigns/pause/", {"kind": "reminder", "paused": "1"})
    assert response.status_code == 302
    connection.set_tenant(alpha)
    assert selectors.campaign_settings_get().reminders_paused
    run = services.campaign_run(kind=Kind.REMINDER)
    assert run.skipped_reasons == {"paused": 1} and run.trigger == CampaignRun.Trigger.BEAT
    assert owner_client.post("/campaigns/pause/", {"kind": "nonsense", "paused": "1"}).status_code == 302


def test_another_business_sees_none_of_the_queue(alpha, beta):
    connection.set_tenant(alpha)
    mine = _ended("+17735550507", quiet=timedelta(minutes=30))
    connection.set_tenant(beta)
    assert mine.id not in [item.conversation_id for item in selectors.recovery_queue(now=timezone.now())]
