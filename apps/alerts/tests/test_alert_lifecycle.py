# ruff: noqa: F811  (the stand-ins are fixtures imported from other test modules)
"""An owner's rule from firing to resolving by itself, on a frozen clock, with every notification
leaving through the outbox to loopback receivers: SMTP (aiosmtpd), the Twilio stand-in and a
signed-webhook receiver."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db.models import Max
from django_tenants.utils import tenant_context

from apps.alerts import services
from apps.alerts.models import Alert, AlertEvent, AlertRule
from apps.alerts.tasks import business_alerts_cycle
from apps.analytics import metrics
from apps.analytics.models import FeedEvent, MetricRollup
from apps.outbox import services as outbox
from apps.outbox.models import Delivery
from apps.outbox.tests.test_policy_and_channels import receiver  # noqa: F401  (fixture)
from conftest import smtp_loopback

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # A Monday, 09:00 in Chicago (Alpha's time zone).
FIRST = {"name": "Ana", "email": "ana@alpha.example", "phone": "+15005550111", "delay_minutes": 0}
SECOND = {"name": "Ben", "email": "ben@alpha.example", "phone": "+15005550122", "delay_minutes": 10}


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp():
    with smtp_loopback(Mailbox()) as mailbox:
        yield mailbox


@pytest.fixture
def hooked(alpha, receiver):
    with tenant_context(alpha):
        endpoint, secret = outbox.webhook_endpoint_create(
            business=alpha, url=receiver.url, event_types=["alert.triggered"]
        )
    receiver.secret = secret
    return endpoint


def missed_calls(count: int, at: datetime) -> None:
    for _ in range(count):
        metrics.metrics_record(increments=[("calls_missed", 1.0)], at=at)


def texts_to(twilio, number: str) -> list[str]:
    return [sent.form["Body"] for sent in twilio.messages() if sent.form["To"] == number]


def mails_to(smtp, address: str) -> list[str]:
    return [content for recipients, content in smtp.messages if address in recipients]


def test_a_rule_fires_notifies_escalates_is_acknowledged_snoozed_and_resolves_itself(
    alpha, twilio, commit, smtp, receiver, hooked
):
    with time_machine.travel(START, tick=False), tenant_context(alpha):
        rule = services.alert_rule_create(
            name="Missed calls piling up",
            metric="calls_missed",
            comparison="gt",
            threshold=3,
            window_minutes=60,
            severity="warning",
            channels=["email", "sms", "webhook"],
            escalation_policy=[FIRST, SECOND],
        )
        missed_calls(3, START - timedelta(minutes=20))
        with commit():
            assert business_alerts_cycle().raised == 0  # 3 is not more than 3.
        missed_calls(1, START - timedelta(minutes=1))
        with commit():
            outcome = business_alerts_cycle()
        assert (outcome.raised, outcome.notified) == (1, 3)  # Ana by e-mail and text, and the webhook.
        alert = Alert.objects.get(rule=rule)
        assert (alert.state, alert.value, alert.escalation_level) == ("active", 4.0, 0)
        assert (
            len(mails_to(smtp, FIRST["email"])) == 1 and "Missed calls piling up" in mails_to(smtp, FIRST["email"])[0]
        )
        assert len(texts_to(twilio, FIRST["phone"])) == 1
        [(body, _headers, valid)] = receiver.received
        assert valid and body["type"] == "alert.triggered" and body["data"]["alert_id"] == str(alert.id)
        assert (
            Delivery.objects.filter(
                cause_type="alert", cause_id=str(alert.id), status__in=["sent", "delivered"]
            ).count()
            == 3
        )
        with commit():
            assert business_alerts_cycle().raised == 0  # Still firing: raised once, Ana told once.
        assert len(texts_to(twilio, FIRST["phone"])) == 1

    # Nobody acknowledged in 10 minutes: Ben is told.
    with time_machine.travel(START + timedelta(minutes=10, seconds=5), tick=False), tenant_context(alpha):
        with commit():
            business_alerts_cycle()
        alert.refresh_from_db()
        assert alert.escalation_level == 1
        assert len(mails_to(smtp, SECOND["email"])) == 1 and len(texts_to(twilio, SECOND["phone"])) == 1
        assert len(receiver.received) == 1  # The integrator heard about it once.
        services.alert_acknowledge(alert=alert, actor="ben@alpha.example")
        services.alert_snooze(alert=alert, until=START + timedelta(minutes=40), actor="ben@alpha.example")
        alert.refresh_from_db()
        assert (alert.state, alert.next_notification_at) == ("snoozed", None)

    # While snoozed nobody is told; when the snooze ends Ben (the current step) is told again.
    with time_machine.travel(START + timedelta(minutes=30), tick=False), tenant_context(alpha):
        with commit():
            business_alerts_cycle()
        assert len(texts_to(twilio, SECOND["phone"])) == 1
    with time_machine.travel(START + timedelta(minutes=41), tick=False), tenant_context(alpha):
        with commit():
            business_alerts_cycle()
        alert.refresh_from_db()
        assert alert.state == "active"
        assert len(texts_to(twilio, SECOND["phone"])) == 2

    # An hour later the missed calls are out of the window: the alert resolves itself.
    with time_machine.travel(START + timedelta(minutes=65), tick=False), tenant_context(alpha):
        with commit():
            assert business_alerts_cycle().resolved == 1
        alert.refresh_from_db()
        assert (alert.state, alert.resolution) == ("resolved", "auto")
        kinds = list(AlertEvent.objects.filter(alert=alert).values_list("kind", flat=True))
        # After the snooze the current step (Ben's) is notified again: it is logged as his step.
        assert kinds == [
            "triggered",
            "notified",
            "escalated",
            "acknowledged",
            "snoozed",
            "unsnoozed",
            "escalated",
            "auto_resolved",
        ]
        assert len(texts_to(twilio, FIRST["phone"])) == 1 and len(texts_to(twilio, SECOND["phone"])) == 2


def test_quiet_hours_hold_a_warning_until_they_end(alpha, twilio, commit):
    night = datetime(2026, 3, 3, 4, 0, tzinfo=UTC)  # 22:00 in Chicago.
    with time_machine.travel(night, tick=False), tenant_context(alpha):
        services.alert_rule_create(
            name="Missed at night",
            metric="calls_missed",
            comparison="gte",
            threshold=1,
            window_minutes=720,
            channels=["sms"],
            escalation_policy=[FIRST],
            quiet_hours_start=datetime(2026, 1, 1, 22, 0).time(),
            quiet_hours_end=datetime(2026, 1, 1, 7, 0).time(),
        )
        missed_calls(1, night)
        with commit():
            assert business_alerts_cycle().raised == 1
        assert texts_to(twilio, FIRST["phone"]) == []
    with time_machine.travel(night + timedelta(hours=8, minutes=59), tick=False), tenant_context(alpha):
        with commit():
            business_alerts_cycle()
        assert texts_to(twilio, FIRST["phone"]) == []  # 06:59: still quiet.
    with time_machine.travel(night + timedelta(hours=9, minutes=1), tick=False), tenant_context(alpha):
        with commit():
            business_alerts_cycle()
        assert len(texts_to(twilio, FIRST["phone"])) == 1


def test_the_owner_rules_are_expressible_and_evaluate(alpha, commit, twilio):
    """SMS failure rate, the slowest lead, a silent line by noon, an open OpenAI circuit."""
    from nevermisscall import breakers

    now = datetime(2026, 3, 2, 18, 30, tzinfo=UTC)  # 12:30 in Chicago.
    with time_machine.travel(now, tick=False), tenant_context(alpha):
        rules = {
            "rate": services.alert_rule_create(
                name="SMS failing", metric="sms_failure_rate", comparison="gt", threshold=5, window_minutes=15
            ),
            "wait": services.alert_rule_create(
                name="Lead waited",
                metric="lead_wait_max_seconds",
                comparison="gt",
                threshold=900,
                window_minutes=60,
                active_from=datetime(2026, 1, 1, 8, 0).time(),
                active_until=datetime(2026, 1, 1, 18, 0).time(),
            ),
            "silent": services.alert_rule_create(
                name="No call today by noon",
                metric="calls",
                comparison="lt",
                threshold=1,
                window_minutes=0,
                active_from=datetime(2026, 1, 1, 12, 0).time(),
            ),
            "openai": services.alert_rule_create(
                name="OpenAI down", metric="circuit_open", subject="test-openai", comparison="eq", threshold=1
            ),
        }
        for _ in range(19):
            metrics.metrics_record(increments=[("sms_sent", 1.0)], at=now - timedelta(minutes=3))
        metrics.metrics_record(increments=[("sms_failed", 1.0)], at=now - timedelta(minutes=3))  # 1 in 20: 5 %.
        metrics.metrics_record(increments=[("lead_wait_seconds", 600.0)], at=now - timedelta(minutes=10))
        breakers._redis().set("nmc:breaker:test-openai:pybreaker:state", "open")
        try:
            with commit():
                business_alerts_cycle()
            firing = set(Alert.objects.exclude(state="resolved").values_list("rule__name", flat=True))
            assert firing == {"No call today by noon", "OpenAI down"}
            metrics.metrics_record(increments=[("sms_failed", 1.0)], at=now)  # 2 in 21: 9.5 %.
            metrics.metrics_record(increments=[("lead_wait_seconds", 1200.0)], at=now)
            metrics.metrics_record(increments=[("calls", 1.0)], at=now)
            breakers._redis().set("nmc:breaker:test-openai:pybreaker:state", "closed")
            with commit():
                outcome = business_alerts_cycle()
            assert (outcome.raised, outcome.resolved) == (2, 2)
            firing = set(Alert.objects.exclude(state="resolved").values_list("rule__name", flat=True))
            assert firing == {"SMS failing", "Lead waited"}
            assert Alert.objects.get(rule=rules["rate"]).value == pytest.approx(100 * 2 / 21)
        finally:
            breakers._redis().delete("nmc:breaker:test-openai:pybreaker:state")


def test_events_land_in_the_rollups_through_the_event_store(alpha, commit):
    from nevermisscall.events import publish_event

    with tenant_context(alpha):
        with commit():
            publish_event("call_missed", {"call_id": "x", "from_number": "+15005550199"}, source_service="test")
            publish_event("message_sent", {"segments": 2, "kind": "ai", "direction": "outbound"}, source_service="t")
            publish_event(
                "dashboard_update",
                {"entity": "appointment", "action": "created", "estimated_value": "250.00"},
                source_service="test",
            )
        rows = {
            (row.metric, row.grain): (row.n, row.total)
            for row in MetricRollup.objects.filter(metric__in=["calls_missed", "sms_sent", "bookings"])
        }
        assert rows[("calls_missed", 5)][0] >= 1 and rows[("calls_missed", 60)][0] >= 1
        assert rows[("sms_sent", 5)][1] >= 2 and rows[("bookings", 60)][1] >= 250


# --- two workers --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=False)
def test_two_workers_evaluating_at_once_notify_once(alpha):
    """Committed rows (each worker thread has its own connection, outside the test's transaction):
    both evaluate the same firing rule at the same moment; one alert, one notification."""
    created = {}

    def setup():
        with tenant_context(alpha):
            created["feed_before"] = FeedEvent.objects.aggregate(last=Max("id"))["last"] or 0
            created["rule"] = services.alert_rule_create(
                name="Race",
                metric="calls_missed",
                comparison="gte",
                threshold=1,
                window_minutes=60,
                channels=["email"],
                escalation_policy=[FIRST],
            )
            missed_calls(1, datetime.now(UTC))

    def cleanup():
        with tenant_context(alpha):
            alerts = list(Alert.objects.filter(rule_id=created["rule"].pk).values_list("pk", flat=True))
            Delivery.objects.filter(cause_type="alert", cause_id__in=[str(pk) for pk in alerts]).delete()
            Alert.objects.filter(pk__in=alerts).delete()
            AlertRule.objects.filter(pk=created["rule"].pk).delete()
            MetricRollup.objects.filter(metric="calls_missed").delete()  # committed here; others read the rollups
            # The alert's system_alert event was stored in the feed; other tests read the feed.
            FeedEvent.objects.filter(id__gt=created["feed_before"]).delete()

    def in_thread(function):
        errors = []

        def run():
            from django.db import connection

            try:
                function()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        return thread, errors

    thread, errors = in_thread(setup)
    thread.join()
    assert not errors
    barrier = threading.Barrier(2)
    outcomes = []

    def worker():
        with tenant_context(alpha):
            barrier.wait()
            outcomes.append(business_alerts_cycle())

    try:
        runs = [in_thread(worker) for _ in range(2)]
        for thread, _errors in runs:
            thread.join()
        assert [e for _t, errors in runs for e in errors] == []
        result = {}

        def count():
            with tenant_context(alpha):
                [alert] = Alert.objects.filter(rule_id=created["rule"].pk)
                result["deliveries"] = Delivery.objects.filter(cause_type="alert", cause_id=str(alert.pk)).count()

        thread, errors = in_thread(count)
        thread.join()
        assert not errors
        assert sorted(o.raised for o in outcomes) == [0, 1]
        assert result["deliveries"] == 1
    finally:
        thread, _ = in_thread(cleanup)
        thread.join()
