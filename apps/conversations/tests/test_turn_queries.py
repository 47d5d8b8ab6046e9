"""One inbound SMS turn in the worker (bench/README.md, "Assistant turn"): its reply is sent by the
task that decided it, with the outbox's guarantees."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.conversations import services, tasks
from apps.conversations.models import Conversation, Message
from apps.outbox import dispatcher, selectors
from apps.outbox.models import Delivery
from apps.telephony.tests.conftest import new_message_sid
from nevermisscall import after_commit
from nevermisscall.celery import app as celery_app

pytestmark = pytest.mark.django_db

CUSTOMER = "+17735550177"
BUSINESS_NUMBER = "+13125550111"
TEXTS = ("My water heater is leaking, no hot water",)


@pytest.fixture
def not_eager():
    """Hand-offs go to the publisher thread as in a worker (not run inline at the commit)."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def published(monkeypatch, not_eager):
    """What would have been published to Celery after a commit."""
    submitted = []

    class Recorder:
        def submit(self, item):
            submitted.append(item)

    monkeypatch.setattr(after_commit, "_current_publisher", Recorder)
    return submitted


def receive(body: str) -> Message:
    """Store the customer's text; its hand-off to the engine is not run (no commit is captured)."""
    outcome = services.message_receive(
        message_sid=new_message_sid(), from_number=CUSTOMER, to_number=BUSINESS_NUMBER, body=body, media=[]
    )
    return outcome.message


def replies():
    return (
        Conversation.objects.get(customer_number=CUSTOMER).messages.filter(kind=Message.Kind.AI).order_by("created_at")
    )


def test_the_reply_is_sent_by_the_task_that_decided_it(configured, twilio, commit, published):
    inbound = receive(TEXTS[0])
    with commit():
        tasks.handle_inbound_message(str(inbound.id))
    reply = replies().get()
    assert reply.status == Message.Status.SENT
    assert [sent.form["Body"] for sent in twilio.messages() if sent.form["To"] == CUSTOMER] == [reply.body]
    assert [item[1].name for item in published if item[0] == "task"] == []  # No second task.
    delivery = Delivery.objects.get(cause_type="message", cause_id=str(reply.id))
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 1)


def test_a_send_that_fails_after_the_commit_leaves_the_reply_to_the_sweep(
    configured, twilio, commit, published, monkeypatch
):
    def crash(*, delivery_id):
        raise RuntimeError("the worker fell over")

    monkeypatch.setattr(dispatcher, "delivery_send", crash)
    inbound = receive(TEXTS[0])
    with commit():
        tasks.handle_inbound_message(str(inbound.id))
    inbound.refresh_from_db()
    assert inbound.handled_at is not None  # The decision committed before the send.
    reply = replies().get()
    delivery = Delivery.objects.get(cause_type="message", cause_id=str(reply.id))
    assert (delivery.status, delivery.attempts, reply.status) == ("queued", 0, "queued")
    assert [sent for sent in twilio.messages() if sent.form["To"] == CUSTOMER] == []
    later = timezone.now() + timedelta(minutes=5)
    assert delivery.id in [due for due, _ in selectors.deliveries_due(now=later, limit=1000)]
    monkeypatch.undo()
    assert dispatcher.delivery_send(delivery_id=delivery.id) == "sent"  # What the sweep's task does.
    assert dispatcher.delivery_send(delivery_id=delivery.id) == "skipped"  # Claimed once, sent once.
    assert len([sent for sent in twilio.messages() if sent.form["To"] == CUSTOMER]) == 1
