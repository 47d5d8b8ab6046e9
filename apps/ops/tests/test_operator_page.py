"""The operator page: platform staff only; health, queues, breakers, dead letters (masked), live log."""

import uuid

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.models import User
from apps.ops.tests.test_logs import _staff, staff  # noqa: F401  (fixtures)
from apps.outbox.models import Delivery
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(staff):  # noqa: F811
    client = Client()
    assert client.login(username=staff.email, password=PASSWORD)
    return client


def test_staff_see_health_queues_breakers_dead_letters_and_the_live_log(staff_client, alpha):
    Delivery.objects.create(
        business=alpha,
        channel="sms",
        purpose="auto_reply",
        recipient="+17735550142",
        idempotency_key=f"ops-test-{uuid.uuid4()}",
        status=Delivery.Status.DEAD,
        attempts=12,
        last_error="Twilio 21610: unsubscribed recipient",
        next_attempt_at=timezone.now(),
    )
    response = staff_client.get("/ops/")
    assert response.status_code == 200
    html = response.content.decode()
    for component in ("database", "redis", "celery", "queues", "beat", "twilio", "openai", "geocoding"):
        assert f'data-component="{component}"' in html
    assert 'data-queue="celery"' in html
    assert 'data-breaker="openai"' in html and 'data-breaker="twilio-sms"' in html
    assert "Alpha Plumbing" in html and "21610" in html
    assert "+17735550142" not in html and "0142" in html  # The recipient, masked.
    assert 'data-stream-url="/api/logs/stream"' in html
    panel = staff_client.get("/ops/panel", HTTP_HX_REQUEST="true")
    assert panel.status_code == 200 and 'id="ops-panel"' in panel.content.decode()


def test_the_page_is_in_spanish_for_a_spanish_speaker(staff_client, staff):  # noqa: F811
    User.objects.filter(pk=staff.pk).update(language="es")  # Rolled back with the test.
    html = staff_client.get("/ops/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Operaciones" in html and "Interruptores de circuito" in html and "Cartas muertas" in html


def test_business_users_and_anonymous_are_refused(alice):
    anonymous = Client()
    assert anonymous.get("/ops/").status_code == 302
    owner = Client()
    assert owner.login(username=alice.email, password=PASSWORD)
    assert owner.get("/ops/").status_code == 403
    assert owner.get("/ops/panel").status_code == 403
