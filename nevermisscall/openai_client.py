"""The process's ``openai`` SDK clients: one (and its connection pool) per configuration and timeout.

Chat completions (apps/dispatch) and text-to-speech (apps/owner) share it, so both get the same
settings, no SDK retries (our breakers and the outbox decide), and a client span with
``traceparent`` on every request (the SDK's transport is httpx, see nevermisscall/tracing.py).
"""

import threading

from django.conf import settings

from nevermisscall import demo_guard

_client_lock = threading.Lock()
_clients: dict[tuple, object] = {}


def openai_client(*, timeout: float):
    demo_guard.ensure_not_demo("OpenAI")  # Never for a demo business (nevermisscall/demo_guard.py).
    key = (settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL, timeout)
    with _client_lock:
        client = _clients.get(key)
        if client is None:
            import openai

            from nevermisscall.tracing import TracingTransport

            client = openai.OpenAI(
                api_key=settings.OPENAI_API_KEY,
                base_url=settings.OPENAI_BASE_URL,
                timeout=timeout,
                max_retries=0,
                http_client=openai.DefaultHttpxClient(transport=TracingTransport()),
            )
            _clients[key] = client
        return client
