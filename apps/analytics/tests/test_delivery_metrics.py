# ruff: noqa: F811  (the stand-ins are fixtures imported from other test modules)
"""E-mails, outgoing webhooks and web pushes in the business's metric store: real deliveries through
the outbox to loopback receivers (SMTP, a signed-webhook receiver, a push service) move their own
business's figures in /api/kpis, /api/metrics and /api/unified/*, never another's; the figure is
written by the statement that settles the delivery and rolled back with it; a rule on the webhook
failure rate fires."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.alerts import services as alert_services
from apps.alerts.models import Alert
from apps.alerts.tasks import business_alerts_cycle
from apps.alerts.tests.test_alert_lifecycle import Mailbox
from apps.analytics.models import MetricRollup
from apps.conversations.tests.test_web_push import Browser, push_service  # noqa: F401  (fixture)
from apps.outbox import services as outbox
from apps.outbox.dispatcher import breaker_for
from apps.outbox.models import Channel, Delivery
from apps.outbox.tests.test_policy_and_channels import receiver  # noqa: F401  (fixture)
from conftest import smtp_loopback

pytestmark = pytest.mark.django_db
# ``twilio`` (apps/telephony/tests/conftest.py) also runs Celery tasks in-process: ``with commit():``
# sends what the block queued.

ALERT_MAIL = {"title": "Test", "message": "Hello", "severity": "info", "level": 0}


class RefusingMailbox(Mailbox):
    """Accepts mail, except for the addresses in ``refused`` (550, a permanent refusal)."""

    def __init__(self):
        super().__init__()
        self.refused = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def smtp():
    with smtp_loopback(RefusingMailbox()) as mailbox:
        yield mailbox


@pytest.fixture(autouse=True)
def _closed_breakers():
    for channel in (Channel.EMAIL, Channel.WEBHOOK, Channel.PUSH):
        breaker_for(channel).close()


@pytest.fixture
def one_attempt(settings):
    """A webhook that answers 5xx is dead after its first attempt (instead of retried for hours)."""
    settings.DELIVERY_MAX_ATTEMPTS = 1


def _endpoint_and_browser(business, user, receiver, push_service):
    """A webhook endpoint of ``business`` and a subscribed browser of ``user``."""
    browser = Browser()
    with tenant_context(business):
        endpoint, receiver.secret = outbox.webhook_endpoint_create(business=business, url=receiver.url)
        outbox.push_subscription_save(
            business=business,
            user=user,
            endpoint=f"{push_service.origin}/push/{user.pk}",
            p256dh=browser.p256dh,
            auth=browser.auth,
        )
    return endpoint


def _one_of_each(business, user, endpoint, *, email_to: str, key: str) -> None:
    """An e-mail, a webhook and a push of ``business``, queued in one transaction."""
    with tenant_context(business):
        outbox.delivery_queue_email(to=email_to, template="outbox/email/alert", context=ALERT_MAIL, purpose="test")
        outbox.webhook_endpoint_test(endpoint=endpoint)
        outbox.push_queue_for_users(user_ids=[user.pk], title="Hi", body="Test", url="/", tag=key, event_key=key)


def get(client, path, status=200, **params):
    response = client.get(path, params)
    assert response.status_code == status, response.content
    return response.json()


def _outcomes(deliveries: dict) -> dict:
    return {channel: (row["sent"], row["failed"], row["failure_rate"]) for channel, row in deliveries.items()}


def test_each_channel_moves_its_own_business_figures(
    alpha, beta, alice, charlie, client_for, twilio, commit, smtp, receiver, push_service, one_attempt
):
    endpoint = _endpoint_and_browser(alpha, alice, receiver, push_service)
    with commit():
        _one_of_each(alpha, alice, endpoint, email_to="ana@alpha.example", key="alpha-1")
    assert len(smtp.messages) == 1 and len(receiver.received) == 1 and len(push_service.received) == 1
    assert set(Delivery.objects.filter(business=alpha).values_list("status", flat=True)) == {"sent", "delivered"}

    # Then one of each fails: the mail server refuses the address, the receiver answers 500 (its one
    # attempt), the push service says the browser is gone.
    smtp.refused.add("gone@alpha.example")
    receiver.answers = [500]
    push_service.answers = [410]
    with commit():
        _one_of_each(alpha, alice, endpoint, email_to="gone@alpha.example", key="alpha-2")
    failed = Delivery.objects.filter(business=alpha, status__in=["failed", "dead"])
    assert sorted(failed.values_list("channel", "status")) == [
        ("email", "failed"),
        ("push", "failed"),
        ("webhook", "dead"),
    ]

    client = client_for(alice)
    deliveries = get(client, "/api/kpis", period="today")["data"]["deliveries"]
    assert _outcomes(deliveries) == {"email": (1, 1, 0.5), "webhook": (1, 1, 0.5), "push": (1, 1, 0.5)}
    assert deliveries["webhook"]["max_seconds_to_send"] >= 0
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    rows = get(client, "/api/metrics", metric="webhook_failed", grain=5, since=since)["data"]["metrics"]
    assert [(row["metric"], row["n"]) for row in rows] == [("webhook_failed", 1)]
    rows = get(client, f"/api/tenants/{alpha.id}/metrics", metric="push_sent", since=since)["data"]["metrics"]
    assert [(row["metric"], row["n"]) for row in rows] == [("push_sent", 1)]

    sla = get(client, "/api/unified/sla-metrics")["services"]
    for name in ("email_delivery_rate", "webhook_delivery_rate", "push_delivery_rate"):
        assert (sla[name]["current_sla"], sla[name]["events"], sla[name]["status"]) == (50.0, 2, "breached"), name
    breakers = get(client, "/api/unified/circuit-breakers")
    for name in ("smtp", "outgoing-webhooks", "web-push"):
        assert (breakers[name]["total_requests"], breakers[name]["failed_requests"]) == (2, 1), name
    assert get(client, "/api/unified/status")["performance"] == "error"  # Half of them failed.
    assert get(client, "/api/unified/alerts")["sla_status"]["services"]["webhook_delivery_rate"]["current_sla"] == 50.0

    # Beta's deliveries are Beta's: Alpha's figures do not move, Beta's do.
    beta_endpoint = _endpoint_and_browser(beta, charlie, receiver, push_service)
    with commit():
        _one_of_each(beta, charlie, beta_endpoint, email_to="carl@beta.example", key="beta-1")
    other = client_for(charlie)
    assert _outcomes(get(other, "/api/kpis", period="today")["data"]["deliveries"]) == {
        "email": (1, 0, 0.0),
        "webhook": (1, 0, 0.0),
        "push": (1, 0, 0.0),
    }
    assert _outcomes(get(client, "/api/kpis", period="today")["data"]["deliveries"]) == {
        "email": (1, 1, 0.5),
        "webhook": (1, 1, 0.5),
        "push": (1, 1, 0.5),
    }
    assert get(other, "/api/unified/circuit-breakers")["outgoing-webhooks"]["total_requests"] == 1
    get(other, f"/api/tenants/{alpha.id}/metrics", 404)


def _count(metric: str) -> int:
    return MetricRollup.objects.filter(metric=metric, grain=5).aggregate(n=Sum("n"))["n"] or 0


def test_written_by_the_settling_statement_and_rolled_back_with_it(alpha, alice, receiver, push_service):
    endpoint = _endpoint_and_browser(alpha, alice, receiver, push_service)
    with tenant_context(alpha):
        first = outbox.webhook_endpoint_test(endpoint=endpoint)  # Queued; no commit, so not sent.
        claimed = outbox.delivery_claim(delivery_id=first.id, now=timezone.now())
        with CaptureQueriesContext(connection) as queries:
            outbox.delivery_fail(delivery=claimed, code="refused", error="refused")
        statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
        assert len(statements) == 1  # The status change carries the metric: no round trip of its own.
        assert _count("webhook_failed") == 1
        # The row is no longer ours (not sending): the change does not match, nothing is counted.
        outbox.delivery_fail(delivery=claimed, code="refused", error="again")
        assert _count("webhook_failed") == 1

        second = outbox.webhook_endpoint_test(endpoint=endpoint)
        claimed = outbox.delivery_claim(delivery_id=second.id, now=timezone.now())
        with pytest.raises(RuntimeError), transaction.atomic():
            outbox.delivery_fail(delivery=claimed, code="refused", error="refused")
            raise RuntimeError("the caller's transaction fails")
        assert _count("webhook_failed") == 1
        assert Delivery.objects.get(pk=second.pk).status == Delivery.Status.SENDING


def test_a_rule_on_the_webhook_failure_rate_fires(
    alpha, alice, twilio, commit, receiver, push_service, one_attempt, mailoutbox
):
    """ "Webhook failure rate over 5 % in 15 minutes": 1 of 20 is not over; 2 of 21 is."""
    endpoint = _endpoint_and_browser(alpha, alice, receiver, push_service)
    with tenant_context(alpha):
        rule = alert_services.alert_rule_create(
            name="Webhooks failing",
            metric="webhook_failure_rate",
            comparison="gt",
            threshold=5,
            window_minutes=15,
            severity="warning",
            channels=["email"],
        )
        receiver.answers = [204] * 19 + [500]
        with commit():
            for _ in range(20):
                outbox.webhook_endpoint_test(endpoint=endpoint)
        assert len(receiver.received) == 20
        with commit():
            assert business_alerts_cycle().raised == 0
        receiver.answers = [500]
        with commit():
            outbox.webhook_endpoint_test(endpoint=endpoint)
        with commit():
            assert business_alerts_cycle().raised == 1
        alert = Alert.objects.get(rule=rule)
        assert (alert.state, round(alert.value, 2)) == ("active", 9.52)  # 100 × 2 / 21
        assert len(mailoutbox) == 1 and "Webhooks failing" in mailoutbox[0].subject


def _rollup(metric: str) -> tuple[int, float]:
    row = MetricRollup.objects.filter(metric=metric, grain=5).aggregate(n=Sum("n"), total=Sum("total"))
    return row["n"] or 0, row["total"] or 0.0


def test_a_text_that_is_no_conversation_message_is_counted_from_its_delivery(alpha, twilio, commit):
    """An alert's text to a person has no message (whose events count a conversation's texts): sent
    through the Twilio stand-in it counts as sent (its 2 segments), then delivered by the status
    callback, once however often the callback repeats."""
    body = "[WARNING] Missed calls piling up: 4 missed calls nobody answered in the last hour. " * 2
    with tenant_context(alpha):
        with commit():
            delivery = outbox.delivery_queue_sms(to="+15005550111", body=body, purpose="alert", cause=("alert", "a1"))
        delivery.refresh_from_db()
        assert (delivery.status, delivery.segments) == ("sent", 2)
        assert (_rollup("sms_sent"), _rollup("sms_delivered")) == ((1, 2.0), (0, 0.0))
        assert outbox.delivery_status_update(delivery_id=delivery.id, provider_status="delivered")
        assert not outbox.delivery_status_update(delivery_id=delivery.id, provider_status="delivered")
        assert (_rollup("sms_sent"), _rollup("sms_delivered"), _rollup("sms_failed")) == ((1, 2.0), (1, 1.0), (0, 0.0))
