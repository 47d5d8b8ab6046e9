"""Distributed tracing with OpenTelemetry's SDK (seed 000's "Distributed Tracing").

One trace from each webhook and API request through the Celery tasks it causes to every provider
call: Django's instrumentation opens the request's span (on the browser/API chain and on the Twilio
webhook chain), Celery's carries the context in the task message's headers (the after-commit
publisher thread publishes inside the request's context, see ``nevermisscall/after_commit.py``),
requests' instrumentation covers the twilio SDK (it sends with ``requests``) and the geocoder, and
``TracingTransport`` the openai SDK, whose transport is ``httpx2`` (no instrumentation exists for it).

``OTEL_EXPORTER``: ``none`` (default; spans are made, so logs carry trace IDs, and exported
nowhere), ``console`` (one JSON span per line on stdout) or ``otlp`` (OTLP/HTTP to
``OTEL_EXPORTER_OTLP_ENDPOINT``, read by the exporter itself).
"""

import threading
import time

import httpx2
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

DJANGO_MIDDLEWARE = "opentelemetry.instrumentation.django.middleware.otel_middleware._DjangoMiddleware"

_lock = threading.Lock()
_done = False
_provider: TracerProvider | None = None


def _exporter(name: str) -> SpanExporter | None:
    if name == "console":
        return ConsoleSpanExporter()
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    return None


def provider() -> TracerProvider | None:
    return _provider


def setup() -> None:
    """Once per process (``apps.ops`` ready()): the provider, its exporter, the instrumentations.
    Before any middleware chain is built, since Django's instrumentation is a middleware."""
    global _done, _provider
    with _lock:
        if _done:
            return
        _done = True
        from django.conf import settings

        from nevermisscall.logs import PROCESS_ROLE

        resource = Resource.create(
            {"service.name": settings.OTEL_SERVICE_NAME, "service.version": "1.0.0", "process.role": PROCESS_ROLE}
        )
        _provider = TracerProvider(resource=resource)
        exporter = _exporter(settings.OTEL_EXPORTER)
        if exporter is not None:
            _provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(_provider)

        from opentelemetry.instrumentation.celery import CeleryInstrumentor
        from opentelemetry.instrumentation.django import DjangoInstrumentor
        from opentelemetry.instrumentation.requests import RequestsInstrumentor

        DjangoInstrumentor().instrument(excluded_urls=settings.OTEL_EXCLUDED_URLS)
        # The Twilio webhooks' own middleware chain (nevermisscall/webhook_handler.py) starts with it too.
        webhook_chain = list(settings.TWILIO_WEBHOOK_MIDDLEWARE)
        if DJANGO_MIDDLEWARE not in webhook_chain:
            settings.TWILIO_WEBHOOK_MIDDLEWARE = [DJANGO_MIDDLEWARE, *webhook_chain]
        CeleryInstrumentor().instrument()
        RequestsInstrumentor().instrument(request_hook=_requests_started, response_hook=_requests_answered)


_started = threading.local()


def _requests_started(span, request) -> None:
    _started.at = time.perf_counter()


def _requests_answered(span, request, response) -> None:
    """Every provider request the twilio SDK and the geocoder make, in Prometheus too."""
    from nevermisscall.metrics import record_provider_request

    seconds = time.perf_counter() - getattr(_started, "at", time.perf_counter())
    record_provider_request(url=request.url, status=getattr(response, "status_code", None), seconds=seconds)


def tracer():
    return trace.get_tracer("nevermisscall")


def current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


class TracingTransport(httpx2.BaseTransport):
    """An ``httpx2`` transport that wraps each request in a client span and sends ``traceparent``:
    give it to the openai SDK (``openai.OpenAI(http_client=httpx2.Client(transport=...))``)."""

    def __init__(self, inner=None):
        self.inner = inner or httpx2.HTTPTransport()

    def handle_request(self, request):
        with tracer().start_as_current_span(
            f"{request.method} {request.url.host}",
            kind=trace.SpanKind.CLIENT,
            attributes={"http.request.method": request.method, "server.address": request.url.host or ""},
        ) as span:
            from nevermisscall.metrics import record_provider_request

            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            for key, value in carrier.items():
                request.headers[key] = value
            started = time.perf_counter()
            try:
                response = self.inner.handle_request(request)
            except Exception:
                record_provider_request(url=str(request.url), status=None, seconds=time.perf_counter() - started)
                raise
            record_provider_request(
                url=str(request.url), status=response.status_code, seconds=time.perf_counter() - started
            )
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.set_status(trace.Status(trace.StatusCode.ERROR))
            return response

    def close(self):
        self.inner.close()
