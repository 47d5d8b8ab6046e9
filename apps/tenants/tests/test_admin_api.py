"""Seed 002's admin API: who may use it, what each action does, and the audit log of it all."""

import csv
import gzip
import io
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.conversations.models import Conversation, Message
from apps.crm.models import Appointment, Customer
from apps.dispatch.models import AiUsage
from apps.outbox.models import Delivery
from apps.telephony.models import Call, PhoneNumber
from apps.telephony.testing import ACCOUNT_SID, AUTH_TOKEN
from apps.tenants.models import AdminAuditEntry, ApiCredential, Business
from apps.tenants.operator import Actor, business_delete
from apps.tenants.services import credential_create
from conftest import PASSWORD

KEY = {"HTTP_X_ADMIN_API_KEY": settings.ADMIN_API_KEY}


@pytest.fixture
def admin_client(db):
    return APIClient(**KEY)


@pytest.fixture
def staff(db):
    return User.objects.create_user(
        email=f"staff-{uuid.uuid4().hex[:6]}@platform.test", password=PASSWORD, is_staff=True
    )


ENDPOINTS = [
    ("get", "/v1/admin/businesses"),
    ("post", "/v1/admin/businesses"),
    ("patch", "/v1/admin/businesses/{id}"),
    ("post", "/v1/admin/businesses/{id}/suspend"),
    ("post", "/v1/admin/businesses/{id}/reactivate"),
    ("post", "/v1/admin/businesses/{id}/rotate-key"),
    ("post", "/v1/admin/businesses/{id}/rotate-widget-token"),
    ("post", "/v1/admin/businesses/{id}/deletion"),
    ("delete", "/v1/admin/businesses/{id}"),
    ("post", "/v1/admin/demo-tenants"),
    ("get", "/v1/admin/businesses/usage"),
    ("get", "/v1/admin/businesses/usage.csv"),
    ("get", "/v1/admin/twilio/health"),
    ("get", "/v1/admin/audit"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_admin_endpoints_refuse_business_users_and_wrong_keys(method, path, alice, bob, alpha, client_for):
    url = path.format(id=alpha.id)
    before = (AdminAuditEntry.objects.count(), Business.objects.get(pk=alpha.pk).status)
    for user in (alice, bob):  # The owner of a business is not a platform operator.
        answer = getattr(client_for(user), method)(url, {}, format="json")
        assert answer.status_code == 403, (user, answer.content)
        assert answer.json() == {"detail": "Platform administrators only."}
    wrong = getattr(APIClient(HTTP_X_ADMIN_API_KEY="not-the-key"), method)(url, {}, format="json")
    assert wrong.status_code == 401 and "detail" in wrong.json()
    # A business user's token with a wrong key is still refused (the key never falls through).
    both = getattr(client_for(alice, HTTP_X_ADMIN_API_KEY="nope"), method)(url, {}, format="json")
    assert both.status_code == 401
    anonymous = getattr(APIClient(), method)(url, {}, format="json")
    assert anonymous.status_code == 401
    assert (AdminAuditEntry.objects.count(), Business.objects.get(pk=alpha.pk).status) == before


def test_platform_staff_jwt_is_accepted_and_audited_by_name(staff, client_for, alpha):
    answer = client_for(staff).patch(
        f"/v1/admin/businesses/{alpha.id}", {"website": "https://alpha.example"}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["website"] == "https://alpha.example"
    entry = AdminAuditEntry.objects.filter(action="business.update", business=alpha).first()
    assert entry.actor == staff.email and entry.actor_user_id == staff.pk


def test_create_list_filter_and_paginate(admin_client):
    tag = uuid.uuid4().hex[:6]
    created = admin_client.post(
        "/v1/admin/businesses",
        {
            "name": f"Admin Made {tag}",
            "owner_email": f"owner-{tag}@made.test",
            "owner_name": "Made Owner",
            "owner_password": PASSWORD,
            "trade": "hvac",
            "timezone": "America/Denver",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["api_key"].startswith("nmc_") and body["widget_token"].startswith("nmcw_")
    business = Business.objects.get(pk=body["business"]["id"])
    assert business.trade == "hvac" and User.objects.get(pk=body["owner_id"]).business_id == business.pk

    listed = admin_client.get("/v1/admin/businesses", {"q": tag, "trade": "hvac"}).json()
    assert [item["id"] for item in listed["items"]] == [str(business.pk)] and listed["total"] == 1
    assert admin_client.get("/v1/admin/businesses", {"q": tag, "trade": "plumbing"}).json()["total"] == 0
    paged = admin_client.get("/v1/admin/businesses", {"limit": 1, "page": 2}).json()
    assert paged["limit"] == 1 and paged["page"] == 2 and len(paged["items"]) == 1 and paged["total"] >= 2
    assert admin_client.get("/v1/admin/businesses", {"limit": 0}).status_code == 422
    refused = admin_client.post("/v1/admin/businesses", {"name": "", "owner_email": "x"}, format="json")
    assert refused.status_code == 422 and isinstance(refused.json()["detail"], list)
    assert AdminAuditEntry.objects.filter(action="business.create", business=business).exists()


def test_patch_refuses_unknown_fields_and_bad_values_and_changes_nothing(admin_client, alpha):
    for payload in ({"colour": "red"}, {"timezone": "Mars/Olympus"}, {}, {"status": "deleted"}):
        answer = admin_client.patch(f"/v1/admin/businesses/{alpha.id}", payload, format="json")
        assert answer.status_code == 422, payload
    assert admin_client.patch(f"/v1/admin/businesses/{uuid.uuid4()}", {"name": "x"}, format="json").status_code == 404
    assert Business.objects.get(pk=alpha.pk).timezone == alpha.timezone


def test_rotating_the_key_invalidates_the_old_one_at_once(admin_client, alpha):
    _, old_key = credential_create(business=alpha, kind=ApiCredential.Kind.API_KEY, name="Integrator")
    assert APIClient(HTTP_X_API_KEY=old_key).get("/api/calls").status_code == 200

    rotated = admin_client.post(f"/v1/admin/businesses/{alpha.id}/rotate-key")
    assert rotated.status_code == 200
    new_key = rotated.json()["api_key"]
    assert rotated.json()["revoked"] >= 1 and new_key != old_key

    assert APIClient(HTTP_X_API_KEY=old_key).get("/api/calls").status_code == 401
    assert APIClient(HTTP_X_API_KEY=new_key).get("/api/calls").status_code == 200
    # Shown once: nothing stores or returns the secret again.
    assert not ApiCredential.objects.filter(secret_hash=new_key).exists()
    assert new_key not in str(admin_client.get("/v1/admin/audit").json())


def test_rotating_the_widget_token_invalidates_the_old_one_at_once(admin_client, alpha):
    _, old_token = credential_create(business=alpha, kind=ApiCredential.Kind.WIDGET_TOKEN, name="Site")
    start = {"HTTP_X_WIDGET_TOKEN": old_token}
    assert APIClient(**start).post("/v1/widget/session/start", {}, format="json").status_code != 401
    rotated = admin_client.post(f"/v1/admin/businesses/{alpha.id}/rotate-widget-token").json()
    assert APIClient(**start).post("/v1/widget/session/start", {}, format="json").status_code == 401
    fresh = APIClient(HTTP_X_WIDGET_TOKEN=rotated["widget_token"])
    assert fresh.post("/v1/widget/session/start", {}, format="json").status_code != 401


def test_a_suspended_business_answers_its_webhooks_sends_nothing_and_cannot_sign_in(
    admin_client, alpha, alice, client, django_capture_on_commit_callbacks
):
    with tenant_context(alpha):
        conversation = Conversation.objects.create(customer_number="+13125550987", business_number="+13125550111")
    delivery = Delivery.objects.create(
        business=alpha,
        channel="sms",
        purpose="auto_reply",
        recipient="+13125550987",
        idempotency_key=f"test-suspended:{uuid.uuid4()}",
        next_attempt_at=timezone.now(),
        payload={"body": "Sorry we missed you"},
    )
    answer = admin_client.post(f"/v1/admin/businesses/{alpha.id}/suspend", {"reason": "unpaid"}, format="json")
    assert answer.status_code == 200 and answer.json()["status"] == "suspended"

    calls_before = _count(alpha, Call)
    for path, form in (
        ("/webhooks/twilio/call", {"CallSid": "CA" + uuid.uuid4().hex, "From": "+13125550987", "To": "+13125550111"}),
        ("/webhooks/twilio/sms", {"MessageSid": "SM" + uuid.uuid4().hex, "From": "+13125550987", "Body": "hi"}),
    ):
        reply = client.post(f"{path}?business_id={alpha.id}", form)
        assert reply.status_code == 200 and reply.content.endswith(b"<Response></Response>")
    assert _count(alpha, Call) == calls_before
    with tenant_context(alpha):
        assert not Message.objects.filter(conversation=conversation).exists()

    from apps.outbox.dispatcher import delivery_send

    assert delivery_send(delivery_id=delivery.id) == "failed"  # Queued before: never sent.
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and delivery.sent_at is None

    login = APIClient().post("/auth/login", {"email": alice.email, "password": PASSWORD}, format="json")
    assert login.status_code == 403
    assert Business.objects.filter(pk=alpha.pk).exists()  # Nothing deleted.

    back = admin_client.post(f"/v1/admin/businesses/{alpha.id}/reactivate")
    assert back.status_code == 200 and back.json()["status"] == "active"
    assert (
        APIClient().post("/auth/login", {"email": alice.email, "password": PASSWORD}, format="json").status_code == 200
    )
    actions = list(AdminAuditEntry.objects.filter(business=alpha).values_list("action", flat=True)[:2])
    assert actions == ["business.reactivate", "business.suspend"]


def _count(business, model):
    with tenant_context(business):
        return model.objects.count()


FIXED_SINCE = datetime(2020, 3, 1, tzinfo=UTC)
FIXED_UNTIL = datetime(2020, 3, 31, tzinfo=UTC)


def _fixed_dataset(business):
    """A March 2020 no other test writes in: 3 calls (1 missed), 2 texts in, 2 out (3 segments,
    one failed text not counted), 1,500 AI tokens, 2 bookings (1 emergency conversation)."""
    at = datetime(2020, 3, 10, 15, tzinfo=UTC)
    with tenant_context(business):
        for index, status in enumerate(["answered", "missed", "answered"]):
            call = Call.objects.create(
                call_sid=f"CAfixed{uuid.uuid4().hex}", from_number="+1", to_number="+2", status=status
            )
            Call.objects.filter(pk=call.pk).update(started_at=at + timedelta(hours=index))
        conversation = Conversation.objects.create(
            customer_number="+13125550444", business_number="+2", lead_intent="emergency"
        )
        for direction, status, segments in [
            ("inbound", "received", 1),
            ("inbound", "received", 1),
            ("outbound", "delivered", 2),
            ("outbound", "sent", None),
            ("outbound", "failed", 4),
        ]:
            message = Message.objects.create(
                conversation=conversation,
                direction=direction,
                kind="customer" if direction == "inbound" else "auto_reply",
                from_number="+1",
                to_number="+2",
                status=status,
                segments=segments,
                handled_at=at,
            )
            Message.objects.filter(pk=message.pk).update(created_at=at)
        usage = AiUsage.objects.create(
            engine="openai", prompt_tokens=1000, completion_tokens=500, cost_usd=Decimal("0.0123")
        )
        customer = Customer.objects.create(phone="+13125550444", name="Fixed")
        for index, job in enumerate(["Leak repair", "Leak repair"]):
            appointment = Appointment.objects.create(
                customer=customer,
                job_type=job,
                start=at + timedelta(days=index),
                end=at + timedelta(days=index, hours=1),
            )
            Appointment.objects.filter(pk=appointment.pk).update(created_at=at)
        AiUsage.objects.filter(pk=usage.pk).update(created_at=at)
        Conversation.objects.filter(pk=conversation.pk).update(created_at=at)


@override_settings(USAGE_PRICE_SMS_SEGMENT=0.01, USAGE_PRICE_CALL=0.02, USAGE_PRICE_AI_1K_TOKENS=0.5)
def test_usage_figures_against_a_fixed_dataset_as_json_and_csv(admin_client, alpha, beta):
    _fixed_dataset(alpha)
    window = {"since": FIXED_SINCE.isoformat(), "until": FIXED_UNTIL.isoformat()}
    body = admin_client.get("/v1/admin/businesses/usage", {**window, "business_id": str(alpha.id)}).json()
    (row,) = body["items"]
    assert row == {
        "business_id": str(alpha.id),
        "business_name": alpha.name,
        "calls": 3,
        "missed_calls": 1,
        "texts_in": 2,
        "texts_out": 2,
        "sms_segments": 3,
        "ai_tokens": 1500,
        "ai_cost_usd": 0.0123,
        "bookings": 2,
        "emergencies": 1,
        "service_mix": {"Leak repair": 2},
        "estimated_cost_usd": 0.84,  # 3 × 0.01 + 3 × 0.02 + 1.5 × 0.5
    }
    other = admin_client.get("/v1/admin/businesses/usage", {**window, "business_id": str(beta.id)}).json()
    assert other["items"][0]["calls"] == 0 and other["items"][0]["service_mix"] == {}

    text = admin_client.get("/v1/admin/businesses/usage.csv", {**window, "business_id": str(alpha.id)})
    assert text.status_code == 200 and text["Content-Type"].startswith("text/csv")
    (record,) = list(csv.DictReader(io.StringIO(text.content.decode())))
    assert record["calls"] == "3" and record["sms_segments"] == "3" and record["service_mix"] == "Leak repair=2"
    assert record["estimated_cost_usd"] == "0.84"
    bad = admin_client.get(
        "/v1/admin/businesses/usage", {"since": "2020-04-01T00:00:00Z", "until": "2020-03-01T00:00:00Z"}
    )
    assert bad.status_code == 422


def test_demo_seeding_is_idempotent_and_reaches_no_provider(admin_client, twilio_standin):
    twilio_standin.reset()
    first = admin_client.post("/v1/admin/demo-tenants", {"count": 1, "calls_per_day": 2}, format="json")
    assert first.status_code == 200, first.content
    (seeded,) = first.json()["items"]
    business = Business.objects.get(pk=seeded["business_id"])
    assert business.is_demo and seeded["calls"] >= 30 and seeded["missed"] > 0 and seeded["bookings"] > 0
    with tenant_context(business):
        counts = (
            Call.objects.count(),
            Message.objects.count(),
            Appointment.objects.count(),
            Conversation.objects.count(),
        )
        oldest = Call.objects.order_by("started_at").first().started_at
        assert timezone.now() - timedelta(days=31) < oldest < timezone.now() - timedelta(days=28)
        assert Message.objects.filter(kind="auto_reply").exists()  # The missed-call path ran.
    # 31 days: the seeded day 30 starts at UTC midnight, before "now − 30 days" after 08:00 UTC.
    usage = admin_client.get("/v1/admin/businesses/usage", {"business_id": seeded["business_id"], "days": 31})
    usage = usage.json()["items"][0]
    assert usage["calls"] == counts[0] and usage["bookings"] > 0

    again = admin_client.post("/v1/admin/demo-tenants", {"count": 1, "calls_per_day": 2}, format="json").json()
    assert again["items"][0]["created"] is False and again["items"][0]["business_id"] == seeded["business_id"]
    with tenant_context(business):
        assert (
            Call.objects.count(),
            Message.objects.count(),
            Appointment.objects.count(),
            Conversation.objects.count(),
        ) == counts
    assert Business.objects.filter(is_demo=True, name=seeded["name"]).count() == 1
    with override_settings(
        TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_API_BASE_URL=twilio_standin.base_url
    ):
        (health,) = admin_client.get("/v1/admin/twilio/health", {"business_id": str(business.id)}).json()["items"]
    assert health["numbers"] and all(n["problem"].startswith("demo business") for n in health["numbers"])
    assert health["numbers_ok"] is None
    assert twilio_standin.state.requests == []  # No Twilio traffic at all, the health check's included.
    assert not Delivery.objects.filter(business=business, status=Delivery.Status.QUEUED).exists()


def test_twilio_health_reports_webhook_outcomes_and_where_numbers_point(admin_client, alpha, client, twilio_standin):
    sid = "PN" + uuid.uuid4().hex
    with tenant_context(alpha):
        PhoneNumber.objects.create(phone_number="+13125550777", twilio_sid=sid, friendly_name="health")
    twilio_standin.number_set(
        sid=sid, phone_number="+13125550777", voice_url="https://elsewhere.example/voice", sms_url=""
    )
    with override_settings(TWILIO_VALIDATE_SIGNATURES=True, TWILIO_AUTH_TOKEN=AUTH_TOKEN):
        for _ in range(2):  # Unsigned: the signature check refuses them.
            client.post(f"/webhooks/twilio/call?business_id={alpha.id}", {"CallSid": "CA" + uuid.uuid4().hex})
    with override_settings(
        TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_API_BASE_URL=twilio_standin.base_url
    ):
        report = admin_client.get("/v1/admin/twilio/health", {"business_id": str(alpha.id)}).json()
    (item,) = report["items"]
    assert report["twilio_checked"] is True
    assert item["signature_failures"] >= 2 and item["webhooks"] >= 2
    (number,) = [n for n in item["numbers"] if n["twilio_sid"] == sid]
    assert number["points_here"] is False and number["voice_url"] == "https://elsewhere.example/voice"
    assert item["numbers_ok"] is False


def test_deletion_is_two_step_exports_first_and_waits_for_the_grace_period(admin_client, django_db_blocker):
    tag = uuid.uuid4().hex[:6]
    created = admin_client.post(
        "/v1/admin/businesses",
        {
            "name": f"Doomed {tag}",
            "owner_email": f"doomed-{tag}@x.test",
            "owner_name": "D O",
            "owner_password": PASSWORD,
        },
        format="json",
    ).json()
    business = Business.objects.get(pk=created["business"]["id"])
    with tenant_context(business):
        Customer.objects.create(phone="+13125550555", name="Kept In Export")

    assert admin_client.delete(f"/v1/admin/businesses/{business.id}").status_code == 409  # Not requested yet.
    requested = admin_client.post(f"/v1/admin/businesses/{business.id}/deletion")
    assert requested.status_code == 202 and requested.json()["status"] == "suspended"
    business.refresh_from_db()
    with gzip.open(business.deletion_export, "rt") as handle:
        export = handle.read()
    assert "Kept In Export" in export and business.name in export
    assert admin_client.delete(f"/v1/admin/businesses/{business.id}").status_code == 409  # Grace period.

    summary = business_delete(
        business=business, actor=Actor("test"), now=business.deletion_due_at + timedelta(seconds=1)
    )
    assert summary["export"] == business.deletion_export
    assert not Business.objects.filter(pk=business.pk).exists()
    assert AdminAuditEntry.objects.filter(action="business.delete", business_name=business.name).exists()


def test_every_admin_action_is_in_the_audit_log_with_who_what_when_where(admin_client, alpha):
    client = APIClient(**KEY, HTTP_USER_AGENT="ops-script/1.0", REMOTE_ADDR="203.0.113.9")
    started = timezone.now()
    client.patch(f"/v1/admin/businesses/{alpha.id}", {"phone": "+13125550100"}, format="json")
    client.post(f"/v1/admin/businesses/{alpha.id}/suspend", {}, format="json")
    client.post(f"/v1/admin/businesses/{alpha.id}/reactivate")
    client.post(f"/v1/admin/businesses/{alpha.id}/rotate-key")
    client.post(f"/v1/admin/businesses/{alpha.id}/rotate-widget-token")
    entries = list(AdminAuditEntry.objects.filter(business=alpha, created_at__gte=started).order_by("id"))
    assert [entry.action for entry in entries] == [
        "business.update",
        "business.suspend",
        "business.reactivate",
        "business.rotate_key",
        "business.rotate_widget_token",
    ]
    for entry in entries:
        assert entry.actor == "admin-api-key" and entry.ip_address == "203.0.113.9"
        assert entry.user_agent == "ops-script/1.0" and entry.request_id
    listed = client.get("/v1/admin/audit", {"business_id": str(alpha.id), "since": started.isoformat()}).json()
    assert [item["action"] for item in listed["items"]][:5] == [entry.action for entry in reversed(entries)]
    assert listed["items"][0]["ip_address"] == "203.0.113.9"
