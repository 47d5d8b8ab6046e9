"""The owner's one-line text after each missed call the assistant handled (opt-in): once per
conversation whoever sweeps, in the owner's language, booked or not; another business sees nothing."""

import itertools
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from apps.campaigns import services, tasks
from apps.campaigns.models import CampaignMessage, CampaignSettings, Kind
from apps.conversations.models import Conversation, LeadOutcome
from apps.crm.services import appointment_book, customer_get_or_create_by_phone
from apps.outbox.models import Delivery
from apps.telephony.models import Call
from apps.tenants.config.models import BusinessConfig

pytestmark = pytest.mark.django_db

OWNER = "+13125550177"
_numbers = itertools.count(300)


def _handled_call(*, name="", outcome=LeadOutcome.PRICE_ONLY, job="", booked_at=None, missed=True):
    number = f"+1773555{next(_numbers):04d}"
    appointment = None
    if booked_at is not None:
        customer, _ = customer_get_or_create_by_phone(phone=number, name=name)
        appointment = appointment_book(
            customer=customer, start=booked_at, end=booked_at + timedelta(hours=1), job_type="Leak repair"
        )
    conversation = Conversation.objects.create(
        customer_number=number,
        business_number="+13125550111",
        customer_name=name,
        lead_outcome=outcome,
        lead_job_label=job,
        lead_updated_at=timezone.now(),
        appointment_id=appointment.id if appointment else None,
        last_message_at=timezone.now(),
        status=Conversation.Status.RESOLVED,
    )
    Call.objects.create(
        call_sid=f"CAsummary{next(_numbers):024d}",
        from_number=number,
        to_number="+13125550111",
        status=Call.Status.MISSED if missed else Call.Status.ANSWERED,
        conversation=conversation,
        started_at=timezone.now() - timedelta(minutes=5),
    )
    return conversation


def _summaries(business, conversation):
    return Delivery.objects.filter(
        business=business,
        purpose="owner_alert",
        recipient=OWNER,
        cause_type="conversation",
        cause_id=str(conversation.id),
    )


def test_off_by_default_then_once_per_conversation_booked_and_not(alpha, beta):
    connection.set_tenant(alpha)
    BusinessConfig.objects.filter(pk=1).update(forwarding_number=OWNER, language="en")
    tomorrow_9 = (
        (timezone.now() + timedelta(days=2)).astimezone(ZoneInfo(alpha.timezone)).replace(hour=9, minute=0, second=0)
    )
    booked = _handled_call(name="Dana", outcome=LeadOutcome.BOOKED, job="burst pipe", booked_at=tomorrow_9)
    price = _handled_call(outcome=LeadOutcome.PRICE_ONLY)
    _handled_call(outcome=LeadOutcome.SPAM)
    _handled_call(outcome="")  # Still being handled.
    _handled_call(outcome=LeadOutcome.ABANDONED, missed=False)  # Not a missed call.
    assert services.campaign_run(kind=Kind.CALL_SUMMARY).sent == 0  # Off until the owner asks for it.
    assert not _summaries(alpha, booked).exists()

    services.campaign_settings_update(data={"call_summary_enabled": True})
    assert connection.schema_name in tasks.businesses_due(kind=Kind.CALL_SUMMARY)
    first = services.campaign_run(kind=Kind.CALL_SUMMARY)
    second = services.campaign_run(kind=Kind.CALL_SUMMARY)  # A second sweep, or a second beat.
    assert (first.selected, first.sent, second.selected, second.sent) == (2, 2, 0, 0)
    day = tomorrow_9.strftime("%a")
    assert (
        _summaries(alpha, booked)
        .get()
        .payload["body"]
        .endswith(f"Missed call from Dana, burst pipe, booked {day} 9:00")
    )
    assert (
        _summaries(alpha, price)
        .get()
        .payload["body"]
        .endswith(f"Missed call from {price.customer_number}, asked about price, not booked")
    )
    assert CampaignMessage.objects.filter(kind=Kind.CALL_SUMMARY).count() == 2
    assert connection.schema_name not in tasks.businesses_due(kind=Kind.CALL_SUMMARY)

    # Another business sees none of it and sends nothing for it.
    connection.set_tenant(beta)
    assert not CampaignMessage.objects.filter(kind=Kind.CALL_SUMMARY, subject_id=str(booked.id)).exists()
    assert not Delivery.objects.filter(business=beta, cause_id=str(booked.id)).exists()


def test_two_racing_inserts_send_once(alpha):
    connection.set_tenant(alpha)
    BusinessConfig.objects.filter(pk=1).update(forwarding_number=OWNER)
    services.campaign_settings_update(data={"call_summary_enabled": True})
    conversation = _handled_call(outcome=LeadOutcome.ABANDONED, job="water heater")
    from apps.campaigns import selectors

    candidates = selectors.campaign_candidates(kind=Kind.CALL_SUMMARY, now=timezone.now())
    # Both sweeps read the conversation as due before either inserted: the unique row decides.
    run = services.campaign_run(kind=Kind.CALL_SUMMARY)
    assert run.sent == 1
    outcomes = services._queue_chunk(
        kind=Kind.CALL_SUMMARY,
        chunk=candidates,
        run=run,
        settings=selectors.campaign_settings_get(),
        now=timezone.now(),
    )
    assert outcomes == {"skipped:already_sent": 1}
    assert _summaries(alpha, conversation).count() == 1
    assert _summaries(alpha, conversation).get().payload["body"].endswith("water heater, not booked")


def test_spanish_for_a_spanish_speaking_owner(alpha):
    connection.set_tenant(alpha)
    BusinessConfig.objects.filter(pk=1).update(forwarding_number=OWNER, language="es")
    services.campaign_settings_update(data={"call_summary_enabled": True})
    price = _handled_call(name="Lupe", outcome=LeadOutcome.PRICE_ONLY, job="fuga")
    when = (
        (timezone.now() + timedelta(days=3)).astimezone(ZoneInfo(alpha.timezone)).replace(hour=14, minute=30, second=0)
    )
    booked = _handled_call(name="Ana", outcome=LeadOutcome.BOOKED, booked_at=when)
    assert services.campaign_run(kind=Kind.CALL_SUMMARY).sent == 2
    assert (
        _summaries(alpha, price)
        .get()
        .payload["body"]
        .endswith("Llamada perdida de Lupe, fuga, preguntó el precio, sin cita")
    )
    assert "Llamada perdida de Ana, con cita el " in _summaries(alpha, booked).get().payload["body"]
    assert _summaries(alpha, booked).get().payload["body"].endswith("14:30")


def test_the_setting_through_the_api_and_the_page(alpha, alice, client_for, owner_client):
    client = client_for(alice)
    assert client.get("/v1/campaigns/settings").json()["call_summary_enabled"] is False
    for bad in ({"call_summary_enabled": "maybe"}, {"call_summary_texts": True}):
        assert client.patch("/v1/campaigns/settings", bad, format="json").status_code == 422, bad
    connection.set_tenant(alpha)
    assert not CampaignSettings.objects.exists()  # Nothing stored.
    on = client.patch("/v1/campaigns/settings", {"call_summary_enabled": True}, format="json")
    assert on.status_code == 200 and on.json()["call_summary_enabled"] is True

    page = owner_client.get("/campaigns/")
    assert b"Stop these texts" in page.content
    assert owner_client.post("/campaigns/owner-texts/", {"call_summary_enabled": "0"}).status_code == 302
    connection.set_tenant(alpha)
    assert CampaignSettings.objects.get().call_summary_enabled is False
    assert b"Text me after each missed call" in owner_client.get("/campaigns/").content
    owner_client.post("/campaigns/owner-texts/", {"call_summary_enabled": "yes"})
    connection.set_tenant(alpha)
    assert CampaignSettings.objects.get().call_summary_enabled is False
    alice.language = "es"
    alice.save(update_fields=["language"])
    spanish = owner_client.get("/campaigns/")
    assert "Envíame un texto tras cada llamada perdida".encode() in spanish.content
