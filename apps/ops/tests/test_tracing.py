"""One trace from a Twilio webhook through the Celery broker and a real worker to the twilio SDK's
request: the stand-in receives a ``traceparent`` of the webhook's trace, and the in-memory exporter
holds the webhook's server span, the task's publish and run spans and the SDK's client span."""

import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from apps.telephony.tests.conftest import TwilioWebhookClient, cleanup_committed, in_thread, new_call_sid, payload
from nevermisscall import tracing
from nevermisscall.celery import app as celery_app

pytestmark = pytest.mark.django_db

CALLER = "+17735550177"


@pytest.fixture(scope="session")
def span_exporter():
    exporter = InMemorySpanExporter()
    tracing.provider().add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def test_webhook_task_and_twilio_request_share_one_trace(alpha, twilio, span_exporter):
    celery_app.conf.task_always_eager = False  # The twilio fixture restores it.
    span_exporter.clear()
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
        [sms] = twilio.messages()
        spans = span_exporter.get_finished_spans()
        status_webhook = next(
            s for s in spans if s.kind == SpanKind.SERVER and "status" in (s.attributes.get("http.route") or s.name)
        )
        trace_id = status_webhook.context.trace_id
        # The request that reached the stand-in carried the webhook's trace.
        assert sms.traceparent is not None
        assert int(sms.traceparent.split("-")[1], 16) == trace_id
        in_trace = [s for s in spans if s.context.trace_id == trace_id]
        kinds = {(s.kind, s.name.split(" ")[0]) for s in in_trace}
        assert any(s.kind == SpanKind.PRODUCER for s in in_trace), kinds  # apply_async, publisher thread
        assert any(s.kind == SpanKind.CONSUMER for s in in_trace), kinds  # run/…, the worker
        client_spans = [s for s in in_trace if s.kind == SpanKind.CLIENT]
        assert client_spans and client_spans[-1].attributes.get("http.response.status_code", 201) < 300
    finally:
        done.set()
        cleanup_committed(alpha, CALLER)
