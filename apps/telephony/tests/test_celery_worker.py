"""The missed-call → SMS path through a real Celery worker and the real Redis broker.

The webhooks run on their own thread and database connection, so their transaction really commits
and ``on_commit`` really enqueues; the worker (a thread of this process, solo pool) picks the task
from Redis, switches to the business's schema from the task header, and sends through the twilio
SDK to the stand-in. The rows it commits are removed at the end.
"""

import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django_tenants.utils import tenant_context

from apps.conversations.models import Message
from apps.telephony.tests.conftest import TwilioWebhookClient, cleanup_committed, in_thread, new_call_sid, payload
from nevermisscall.celery import app as celery_app

pytestmark = pytest.mark.django_db

CALLER = "+17735550161"


def test_missed_call_is_texted_by_a_real_worker(alpha, twilio):
    celery_app.conf.task_always_eager = False  # The twilio fixture restores it.
    call_sid = new_call_sid()

    def missed_call():
        client = TwilioWebhookClient()
        client.post("/webhooks/twilio/call", payload("voice_incoming", CallSid=call_sid, From=CALLER, Caller=CALLER))
        client.post(
            f"/webhooks/twilio/call/status/{call_sid}",
            payload("voice_dial_action", CallSid=call_sid, From=CALLER, Caller=CALLER),
        )

    ready, done = threading.Event(), threading.Event()

    def worker():
        # Started on its own thread: Celery's Django fix-up closes the starting thread's connection.
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            ready.set()
            done.wait(60)

    worker_thread, worker_errors = in_thread(worker)
    try:
        assert ready.wait(30), worker_errors
        thread, errors = in_thread(missed_call)
        thread.join(30)
        assert not errors, errors
        started = time.monotonic()
        while not twilio.messages() and time.monotonic() - started < 15:
            time.sleep(0.02)
        done.set()
        worker_thread.join(30)
        assert not worker_errors, worker_errors
        sent = twilio.messages()
        assert [r.form["To"] for r in sent] == [CALLER]
        with tenant_context(alpha):
            message = Message.objects.get(to_number=CALLER)
            assert message.status == Message.Status.SENT
            assert message.provider_sid
    finally:
        done.set()
        cleanup_committed(alpha, CALLER)
