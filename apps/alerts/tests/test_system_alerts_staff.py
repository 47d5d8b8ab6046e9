"""System alerts for platform staff: live on the operator page's staff-only socket (a business
user's sockets never receive one), listed on /ops/ with acknowledge and resolve, and e-mailed to
staff and OPS_ALERT_EMAILS once per raise, not once per beat."""

import uuid
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from apps.accounts.tokens import token_pair_for
from apps.alerts import services, system
from apps.alerts.models import Alert, Severity
from apps.ops.tests.test_logs import _staff, staff  # noqa: F401  (fixtures)
from apps.outbox.models import Delivery
from conftest import PASSWORD
from nevermisscall import breakers, events
from nevermisscall.asgi import application

pytestmark = pytest.mark.django_db

HEADERS = [(b"origin", b"http://localhost"), (b"host", b"localhost")]


def _raise_system_alert(service: str) -> Alert:
    with schema_context("public"):
        return services.alert_raise(
            fingerprint=f"system:breaker:{service}",
            source=Alert.Source.SYSTEM,
            alert_type="circuit_open",
            service=service,
            severity=Severity.CRITICAL,
            title=f"Circuit breaker {service} is open",
        )


@pytest.fixture
def staff_client(staff):  # noqa: F811
    client = Client()
    assert client.login(username=staff.email, password=PASSWORD)
    return client


async def _socket(path, headers=HEADERS):
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def test_a_system_alert_reaches_staff_sockets_and_never_a_business_users(staff, alice, client):  # noqa: F811
    await sync_to_async(client.login)(username=staff.email, password=PASSWORD)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    staff_socket, connected, _ = await _socket("/ws/ops/", headers=[*HEADERS, (b"cookie", cookie)])
    assert connected
    token = await sync_to_async(lambda: token_pair_for(alice)["access_token"])()
    owner_socket, connected, _ = await _socket(f"/ws/dashboard/?token={token}")
    assert connected and (await owner_socket.receive_json_from(timeout=5))["type"] == "connection_established"
    refused, connected, code = await _socket(f"/ws/ops/?token={token}")
    assert not connected and code == 4403
    anonymous, connected, code = await _socket("/ws/ops/")
    assert not connected and code == 4401

    service = f"live-{uuid.uuid4().hex[:8]}"
    # Committed (another thread's connection, as the beat's): the event leaves after the commit.
    alert = await sync_to_async(_raise_system_alert)(service)
    try:
        await sync_to_async(events.flush)()
        raised = await staff_socket.receive_json_from(timeout=5)
        assert raised["type"] == "system_alert"
        assert (raised["payload"]["alert_id"], raised["payload"]["state"]) == (str(alert.id), "active")

        def acknowledge():
            with schema_context("public"):
                services.alert_acknowledge(alert=Alert.objects.get(pk=alert.pk), actor=staff.email)
            events.flush()

        await sync_to_async(acknowledge)()
        changed = await staff_socket.receive_json_from(timeout=5)
        assert (changed["type"], changed["payload"]["state"]) == ("system_alert", "acknowledged")
        assert await owner_socket.receive_nothing(timeout=0.5)
    finally:

        def cleanup():
            with schema_context("public"):
                Alert.objects.filter(pk=alert.pk).delete()

        await sync_to_async(cleanup)()
        await staff_socket.disconnect()
        await owner_socket.disconnect()


def test_the_operator_page_lists_open_system_alerts_to_acknowledge_and_resolve(staff_client, staff, alice, alpha):  # noqa: F811
    alert = _raise_system_alert("page-test")
    page = staff_client.get("/ops/").content.decode()
    assert 'hx-get="/ops/alerts/"' in page and "js/ops-live.js" in page and 'data-live-url="/ws/ops/"' in page
    section = staff_client.get("/ops/alerts/").content.decode()
    assert f'data-system-alert="{alert.id}"' in section and "Circuit breaker page-test is open" in section

    acked = staff_client.post(f"/ops/alerts/{alert.id}/acknowledge", HTTP_HX_REQUEST="true").content.decode()
    assert f'data-system-alert="{alert.id}" data-alert-type="circuit_open" data-state="acknowledged"' in acked
    again = staff_client.post(f"/ops/alerts/{alert.id}/acknowledge", HTTP_HX_REQUEST="true")
    assert again.status_code == 409 and "only an active or snoozed one" in again.content.decode()
    resolved = staff_client.post(f"/ops/alerts/{alert.id}/resolve")
    assert resolved.status_code == 302 and resolved["Location"] == "/ops/"
    assert f'data-system-alert="{alert.id}"' not in staff_client.get("/ops/alerts/").content.decode()
    with schema_context("public"):
        alert.refresh_from_db()
    assert (alert.state, alert.resolved_by, alert.resolution) == ("resolved", staff.email, "manual")

    with tenant_context(alpha):  # A business's own alert is not the operator's to touch.
        own = services.alert_raise(fingerprint="custom:ops-page", source="custom", alert_type="custom", title="Mine")
    assert staff_client.post(f"/ops/alerts/{own.id}/resolve").status_code == 404

    other = _raise_system_alert("page-test-2")
    owner = Client()
    assert owner.login(username=alice.email, password=PASSWORD)
    assert owner.get("/ops/alerts/").status_code == 403
    assert owner.post(f"/ops/alerts/{other.id}/resolve").status_code == 403
    assert "page-test-2" not in owner.get("/dashboard/alerts/").content.decode()
    assert Client().get("/ops/alerts/").status_code == 302
    with schema_context("public"):
        assert Alert.objects.get(pk=other.pk).state == "active"


def test_staff_are_emailed_once_per_raise_not_every_beat(staff, alice, settings, twilio):  # noqa: F811
    settings.OPS_ALERT_EMAILS = ["oncall@ops.test", staff.email.upper()]
    key = "nmc:breaker:test-ops-mail:pybreaker:state"
    now = timezone.now()

    def beat(at):
        with schema_context("public"):
            system.system_alerts_check(now=at)
            services.alerts_notify_due(now=at)

    def mails(alert_ids):
        rows = Delivery.objects.filter(cause_type="alert", cause_id__in=[str(pk) for pk in alert_ids], channel="email")
        return sorted(rows.values_list("recipient", flat=True))

    breakers._redis().set(key, "open")
    try:
        for minute in range(3):
            beat(now + timedelta(minutes=minute))
        with schema_context("public"):
            first = Alert.objects.get(fingerprint="system:breaker:test-ops-mail", state="active")
        sent = mails([first.pk])
        assert sent.count("oncall@ops.test") == 1 and sent.count(staff.email) == 1
        assert len(sent) == len(set(sent)) and alice.email not in sent  # each once; no business owner

        breakers._redis().set(key, "closed")
        beat(now + timedelta(minutes=4))
        breakers._redis().set(key, "open")
        beat(now + timedelta(minutes=5))
        beat(now + timedelta(minutes=6))
        with schema_context("public"):
            raised = list(Alert.objects.filter(fingerprint="system:breaker:test-ops-mail").values_list("pk", flat=True))
        assert len(raised) == 2  # resolved by itself, then raised again
        assert mails(raised).count("oncall@ops.test") == 2
    finally:
        breakers._redis().delete(key)
