"""The sending policy (quiet hours across DST, consent, quota, segments), e-mail and signed webhooks,
and the deliveries API seen from two businesses."""

import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from apps.outbox import policy, services, tasks
from apps.outbox.models import Delivery, WebhookEndpoint
from apps.outbox.segments import clip_to_segments, count_segments
from apps.tenants.config.models import BusinessConfig
from nevermisscall.errors import ValidationFailed

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
CUSTOMER = "+13125550163"  # Area code 312: America/Chicago.


def _sweep():
    with schema_context("public"):
        return tasks.outbox_sweep()


# --- segments ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # Extension characters count two septets.
        ("€" * 81, "GSM-7", 2),
        ("ñandú" * 14, "UCS-2", 1),  # ú is not in GSM-7: the whole text is UCS-2.
        ("é" * 70 + "ú", "UCS-2", 2),
        ("🔧" * 35, "UCS-2", 1),  # Outside the BMP: two UTF-16 units each.
        ("🔧" * 36, "UCS-2", 2),
    ],
)
def test_segment_counts(body, encoding, segments):
    counted = count_segments(body)
    assert (counted.encoding, counted.segments) == (encoding, segments)


def test_a_body_over_the_limit_is_refused_at_queue_time_and_nothing_is_stored(alpha, settings):
    settings.SMS_MAX_SEGMENTS = 2
    with tenant_context(alpha):
        with pytest.raises(ValidationFailed) as refused:
            services.delivery_queue_sms(to=CUSTOMER, body="a" * 307, purpose="test")
        assert "3 SMS segments" in str(refused.value.message)
        assert not Delivery.objects.filter(recipient=CUSTOMER).exists()
    assert count_segments(clip_to_segments("word " * 100, 2)).segments <= 2


def test_staff_text_too_long_is_a_400_in_the_envelope(alpha, alice, client_for, settings):
    from apps.conversations.models import Conversation

    settings.SMS_MAX_SEGMENTS = 1
    with tenant_context(alpha):
        conversation = Conversation.objects.create(customer_number=CUSTOMER, business_number="+13125550111")
    response = client_for(alice).post(
        f"/api/conversations/{conversation.id}/messages", {"body": "x" * 200}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"
    with tenant_context(alpha):
        assert not conversation.messages.exists()


# --- quiet hours, consent ---------------------------------------------------------------------------


def test_recipient_time_zone_comes_from_the_area_code():
    assert policy.recipient_timezone("+13125550163", "America/New_York") == CHICAGO
    assert policy.recipient_timezone("+12065550100", "America/Chicago") == ZoneInfo("America/Los_Angeles")
    assert policy.recipient_timezone("not a number", "America/Denver") == ZoneInfo("America/Denver")


def test_marketing_at_2130_waits_for_0800_across_the_dst_change_and_a_reminder_goes_at_once(alpha, twilio, commit):
    """Saturday 31 October 2026, 21:30 CDT; clocks go back at 02:00 on Sunday 1 November, so 08:00
    local is 14:00 UTC (CST), not the 13:00 UTC that adding 10.5 hours would give."""
    queued_at = datetime(2026, 10, 31, 21, 30, tzinfo=CHICAGO)
    with time_machine.travel(queued_at, tick=False):
        with tenant_context(alpha):
            services.sms_consent_record(phone_number=CUSTOMER, source="web_form", evidence="Ticked 'send me offers'")
        with commit(), tenant_context(alpha):
            offer = services.delivery_queue_sms(to=CUSTOMER, body="10% off", purpose="campaign", kind="marketing")
            reminder = services.delivery_queue_sms(to=CUSTOMER, body="See you at 9", purpose="reminder")
        offer.refresh_from_db()
        reminder.refresh_from_db()
        assert reminder.status == Delivery.Status.SENT
        assert (offer.status, offer.hold_reason) == ("queued", "quiet_hours")
        assert offer.next_attempt_at == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)
        assert [request.form["Body"] for request in twilio.messages()] == ["See you at 9"]
    with time_machine.travel(datetime(2026, 11, 1, 7, 59, tzinfo=CHICAGO), tick=False):
        assert _sweep() == 0
    with time_machine.travel(datetime(2026, 11, 1, 8, 0, 5, tzinfo=CHICAGO), tick=False):
        assert _sweep() == 1
    offer.refresh_from_db()
    assert offer.status == Delivery.Status.SENT and offer.attempts == 1
    assert [request.form["Body"] for request in twilio.messages()] == ["See you at 9", "10% off"]


def test_marketing_without_consent_is_refused_and_a_revoked_consent_stops_what_waits(alpha, twilio, commit):
    from nevermisscall.errors import BusinessRuleViolation

    with time_machine.travel(datetime(2026, 11, 3, 12, 0, tzinfo=CHICAGO)), tenant_context(alpha):
        with pytest.raises(BusinessRuleViolation):
            services.delivery_queue_sms(to=CUSTOMER, body="10% off", purpose="campaign", kind="marketing")
        services.sms_consent_record(phone_number=CUSTOMER, source="staff")
        offer = services.delivery_queue_sms(to=CUSTOMER, body="10% off", purpose="campaign", kind="marketing")
        services.sms_consent_revoke(phone_number=CUSTOMER)
        with commit():
            services.delivery_hand_off(offer)
    offer.refresh_from_db()
    assert offer.status == Delivery.Status.FAILED and "consent" in offer.last_error
    assert twilio.messages() == []


# --- quota ------------------------------------------------------------------------------------------


def test_quota_reached_holds_and_warns_never_drops(alpha, twilio, commit, dashboard):
    listener = dashboard(alpha)
    noon = datetime(2026, 11, 3, 12, 0, tzinfo=CHICAGO)
    with time_machine.travel(noon, tick=False):
        with tenant_context(alpha):
            BusinessConfig.objects.filter(pk=1).update(sms_daily_quota=2)
        with commit(), tenant_context(alpha):
            texts = [
                services.delivery_queue_sms(to=f"+1312555018{index}", body=f"Text {index}", purpose="test")
                for index in range(4)
            ]
            alert = services.delivery_queue_sms(to="+13125550199", body="EMERGENCY", purpose="owner_alert")
    for delivery in [*texts, alert]:
        delivery.refresh_from_db()
    assert [delivery.status for delivery in texts] == ["sent", "sent", "queued", "queued"]
    assert {delivery.hold_reason for delivery in texts[2:]} == {"quota"}
    assert texts[2].next_attempt_at == datetime(2026, 11, 4, 0, 0, tzinfo=CHICAGO)
    assert alert.status == Delivery.Status.SENT  # The owner's alert is never held by the quota.
    warnings = [event for event in listener.events() if event["type"] == "system_alert"]
    assert [event["payload"]["alert_type"] for event in warnings] == ["sms_quota_reached"]  # Once, not twice.
    from apps.outbox.selectors import delivery_counts

    assert delivery_counts(business=alpha)["held_quota"] == 2
    with time_machine.travel(datetime(2026, 11, 4, 0, 0, 30, tzinfo=CHICAGO), tick=False):
        assert _sweep() == 2
    for delivery in texts:
        delivery.refresh_from_db()
    assert {delivery.status for delivery in texts} == {"sent"}


# --- e-mail -------------------------------------------------------------------------------------------


def test_owner_alert_email_has_text_and_html_parts(alpha, twilio, commit, mailoutbox):
    from apps.dispatch.notifications import emergency_owner_notify

    alpha.email = "owner@alpha.test"
    with commit(), tenant_context(alpha):
        alpha.save(update_fields=["email"])
        emergency_owner_notify(message="EMERGENCY gas smell", forwarding_number="", reference="email-test")
    [email] = mailoutbox
    assert email.to == ["owner@alpha.test"] and "Alpha Plumbing" in email.subject
    assert "EMERGENCY gas smell" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html" and "EMERGENCY gas smell" in html
    delivery = Delivery.objects.get(channel="email", business=alpha)
    assert email.extra_headers["X-NeverMissCall-Delivery"] == str(delivery.id)
    assert delivery.status == Delivery.Status.SENT


# --- webhooks -------------------------------------------------------------------------------------


class Receiver:
    """A receiver written from docs/outbox.md alone: verify the signature, refuse replays."""

    def __init__(self):
        self.secret, self.received, self.answers = "", [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                valid = receiver.verify(body, self.headers["X-NeverMissCall-Signature"])
                receiver.received.append((json.loads(body), dict(self.headers), valid))
                status = receiver.answers.pop(0) if receiver.answers else (204 if valid else 400)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def verify(self, body: bytes, header: str, tolerance: int = 300) -> bool:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        expected = hmac.new(self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - timestamp) <= tolerance


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()


def _endpoint(client, receiver, **extra):
    response = client.post("/api/webhook-endpoints", {"url": receiver.url, **extra}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    receiver.secret = data["secret"]
    return data


def test_signed_webhook_verifiable_from_the_docs_and_secret_shown_once(
    alpha, alice, client_for, receiver, commit, twilio
):
    client = client_for(alice)
    created = _endpoint(client, receiver, event_types=["emergency.detected"])
    assert created["secret"].startswith("whsec_")
    listed = client.get("/api/webhook-endpoints").json()["data"]
    assert "secret" not in listed[0] and listed[0]["secret_prefix"] == created["secret"][:12]
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    assert created["secret"] not in endpoint.secret_encrypted  # Encrypted at rest.
    with commit(), tenant_context(alpha):
        services.webhook_event_emit(event_type="emergency.detected", data={"message": "gas"}, event_id="e1")
        services.webhook_event_emit(event_type="appointment.booked", data={}, event_id="a1")  # Not subscribed.
    [(body, headers, valid)] = receiver.received
    assert valid and body["type"] == "emergency.detected" and body["data"] == {"message": "gas"}
    delivery = Delivery.objects.get(pk=headers["X-NeverMissCall-Delivery"])
    assert delivery.status == Delivery.Status.DELIVERED and delivery.business_id == alpha.id
    # A replay of the same request ten minutes later is refused by the receiver.
    signature = headers["X-NeverMissCall-Signature"]
    raw = json.dumps(body, separators=(",", ":")).encode()
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert not receiver.verify(raw, signature)
    # After a rotation the old secret no longer verifies.
    old_secret = receiver.secret
    rotated = client.post(f"/api/webhook-endpoints/{created['id']}/rotate-secret").json()["data"]["secret"]
    assert rotated != old_secret
    receiver.secret = rotated
    with commit():
        client.post(f"/api/webhook-endpoints/{created['id']}/test")
    assert receiver.received[-1][2] and receiver.received[-1][0]["type"] == "webhook.test"


def test_webhook_5xx_is_retried_and_410_disables_the_endpoint(alpha, alice, client_for, receiver, commit, twilio):
    created = _endpoint(client_for(alice), receiver)
    receiver.answers = [500, 503, 502]
    with commit(), tenant_context(alpha):
        [delivery] = services.webhook_event_emit(event_type="webhook.test", data={}, event_id="r1")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("queued", 3)
    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
        _sweep()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED and len(receiver.received) == 4
    receiver.answers = [410]
    with commit(), tenant_context(alpha):
        [gone] = services.webhook_event_emit(event_type="webhook.test", data={}, event_id="r2")
    gone.refresh_from_db()
    assert (gone.status, gone.last_error_code) == ("failed", "410")
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    assert not endpoint.is_active and "410" in endpoint.disabled_reason
    with tenant_context(alpha):
        assert services.webhook_event_emit(event_type="webhook.test", data={}, event_id="r3") == []


def test_the_same_event_is_queued_once_per_endpoint(alpha, alice, client_for, receiver):
    _endpoint(client_for(alice), receiver)
    with tenant_context(alpha), transaction.atomic():
        assert len(services.webhook_event_emit(event_type="webhook.test", data={}, event_id="same")) == 1
        assert services.webhook_event_emit(event_type="webhook.test", data={}, event_id="same") == []


def test_webhook_urls_must_be_http(alice, client_for):
    response = client_for(alice).post("/api/webhook-endpoints", {"url": "ftp://example.com/x"}, format="json")
    assert response.status_code == 400


# --- the API across the business boundary ---------------------------------------------------------


def test_deliveries_api_lists_filters_and_shows_attempts(alpha, alice, bob, client_for, twilio, commit):
    with commit(), tenant_context(alpha):
        sms = services.delivery_queue_sms(to=CUSTOMER, body="Hello", purpose="test")
    client = client_for(bob)  # Staff may read.
    listing = client.get("/api/deliveries", {"channel": "sms", "status": "sent", "limit": 5}).json()
    assert [row["id"] for row in listing["data"]] == [str(sms.id)]
    assert listing["metadata"]["total_count"] == 1
    detail = client.get(f"/api/deliveries/{sms.id}").json()["data"]
    assert detail["body"] == "Hello" and detail["segments"] == 1
    assert [attempt["outcome"] for attempt in detail["attempt_history"]] == ["sent"]
    assert client.get("/api/deliveries", {"status": "nonsense"}).status_code == 400
    assert client.get("/api/deliveries", {"date_from": "2026-13-45"}).status_code == 400
    assert client.post(f"/api/deliveries/{sms.id}/retry").status_code == 403  # Staff may not retry.


def test_another_business_sees_none_of_it(alpha, alice, charlie, client_for, twilio, commit, receiver):
    with commit(), tenant_context(alpha):
        sms = services.delivery_queue_sms(to=CUSTOMER, body="Alpha only", purpose="test")
    endpoint = _endpoint(client_for(alice), receiver)
    with commit(), tenant_context(alpha):
        [hook] = services.webhook_event_emit(event_type="webhook.test", data={}, event_id="iso")
    Delivery.objects.filter(pk__in=[sms.pk, hook.pk]).update(status="dead")
    client = client_for(charlie)
    assert client.get("/api/deliveries").json()["data"] == []
    for delivery in (sms, hook):
        assert client.get(f"/api/deliveries/{delivery.id}").status_code == 404
        assert client.post(f"/api/deliveries/{delivery.id}/retry").status_code == 404
    assert client.get("/api/webhook-endpoints").json()["data"] == []
    assert client.get(f"/api/webhook-endpoints/{endpoint['id']}").status_code == 404
    assert client.post(f"/api/webhook-endpoints/{endpoint['id']}/rotate-secret").status_code == 404
    assert client.delete(f"/api/webhook-endpoints/{endpoint['id']}").status_code == 404
    # A status callback naming alpha's delivery under beta's business changes nothing.
    with tenant_context(charlie.business):
        assert not services.delivery_status_update(delivery_id=sms.id, provider_status="delivered")
    sms.refresh_from_db()
    assert sms.status == Delivery.Status.DEAD


def test_counts_in_health_detail_and_prometheus(alpha, client):
    """The health check reads on its own thread and connection: the dead row is committed."""
    from apps.telephony.tests.conftest import in_thread

    created = []

    def dead_letter():
        with tenant_context(alpha):
            delivery = services.sms_delivery_build(to=CUSTOMER, body="Dead", purpose="test")
            delivery.status = Delivery.Status.DEAD
            delivery.save(force_insert=True)
            created.append(delivery.pk)

    thread, errors = in_thread(dead_letter)
    thread.join(30)
    assert not errors, errors
    try:
        outbox = client.get("/health/detailed").json()["checks"]["outbox"]
        assert outbox["status"] == "degraded" and outbox["details"]["dead"] >= 1
        text = client.get("/metrics/prometheus").content.decode()
        assert 'nmc_outbox_deliveries{status="dead"}' in text
        assert 'nmc_outbox_held{reason="quota"}' in text
    finally:
        thread, errors = in_thread(lambda: Delivery.objects.filter(pk__in=created).delete())
        thread.join(30)
