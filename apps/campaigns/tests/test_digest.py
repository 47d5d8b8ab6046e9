"""The owner's daily digest (opt-in, SMS or e-mail, at a local hour): once per business per local
day whoever sweeps, not before the hour, on the right wall-clock hour across the 1 Nov 2026 DST
change, with figures checked on a small fixed dataset; another business sees nothing."""

import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.template.loader import render_to_string
from django.utils import translation

from apps.campaigns import selectors, services, tasks
from apps.campaigns.models import CampaignMessage, CampaignSettings, Kind
from apps.conversations.models import Conversation, LeadOutcome, Message
from apps.crm.models import Appointment
from apps.crm.services import customer_get_or_create_by_phone
from apps.outbox.models import Delivery
from apps.telephony.models import Call
from apps.tenants.config.models import BusinessConfig

pytestmark = pytest.mark.django_db

OWNER = "+13125550188"
OWNER_EMAIL = "owner-digest@alpha.test"
_numbers = itertools.count(500)


def _digests(business):
    return Delivery.objects.filter(business=business, cause_type="digest")


def _local(business, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(business.timezone))


def _set_up(business, *, channel="sms", hour=18):
    connection.set_tenant(business)
    BusinessConfig.objects.filter(pk=1).update(forwarding_number=OWNER, language="en")
    type(business).objects.filter(pk=business.pk).update(email=OWNER_EMAIL)
    services.campaign_settings_update(data={"digest_channel": channel, "digest_hour": hour})


def _run():
    return services.campaign_run(kind=Kind.DIGEST)


def test_sent_once_at_the_local_hour_not_before(alpha, beta):
    _set_up(alpha, hour=7)
    before = _local(alpha, 2026, 10, 14, 6, 59)
    with time_machine.travel(before, tick=False):
        assert connection.schema_name not in tasks.businesses_due(kind=Kind.DIGEST)
        assert _run().sent == 0
    at = _local(alpha, 2026, 10, 14, 7, 0)
    with time_machine.travel(at, tick=False):
        assert connection.schema_name in tasks.businesses_due(kind=Kind.DIGEST)
        first, second = _run(), _run()  # Two sweeps (or two beats) in the same day.
        assert (first.sent, second.selected, second.sent) == (1, 0, 0)
        assert connection.schema_name not in tasks.businesses_due(kind=Kind.DIGEST)
    with time_machine.travel(_local(alpha, 2026, 10, 14, 23, 30), tick=False):
        assert _run().sent == 0  # Later the same day: still one.
    digest = _digests(alpha).get()
    assert (digest.recipient, digest.channel, digest.cause_id) == (OWNER, "sms", "2026-10-14")
    assert digest.payload["body"].startswith(f"{alpha.name} today: ")
    assert CampaignMessage.objects.get(kind=Kind.DIGEST).subject_id == "2026-10-14"
    with time_machine.travel(_local(alpha, 2026, 10, 15, 7, 5), tick=False):
        assert _run().sent == 1  # The next local day: the next digest.
    assert _digests(alpha).count() == 2

    # Another business sees none of it, and has nothing due (its digest is off).
    connection.set_tenant(beta)
    assert not CampaignMessage.objects.filter(kind=Kind.DIGEST).exists()
    assert not _digests(beta).exists()
    with time_machine.travel(at, tick=False):
        assert beta.schema_name not in tasks.businesses_due(kind=Kind.DIGEST)


def test_two_racing_sweeps_send_one(alpha):
    _set_up(alpha)
    with time_machine.travel(_local(alpha, 2026, 10, 14, 18, 1), tick=False):
        now = _local(alpha, 2026, 10, 14, 18, 1)
        candidates = selectors.campaign_candidates(kind=Kind.DIGEST, now=now)
        assert [c.subject_id for c in candidates] == ["2026-10-14"]
        run = _run()  # The first sweep inserts; the second read the same candidate before it did.
        outcomes = services._queue_chunk(
            kind=Kind.DIGEST, chunk=candidates, run=run, settings=selectors.campaign_settings_get(), now=now
        )
    assert run.sent == 1 and outcomes == {"skipped:already_sent": 1}
    assert _digests(alpha).count() == 1


def test_dst_change_the_same_wall_clock_hour(campaign_businesses):
    business = campaign_businesses[0]  # America/Chicago: CDT (UTC-5) ends at 02:00 on 1 Nov 2026.
    assert business.timezone == "America/Chicago"
    _set_up(business, hour=18)
    utc = ZoneInfo("UTC")
    with time_machine.travel(datetime(2026, 10, 31, 23, 0, tzinfo=utc), tick=False):  # 18:00 CDT
        assert _run().sent == 1
    # 23:30 UTC on 1 Nov is 17:30 CST (it would be 18:30 under the old offset): not yet.
    with time_machine.travel(datetime(2026, 11, 1, 23, 30, tzinfo=utc), tick=False):
        assert business.schema_name not in tasks.businesses_due(kind=Kind.DIGEST)
        assert _run().sent == 0
    with time_machine.travel(datetime(2026, 11, 2, 0, 0, tzinfo=utc), tick=False):  # 18:00 CST
        assert business.schema_name in tasks.businesses_due(kind=Kind.DIGEST)
        assert _run().sent == 1
        assert _run().sent == 0
    assert sorted(_digests(business).values_list("cause_id", flat=True)) == ["2026-10-31", "2026-11-01"]


def test_email_channel(alpha):
    _set_up(alpha, channel="email", hour=9)
    with time_machine.travel(_local(alpha, 2026, 10, 14, 9, 0), tick=False):
        assert _run().sent == 1
        assert _run().sent == 0
    digest = _digests(alpha).get()
    assert (digest.channel, digest.recipient, digest.purpose) == ("email", OWNER_EMAIL, "owner_alert")
    assert digest.payload["template"] == "campaigns/email/digest"
    assert digest.payload["context"]["day"] == "2026-10-14"
    message = CampaignMessage.objects.get(kind=Kind.DIGEST)
    assert message.delivery_id == digest.id and message.phone == ""
    # What the outbox's e-mail channel renders at send time, in English and in Spanish.
    context = digest.payload["context"]
    assert (
        render_to_string("campaigns/email/digest_subject.txt", context).strip() == f"{alpha.name}: your day, 2026-10-14"
    )
    body = render_to_string("campaigns/email/digest.txt", context)
    assert "Calls: 0" in body and "Booked: 0 (estimated $0.00)" in body
    with translation.override("es"):
        assert "Llamadas: 0" in render_to_string("campaigns/email/digest.html", context)


def test_off_sends_nothing(alpha):
    _set_up(alpha, channel="off", hour=0)
    with time_machine.travel(_local(alpha, 2026, 10, 14, 20, 0), tick=False):
        assert alpha.schema_name not in tasks.businesses_due(kind=Kind.DIGEST)
        run = _run()
        api = services.campaign_run(kind=Kind.DIGEST, trigger="api")  # Opt-in: off whoever asks.
    assert (run.sent, run.skipped_reasons, api.sent) == (0, {"paused": 1}, 0)
    assert not _digests(alpha).exists()


def _call(*, at, missed, conversation=None):
    return Call.objects.create(
        call_sid=f"CAdigest{next(_numbers):026d}",
        from_number=f"+1773555{next(_numbers):04d}",
        to_number="+13125550111",
        status=Call.Status.MISSED if missed else Call.Status.ANSWERED,
        conversation=conversation,
        started_at=at,
    )


def test_figures_match_a_fixed_dataset(alpha):
    _set_up(alpha, hour=18)
    now = _local(alpha, 2026, 10, 14, 18, 30)
    morning, yesterday = _local(alpha, 2026, 10, 14, 9, 0), _local(alpha, 2026, 10, 13, 15, 0)
    number = f"+1773555{next(_numbers):04d}"
    # A missed call whose caller wrote back (recovered by text), a price-only lead nobody booked:
    # it waits in the recovery queue.
    waiting = Conversation.objects.create(
        customer_number=number,
        business_number="+13125550111",
        lead_outcome=LeadOutcome.PRICE_ONLY,
        last_message_at=morning + timedelta(minutes=5),
        status=Conversation.Status.RESOLVED,
    )
    Message.objects.create(
        conversation=waiting,
        direction="inbound",
        kind=Message.Kind.CUSTOMER,
        from_number=number,
        to_number="+13125550111",
        body="how much?",
        status="received",
        created_at=morning + timedelta(minutes=5),
    )
    _call(at=morning, missed=True, conversation=waiting)
    _call(at=morning + timedelta(hours=1), missed=True)  # Missed, never wrote back.
    _call(at=morning + timedelta(hours=2), missed=False)
    _call(at=yesterday, missed=True)  # Yesterday: not today's.
    _call(at=now + timedelta(minutes=10), missed=True)  # After the digest.
    customer, _ = customer_get_or_create_by_phone(phone=number, name="Dana")
    for created, value, status in (
        (morning, Decimal("350.00"), Appointment.Status.SCHEDULED),
        (morning + timedelta(hours=3), Decimal("150.50"), Appointment.Status.CONFIRMED),
        (morning + timedelta(hours=4), None, Appointment.Status.SCHEDULED),
        (morning, Decimal("999.00"), Appointment.Status.CANCELLED),
        (yesterday, Decimal("100.00"), Appointment.Status.SCHEDULED),
    ):
        start = now + timedelta(days=2, hours=next(_numbers) % 50)
        with time_machine.travel(created, tick=False):
            Appointment.objects.create(
                customer=customer, start=start, end=start + timedelta(hours=1), estimated_value=value, status=status
            )
    figures = selectors.digest_figures(since=_local(alpha, 2026, 10, 14, 0, 0), until=now)
    assert figures == selectors.DigestFigures(
        calls=3, missed=2, recovered=1, booked=3, booked_value="500.50", waiting=1
    )
    with time_machine.travel(now, tick=False):
        assert _run().sent == 1
    assert _digests(alpha).get().payload["body"] == (
        f"{alpha.name} today: 3 calls, 2 missed, 1 recovered by text, 3 booked (est. $500.50), "
        "1 leads waiting in the recovery queue."
    )


def test_the_setting_through_the_api_and_the_page(alpha, alice, client_for, owner_client):
    client = client_for(alice)
    settings = client.get("/v1/campaigns/settings").json()
    assert (settings["digest_channel"], settings["digest_hour"]) == ("off", 18)
    for bad in (
        {"digest_channel": "fax"},
        {"digest_hour": 24},
        {"digest_hour": -1},
        {"digest_channel": "sms", "digest_hour": "x"},
    ):
        assert client.patch("/v1/campaigns/settings", bad, format="json").status_code == 422, bad
    connection.set_tenant(alpha)
    assert not CampaignSettings.objects.exists()  # Nothing stored.
    on = client.patch("/v1/campaigns/settings", {"digest_channel": "email", "digest_hour": 7}, format="json")
    assert on.status_code == 200 and (on.json()["digest_channel"], on.json()["digest_hour"]) == ("email", 7)

    assert b'<option value="email" selected>' in owner_client.get("/campaigns/").content
    assert (
        owner_client.post("/campaigns/owner-digest/", {"digest_channel": "sms", "digest_hour": "20"}).status_code == 302
    )
    connection.set_tenant(alpha)
    assert (CampaignSettings.objects.get().digest_channel, CampaignSettings.objects.get().digest_hour) == ("sms", 20)
    owner_client.post("/campaigns/owner-digest/", {"digest_channel": "pigeon", "digest_hour": "20"})
    owner_client.post("/campaigns/owner-digest/", {"digest_channel": "off", "digest_hour": "25"})
    connection.set_tenant(alpha)
    assert (CampaignSettings.objects.get().digest_channel, CampaignSettings.objects.get().digest_hour) == ("sms", 20)
    alice.language = "es"
    alice.save(update_fields=["language"])
    assert b"Resumen diario" in owner_client.get("/campaigns/").content
