# ruff: noqa: F811  (the stand-ins are fixtures imported from other test modules)
"""A demo business reaches no provider (nevermisscall/demo_guard.py): its missed call, assistant
turn and alert make no request at the Twilio, OpenAI, geocoding, SMTP and webhook stand-ins, and
each delivery records why; a real business in the same test still sends."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django_tenants.utils import tenant_context

from apps.alerts import services as alerts
from apps.alerts.tasks import business_alerts_cycle
from apps.alerts.tests.test_alert_lifecycle import receiver, smtp  # noqa: F401  (fixtures)
from apps.analytics import metrics
from apps.conversations.tests.conftest import configure_alpha
from apps.conversations.tests.test_assistant_sms import ADDRESS, CUSTOMER, ESTIMATES, bodies_to, post, scripted_model
from apps.dispatch.geo import FallbackGeocoder, get_geocoder
from apps.dispatch.providers.zipcodes_offline import ZipCentroidGeocoder
from apps.dispatch.tests.test_geocoding_google import google  # noqa: F401  (fixture)
from apps.outbox import services as outbox
from apps.outbox.models import Delivery
from apps.telephony.phone_numbers import phone_number_assign, phone_number_provision
from apps.telephony.registry.selectors import number_cache_clear
from apps.telephony.tests.conftest import NUMBERS, new_call_sid, new_message_sid, payload
from apps.tenants.selectors import business_cache_clear
from apps.tenants.services import business_register
from nevermisscall.breakers import get_breaker
from nevermisscall.demo_guard import DemoNotSent, refusal

pytestmark = pytest.mark.django_db

DEMO_NUMBER = "+13125550166"  # Nobody else's: the platform cache may keep routing it after the test.
BETA_NUMBER = NUMBERS["Beta Electric"][0]
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def demo(db, google, settings):
    """A demo business like Alpha (estimates, service area) with its own number; Google and its
    stand-in configured for everyone."""
    settings.GOOGLE_MAPS_API_KEY, settings.GOOGLE_MAPS_BASE_URL = "g-key", google["base_url"]
    business, _ = business_register(
        business_name="Demo Drains",
        owner_email="owner@drains.demo.test",
        owner_password="demo-password-123",
        owner_name="Demo Owner",
        trade="plumbing",
        timezone_name="America/Chicago",
        is_demo=True,
    )
    configure_alpha(business, ESTIMATES)
    phone_number_assign(phone_number=DEMO_NUMBER)
    yield business
    number_cache_clear(DEMO_NUMBER)
    business_cache_clear(business)


def missed_call(webhook, commit, to):
    call_sid = new_call_sid()
    with commit():
        post(
            webhook,
            f"/webhooks/twilio/call/status/{call_sid}",
            payload("voice_dial_action", CallSid=call_sid, To=to, Called=to),
        )


def sms(webhook, commit, body, to):
    with commit():
        post(webhook, "/webhooks/twilio/sms", payload("sms_incoming", Body=body, To=to, MessageSid=new_message_sid()))


def test_a_demo_missed_call_and_assistant_turn_reach_no_provider_a_real_business_does(
    demo,
    beta,
    webhook,
    twilio,
    commit,
    openai_standin,
    google,
):
    openai_standin.responder = scripted_model
    connection.set_tenant(demo)
    missed_call(webhook, commit, DEMO_NUMBER)
    sms(webhook, commit, f"Hi, my kitchen sink is clogged. I'm Maria Lopez, {ADDRESS}, tomorrow morning", DEMO_NUMBER)
    assert twilio.messages() == []
    assert openai_standin.requests == [] and google["queries"] == []
    with tenant_context(demo):
        assert isinstance(get_geocoder(), ZipCentroidGeocoder)
        deliveries = list(Delivery.objects.filter(business=demo))
    # The missed-call text and the assistant's (rules') answer at least, each refused with the reason;
    # an e-mail, if any, only to a reserved address (the demo owner's own).
    refused = [d for d in deliveries if d.channel != "email"]
    assert len(refused) >= 2
    assert all(d.status == "failed" and d.last_error_code == "demo" for d in refused)
    assert all(d.last_error.startswith("demo: not sent") for d in refused)
    assert all(d.recipient.endswith(".test") for d in deliveries if d.channel == "email")

    connection.set_tenant(beta)
    missed_call(webhook, commit, BETA_NUMBER)
    sms(webhook, commit, "my sink is clogged", BETA_NUMBER)
    assert len(bodies_to(twilio, CUSTOMER)) >= 2  # The missed-call text and the answer (the demo's were none).
    assert len(openai_standin.requests) == 1
    with tenant_context(beta):
        assert isinstance(get_geocoder(), FallbackGeocoder)


def test_a_demo_alert_reaches_no_smtp_sms_or_webhook_a_real_business_does(
    demo,
    beta,
    twilio,
    commit,
    smtp,
    receiver,
):
    contact = {"name": "Ana", "email": "ana@gmail.com", "phone": "+15005550111", "delay_minutes": 0}
    for business in (demo, beta):
        with time_machine.travel(START, tick=False), tenant_context(business):
            _, receiver.secret = outbox.webhook_endpoint_create(
                business=business, url=receiver.url, event_types=["alert.triggered"]
            )
            alerts.alert_rule_create(
                name="Missed calls",
                metric="calls_missed",
                comparison="gt",
                threshold=0,
                window_minutes=60,
                severity="warning",
                channels=["email", "sms", "webhook"],
                escalation_policy=[contact],
            )
            metrics.metrics_record(increments=[("calls_missed", 1.0)], at=START - timedelta(minutes=1))
            with commit():
                assert business_alerts_cycle().raised == 1
            deliveries = list(Delivery.objects.filter(business=business, cause_type="alert"))
        assert len(deliveries) == 3
        if business.is_demo:
            assert {(d.channel, d.status, d.last_error_code) for d in deliveries} == {
                ("email", "failed", "demo"),
                ("sms", "failed", "demo"),
                ("webhook", "failed", "demo"),
            }
            assert smtp.messages == [] and twilio.messages() == [] and receiver.received == []
    # Beta, the same rule: an e-mail, a text and a webhook, all sent.
    assert {d.status for d in deliveries} <= {"sent", "delivered"}
    assert len(smtp.messages) == 1 and len(twilio.messages()) == 1 and len(receiver.received) == 1


def test_a_demo_business_buys_no_number(demo, twilio):
    requests_before, failures_before = len(twilio.requests()), get_breaker("twilio-numbers").fail_counter
    with tenant_context(demo), pytest.raises(DemoNotSent, match="demo: not sent"):
        phone_number_provision(phone_number="+13125550177")
    assert len(twilio.requests()) == requests_before
    assert get_breaker("twilio-numbers").fail_counter == failures_before  # No failure of Twilio's.


def test_only_reserved_addresses_are_mailed_for_a_demo_business(demo, beta, settings):
    settings.SMS_BACKEND = "twilio"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    for recipient in ("owner@acme.demo.test", "ana@alpha.example", "ben@example.com", "x@mail.example.org"):
        assert refusal(business=demo, channel="email", recipient=recipient) is None
    for recipient in ("ana@gmail.com", "ben@example.co"):
        assert refusal(business=demo, channel="email", recipient=recipient).startswith("demo: not sent")
    for channel in ("sms", "webhook", "push"):
        assert refusal(business=demo, channel=channel, recipient="+13125550100").startswith("demo: not sent")
        assert refusal(business=beta, channel=channel, recipient="+13125550100") is None


def test_a_demo_business_texts_and_mails_through_backends_that_reach_nobody(demo, settings):
    """The README's missed-call walk-through on the demo business: the console SMS backend prints
    the texts, a local e-mail backend keeps the mail; neither is a provider."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for backend in ("console", "locmem"):
        settings.SMS_BACKEND = backend
        assert refusal(business=demo, channel="sms", recipient="+13125550100") is None
    assert refusal(business=demo, channel="email", recipient="ana@gmail.com") is None
    assert refusal(business=demo, channel="webhook", recipient="https://hooks.example.net/x").startswith("demo")
