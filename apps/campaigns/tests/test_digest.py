"""The daily digest, each owner's and manager's own choice (off, SMS to their phone or e-mail to
their address, at their local hour): once per person per local day whoever sweeps, not before
their hour, on the right wall-clock hour across the 1 Nov 2026 DST change, with figures checked on
a small fixed dataset; two people of one business get theirs; another business's people get
nothing of this one."""

import importlib
import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps as django_apps
from django.db import connection
from django.template.loader import render_to_string
from django.utils import translation

from apps.accounts.models import Role, User
from apps.accounts.services import user_create, user_set_digest
from apps.campaigns import selectors, services, tasks
from apps.campaigns.models import CampaignMessage, CampaignSettings, Kind
from apps.conversations.models import Conversation, LeadOutcome, Message
from apps.crm.models import Appointment
from apps.crm.services import customer_get_or_create_by_phone
from apps.outbox.models import Delivery
from apps.telephony.models import Call
from apps.tenants.config.models import BusinessConfig
from conftest import PASSWORD
from nevermisscall.testing import assert_envelope_error, assert_envelope_ok

pytestmark = pytest.mark.django_db

OWNER = "+13125550188"
_numbers = itertools.count(500)


def _digests(business):
    return Delivery.objects.filter(business=business, cause_type="digest")


def _local(business, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(business.timezone))


def _owner(business) -> User:
    return User.objects.filter(business=business, role=Role.OWNER).order_by("date_joined").first()


def _set_up(business, *, channel="sms", hour=18, user=None, phone=OWNER) -> User:
    """``user`` (the business's owner by default) chooses the digest; the tenant is the business."""
    connection.set_schema_to_public()
    user = user or _owner(business)
    user_set_digest(user=user, digest={"channel": channel, "hour": hour}, phone=phone)
    connection.set_tenant(business)
    return user


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
    owner = _owner(alpha)
    assert (digest.recipient, digest.channel, digest.cause_id) == (OWNER, "sms", f"{owner.pk}:2026-10-14")
    assert digest.payload["body"].startswith(f"{alpha.name} today: ")
    assert CampaignMessage.objects.get(kind=Kind.DIGEST).subject_id == f"{owner.pk}:2026-10-14"
    with time_machine.travel(_local(alpha, 2026, 10, 15, 7, 5), tick=False):
        assert _run().sent == 1  # The next local day: the next digest.
    assert _digests(alpha).count() == 2

    # Another business sees none of it, and has nothing due (its owner's digest is off).
    connection.set_tenant(beta)
    assert not CampaignMessage.objects.filter(kind=Kind.DIGEST).exists()
    assert not _digests(beta).exists()
    with time_machine.travel(at, tick=False):
        assert beta.schema_name not in tasks.businesses_due(kind=Kind.DIGEST)


def test_two_racing_sweeps_send_one(alpha):
    owner = _set_up(alpha)
    with time_machine.travel(_local(alpha, 2026, 10, 14, 18, 1), tick=False):
        now = _local(alpha, 2026, 10, 14, 18, 1)
        candidates = selectors.campaign_candidates(kind=Kind.DIGEST, now=now)
        assert [c.subject_id for c in candidates] == [f"{owner.pk}:2026-10-14"]
        run = _run()  # The first sweep inserts; the second read the same candidate before it did.
        outcomes = services._queue_chunk(
            kind=Kind.DIGEST, chunk=candidates, run=run, settings=selectors.campaign_settings_get(), now=now
        )
    assert run.sent == 1 and outcomes == {"skipped:already_sent": 1}
    assert _digests(alpha).count() == 1


def test_dst_change_the_same_wall_clock_hour(campaign_businesses):
    business = campaign_businesses[0]  # America/Chicago: CDT (UTC-5) ends at 02:00 on 1 Nov 2026.
    assert business.timezone == "America/Chicago"
    owner = _set_up(business, hour=18)
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
    assert sorted(_digests(business).values_list("cause_id", flat=True)) == [
        f"{owner.pk}:2026-10-31",
        f"{owner.pk}:2026-11-01",
    ]


def test_email_channel(alpha):
    owner = _set_up(alpha, channel="email", hour=9, phone=None)
    with time_machine.travel(_local(alpha, 2026, 10, 14, 9, 0), tick=False):
        assert _run().sent == 1
        assert _run().sent == 0
    digest = _digests(alpha).get()
    assert (digest.channel, digest.recipient, digest.purpose) == ("email", owner.email, "owner_alert")
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
    assert (run.selected, run.sent, api.selected, api.sent) == (0, 0, 0, 0)
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


def test_two_people_of_one_business_each_get_theirs_once_and_nobody_gets_anothers(alpha, beta, charlie):
    """Alpha's owner by text at 7:00 and its manager by e-mail at 9:00; Beta's owner by text at 7:00
    to a number of their own. Each gets one digest a day, of their own business, at their hour."""
    owner = _set_up(alpha, channel="sms", hour=7)
    connection.set_schema_to_public()
    manager = user_create(
        email="manager-digest@alpha.test", password=PASSWORD, business=alpha, role=Role.ADMIN, language="es"
    )
    _set_up(alpha, channel="email", hour=9, user=manager, phone=None)
    _set_up(beta, channel="sms", hour=7, user=charlie, phone="+13125550199")
    connection.set_tenant(alpha)
    with time_machine.travel(_local(alpha, 2026, 10, 14, 7, 30), tick=False):  # The owners' hour.
        assert {alpha.schema_name, beta.schema_name} <= set(tasks.businesses_due(kind=Kind.DIGEST))
        assert (_run().sent, _run().sent) == (1, 0)  # A second sweep finds nothing.
        connection.set_tenant(beta)
        assert (_run().sent, _run().sent) == (1, 0)
        connection.set_tenant(alpha)
    with time_machine.travel(_local(alpha, 2026, 10, 14, 9, 0), tick=False):  # The manager's.
        assert alpha.schema_name in tasks.businesses_due(kind=Kind.DIGEST)
        assert (_run().sent, _run().sent) == (1, 0)
    with time_machine.travel(_local(alpha, 2026, 10, 14, 22, 0), tick=False):  # Both had theirs today.
        assert alpha.schema_name not in tasks.businesses_due(kind=Kind.DIGEST)
    mine = {(d.channel, d.recipient, d.cause_id) for d in _digests(alpha)}
    assert mine == {
        ("sms", OWNER, f"{owner.pk}:2026-10-14"),
        ("email", manager.email, f"{manager.pk}:2026-10-14"),
    }
    by_email = _digests(alpha).get(channel="email")
    assert by_email.language == "es" and by_email.payload["context"]["business_name"] == alpha.name
    # Beta's owner got Beta's digest only, to their own phone; Alpha's rows are not in Beta's schema.
    theirs = _digests(beta).get()
    assert (theirs.recipient, theirs.cause_id) == ("+13125550199", f"{charlie.pk}:2026-10-14")
    assert theirs.payload["body"].startswith(f"{beta.name} today: ")
    assert not Delivery.objects.filter(business=beta, recipient__in=[OWNER, manager.email]).exists()
    assert not Delivery.objects.filter(business=alpha, recipient="+13125550199").exists()
    connection.set_tenant(beta)
    assert list(CampaignMessage.objects.filter(kind=Kind.DIGEST).values_list("subject_id", flat=True)) == [
        f"{charlie.pk}:2026-10-14"
    ]


def test_a_person_who_left_or_is_not_a_manager_gets_none(alpha, bob):
    owner = _set_up(alpha, channel="sms", hour=7)
    connection.set_schema_to_public()
    User.objects.filter(pk=owner.pk).update(is_active=False)
    User.objects.filter(pk=bob.pk).update(digest_channel="sms", digest_hour=7, phone="+13125550177")  # Staff.
    connection.set_tenant(alpha)
    with time_machine.travel(_local(alpha, 2026, 10, 14, 8, 0), tick=False):
        assert alpha.schema_name not in tasks.businesses_due(kind=Kind.DIGEST)
        assert _run().selected == 0


def test_the_choice_through_the_preferences_api_and_the_profile_page(alpha, alice, bob, client_for, owner_client):
    client = client_for(alice)
    url = f"/users/{alice.pk}/preferences"
    assert assert_envelope_ok(client.get(url))["preferences"]["digest"] == {"channel": "off", "hour": 18}
    User.objects.filter(pk=alice.pk).update(phone="")
    before = User.objects.get(pk=alice.pk).preferences
    for bad in (
        {"digest": {"channel": "fax"}},
        {"digest": {"hour": 24}},
        {"digest": {"hour": -1}},
        {"digest": {"channel": "email", "hour": "7"}},
        {"digest": {"channel": "email", "hour": 7, "minute": 30}},
        {"digest": "sms"},
        {"digest": {"channel": "sms", "hour": 7}},  # No phone of hers to text.
        {"digest": {"channel": "email", "hour": 99}, "dashboard": {"theme": "dark"}},  # All or nothing.
    ):
        assert_envelope_error(client.put(url, bad, format="json"), 400, "VALIDATION_FAILED")
    stored = User.objects.get(pk=alice.pk)
    assert (stored.digest_channel, stored.digest_hour, stored.preferences) == ("off", 18, before)
    # Staff (Bob) may not choose a digest.
    assert (
        client_for(bob).put(f"/users/{bob.pk}/preferences", {"digest": {"channel": "email"}}, format="json").status_code
        == 400
    )
    on = assert_envelope_ok(
        client.put(url, {"digest": {"channel": "email", "hour": 7}, "dashboard": {"theme": "dark"}}, format="json")
    )
    assert on["preferences"]["digest"] == {"channel": "email", "hour": 7}
    assert on["preferences"]["dashboard"]["theme"] == "dark"
    stored = User.objects.get(pk=alice.pk)
    assert (stored.digest_channel, stored.digest_hour, "digest" in stored.preferences) == ("email", 7, False)
    # The business's campaign settings no longer take a digest: refused, not dropped.
    assert client.patch("/v1/campaigns/settings", {"digest_channel": "sms"}, format="json").status_code == 422

    # The profile page: her choice, a text to the phone she gives, refusals that store nothing.
    page = owner_client.get("/profile/").content
    assert b'<option value="email" selected>' in page and b'<option value="7" selected>' in page
    saved = owner_client.post(
        "/profile/", {"action": "digest", "digest_channel": "sms", "digest_hour": "20", "phone": "(312) 555-0188"}
    )
    assert saved.status_code == 302
    stored = User.objects.get(pk=alice.pk)
    assert (stored.digest_channel, stored.digest_hour, stored.phone) == ("sms", 20, OWNER)
    for bad in (
        {"digest_channel": "pigeon", "digest_hour": "20", "phone": OWNER},
        {"digest_channel": "off", "digest_hour": "25", "phone": OWNER},
        {"digest_channel": "sms", "digest_hour": "8", "phone": "not a phone"},
    ):
        assert owner_client.post("/profile/", {"action": "digest", **bad}).status_code == 400, bad
    stored = User.objects.get(pk=alice.pk)
    assert (stored.digest_channel, stored.digest_hour, stored.phone) == ("sms", 20, OWNER)
    assert "Text message · 20:00" in owner_client.get("/campaigns/").content.decode()  # Hers, with a link.
    alice.language = "es"
    alice.save(update_fields=["language"])
    assert b"Resumen diario" in owner_client.get("/profile/").content


def test_the_migration_moves_the_business_setting_onto_its_owners(alpha, alice, bob, charlie):
    """campaigns 0004 in Alpha's schema, with the removed columns put back for the test (rolled back
    with it): Alpha's owner gets the business's channel and hour, and the forwarding number the
    texts went to as her phone; Alpha's staff and Beta's owner are untouched."""
    migration = importlib.import_module("apps.campaigns.migrations.0004_digest_per_user")
    User.objects.filter(pk=alice.pk).update(phone="")
    connection.set_tenant(alpha)
    BusinessConfig.objects.filter(pk=1).update(forwarding_number="+13125550166")
    CampaignSettings.objects.get_or_create(pk=1)
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE campaigns_campaignsettings ADD COLUMN digest_channel varchar(5) NOT NULL DEFAULT 'off', "
            "ADD COLUMN digest_hour smallint NOT NULL DEFAULT 18"
        )
        cursor.execute("UPDATE campaigns_campaignsettings SET digest_channel = 'sms', digest_hour = 7")
    with connection.schema_editor() as editor:
        migration.copy_onto_owners(django_apps, editor)
    connection.set_schema_to_public()
    owner, staff, other = (User.objects.get(pk=u.pk) for u in (alice, bob, charlie))
    assert (owner.digest_channel, owner.digest_hour, owner.phone) == ("sms", 7, "+13125550166")
    assert (staff.digest_channel, staff.digest_hour) == ("off", 18)
    assert (other.digest_channel, other.digest_hour) == ("off", 18)
