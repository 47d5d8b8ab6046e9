"""One trace from a Twilio webhook through the Celery broker and a real worker to the twilio SDK's
request: the stand-in receives a ``traceparent`` of the webhook's trace, and the in-memory exporter
holds the webhook's server span, the task's publish and run spans and the SDK's client span."""

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from apps.telephony.tests.conftest import cleanup_committed, missed_call_through_a_real_worker
from nevermisscall import tracing

pytestmark = pytest.mark.django_db

CALLER = "+17735550177"


@pytest.fixture(scope="session")
def span_exporter():
    exporter = InMemorySpanExporter()
    tracing.provider().add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def test_webhook_task_and_twilio_request_share_one_trace(alpha, twilio, span_exporter):
    span_exporter.clear()
    try:
        [sms] = missed_call_through_a_real_worker(twilio, caller=CALLER)
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
        cleanup_committed(alpha, CALLER)
