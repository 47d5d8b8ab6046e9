"""Telephony test base: the Twilio stand-in, each test business's Twilio number, signed webhooks.

Alpha Plumbing owns +13125550111 and forwards to +13125550199; Beta Electric owns +17735550122 and
forwards to +17735550188. Both are committed once per session, like the people in the root conftest.
"""

import asyncio
import json
import threading
import uuid
from io import StringIO
from pathlib import Path
from urllib.parse import urlencode

import pytest
from channels.layers import channel_layers
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client, override_settings
from django_tenants.utils import tenant_context

from apps.conversations.models import Conversation, Message
from apps.outbox.models import Delivery
from apps.telephony.models import Call, CallStatusEvent
from apps.telephony.testing import ACCOUNT_SID, AUTH_TOKEN, sign
from apps.tenants.config.models import BusinessConfig
from nevermisscall import events
from nevermisscall.celery import app as celery_app
from nevermisscall.events import dashboard_group

PUBLIC_BASE_URL = "https://nmc.example.test"
PAYLOADS = Path(__file__).parent / "payloads"
NUMBERS = {
    "Alpha Plumbing": ("+13125550111", "+13125550199"),
    "Beta Electric": ("+17735550122", "+17735550188"),
}


def in_thread(function):
    """Run ``function`` on its own thread and database connection (so it commits for real)."""
    errors = []

    def run():
        try:
            function()
        except BaseException as exc:  # Re-raised in the test thread.
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def cleanup_committed(business, caller):
    def delete():
        with tenant_context(business):
            Message.objects.filter(conversation__customer_number=caller).delete()
            call_sids = Call.objects.filter(from_number=caller).values_list("call_sid", flat=True)
            CallStatusEvent.objects.filter(call_sid__in=list(call_sids)).delete()
            Call.objects.filter(from_number=caller).delete()
            Conversation.objects.filter(customer_number=caller).delete()
            Delivery.objects.filter(business=business, recipient=caller).delete()

    thread, errors = in_thread(delete)
    thread.join()
    assert not errors


def missed_call_through_a_real_worker(twilio, *, caller: str) -> list:
    """A missed call from ``caller``, its webhooks committed on their own thread, the task taken from
    the Redis broker by a real worker (a thread of this process, solo pool); returns what the Twilio
    stand-in received once the text arrives (or after 15 s). The caller's rows stay committed: the
    test removes them with ``cleanup_committed``."""
    import time

    from celery.contrib.testing.worker import start_worker

    celery_app.conf.task_always_eager = False  # The twilio fixture restores it.
    call_sid = new_call_sid()

    def missed_call():
        client = TwilioWebhookClient()
        client.post("/webhooks/twilio/call", payload("voice_incoming", CallSid=call_sid, From=caller, Caller=caller))
        client.post(
            f"/webhooks/twilio/call/status/{call_sid}",
            payload("voice_dial_action", CallSid=call_sid, From=caller, Caller=caller),
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
    finally:
        done.set()
        worker_thread.join(30)
    assert not worker_errors, worker_errors
    return twilio.messages()


def payload(name: str, **overrides) -> dict:
    data = json.loads((PAYLOADS / f"{name}.json").read_text())
    data.update({key: value for key, value in overrides.items() if value is not None})
    return {key: value for key, value in data.items() if value != "__omit__"}


def new_call_sid() -> str:
    return "CA" + uuid.uuid4().hex


def new_message_sid() -> str:
    return "SM" + uuid.uuid4().hex


@pytest.fixture(scope="session")
def business_numbers(people, django_db_blocker):
    """Register each test business's number (committed, idempotent)."""
    from apps.tenants.models import Business

    with django_db_blocker.unblock():
        for name, (number, forwarding) in NUMBERS.items():
            business = Business.objects.get(name=name)
            with tenant_context(business):
                call_command(
                    "assign_number", business.slug, number, sid="PN" + uuid.uuid4().hex[:32], stdout=StringIO()
                )
                BusinessConfig.objects.filter(pk=1).update(forwarding_number=forwarding, call_screening=True)
        connection.set_schema_to_public()
    return NUMBERS


@pytest.fixture(scope="session")
def _standin(twilio_standin):
    """The session's Twilio stand-in (root conftest), shared with the test processes."""
    return twilio_standin


@pytest.fixture
def twilio(_standin, business_numbers):
    """The Twilio stand-in, reset; the SDK points at it and Celery runs tasks in-process."""
    _standin.reset()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    with override_settings(
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_API_BASE_URL=_standin.base_url,
        TWILIO_VALIDATE_SIGNATURES=True,
        SMS_BACKEND="twilio",
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
    ):
        yield _standin
    celery_app.conf.task_always_eager = eager


class TwilioWebhookClient:
    """Posts form-encoded webhooks signed the way Twilio signs them."""

    def __init__(self, client: Client | None = None):
        self.client = client or Client()

    def post(self, path: str, params: dict, *, signature: str | None = None, auth_token: str = AUTH_TOKEN):
        url = PUBLIC_BASE_URL + path
        headers = {"HTTP_X_TWILIO_SIGNATURE": signature if signature is not None else sign(url, params, auth_token)}
        return self.client.post(path, urlencode(params), content_type="application/x-www-form-urlencoded", **headers)


@pytest.fixture
def webhook(twilio):
    return TwilioWebhookClient()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """``with commit():`` runs what would run after the commit (events, task hand-offs)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


class DashboardListener:
    """A dashboard subscriber of its own (own layer instance and event loop), like a websocket consumer."""

    def __init__(self, business):
        events.flush()  # Events of earlier steps must not reach this new subscriber late.
        self.loop = asyncio.new_event_loop()
        self.layer = channel_layers.make_backend("default")
        self.group = dashboard_group(business.schema_name)
        self.channel = self.loop.run_until_complete(self.layer.new_channel())
        self.loop.run_until_complete(self.layer.group_add(self.group, self.channel))

    def close(self):
        self.loop.run_until_complete(self.layer.flush())
        self.loop.close()

    def events(self, timeout: float = 0.3) -> list[dict]:
        events.flush()

        async def drain():
            received = []
            while True:
                try:
                    message = await asyncio.wait_for(self.layer.receive(self.channel), timeout)
                except TimeoutError:
                    return received
                received.append(message["event"])

        return self.loop.run_until_complete(drain())

    def types(self) -> list[str]:
        return [event["type"] for event in self.events()]


@pytest.fixture
def dashboard():
    """``dashboard(business)``: a listener on that business's dashboard group (a real channel layer)."""
    listeners = []

    def make(business):
        listener = DashboardListener(business)
        listeners.append(listener)
        return listener

    yield make
    for listener in listeners:
        listener.close()
