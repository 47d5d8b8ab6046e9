"""Twilio's webhooks served by a Django handler with a short middleware list, on a thread pool.

Every middleware runs on every request (ARCHITECTURE.md section 5 measured −18 to −28 % for a
longer list). Twilio's callbacks carry no session, cookie, CSRF token or language preference, so
sessions, auth, CSRF, messages, locale, clickjacking and htmx are dead weight on the hottest path
of the product. ``PathRouter`` sends ``/webhooks/twilio/``, ``/twilio/`` and ``/api/callbot/`` to
a handler built from ``settings.TWILIO_WEBHOOK_MIDDLEWARE`` and everything else to the normal one.

The views and middleware are all synchronous, so a request is handled the way a threaded WSGI
server handles it: the body is read on the event loop, then ``request_started``, the middleware
chain, the view and ``response.close()`` (``request_finished``, which returns the database
connection to the pool) run on one thread of a fixed pool, and the rendered response goes back
through the event loop. Django's ASGI handler instead gives every request a new thread of its own
(``ThreadSensitiveContext``) and hops loop → thread → loop → thread around sync middleware; a new
thread also rebuilds every thread-local the request touches (Celery's result backend and kombu's
Redis client among them). Measured in bench/README.md. Each request runs in a copy of the event
loop's context, so context-local state (translation, urlconf) never carries over between requests
that share a thread; the tenant is reset by ``TenantResolutionMiddleware`` at the start of each.

The voice assistant's turns (``VOICE_PATH_PREFIXES``) may wait seconds on the language model; they
run on a pool of their own so they can never occupy the threads the missed-call path needs; and
one business's webhooks never occupy more than their share of the others (``Bulkhead``).
"""

import asyncio
import contextlib
import contextvars
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import connection
from django.http import HttpResponse
from django.urls import set_script_prefix

from nevermisscall.tenancy.resolvers import TWILIO_WEBHOOK_PREFIXES

logger = logging.getLogger(__name__)

VOICE_PATH_PREFIXES = ("/twilio/voice", "/twilio/owner-voice")
# How long a webhook whose database connection broke under it keeps trying (inside Twilio's 15 s).
DATABASE_RECOVERY_SECONDS = 6.0
# Twilio's webhook bodies are a few kilobytes; the bulkhead's key is read from no more than this.
MAX_KEYED_BODY = 64 * 1024


class TwilioWebhookHandler(ASGIHandler):
    def __init__(self):
        super().__init__()
        self.executor = ThreadPoolExecutor(settings.TWILIO_WEBHOOK_THREADS, thread_name_prefix="twilio-webhook")
        self.voice_executor = ThreadPoolExecutor(settings.TWILIO_VOICE_THREADS, thread_name_prefix="twilio-voice")
        self.bulkhead = Bulkhead(
            limit=settings.TWILIO_WEBHOOK_THREADS_PER_BUSINESS, wait=settings.TWILIO_WEBHOOK_BUSINESS_WAIT_SECONDS
        )

    def load_middleware(self, is_async=False):
        # BaseHandler reads settings.MIDDLEWARE; swap it while this handler builds its chain
        # (once, at start-up, before any request is served). The chain is synchronous: see respond().
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.TWILIO_WEBHOOK_MIDDLEWARE
        try:
            super().load_middleware(is_async=False)
        finally:
            settings.MIDDLEWARE = full

    async def __call__(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        if scope["path"].startswith(VOICE_PATH_PREFIXES):
            response = await self.run_on(self.voice_executor, scope, body_file)
        else:
            async with self.bulkhead.admit(_business_key(scope, body_file)) as admitted:
                if admitted:
                    response = await self.run_on(self.executor, scope, body_file)
                else:
                    logger.warning("webhook %s refused: its business already uses its webhook threads", scope["path"])
                    response = HttpResponse("busy", status=503, headers={"Retry-After": "1"}, content_type="text/plain")
        await self.send_response(response, send)

    async def run_on(self, executor, scope, body_file):
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(executor, context.run, self.respond, scope, body_file)

    def respond(self, scope, body_file):
        """The whole request on this pool thread, ``request_finished`` included; the response comes
        back closed and fully rendered (webhook responses are never streamed).

        A request that failed because its database connection broke (PostgreSQL restarted under
        it) may have committed its work before: it is handled again on a new connection, until it
        succeeds or ``DATABASE_RECOVERY_SECONDS`` pass while the database cannot be reached. Twilio
        does not retry a failed voice webhook (the caller would never be forwarded), and its
        webhooks are idempotent (a redelivery finds what the first delivery recorded), so a later
        run answers success for work the first one made durable. A request that never had a
        connection (the database was down from its start) is not retried: it answers at once."""
        try:
            set_script_prefix(get_script_prefix(scope))
            signals.request_started.send(sender=self.__class__, scope=scope)
            request, response = self.create_request(scope, body_file)
            if request is not None:
                response = self.get_response(request)
                if response.status_code >= 500 and _database_connection_broke():
                    response = self.respond_again(scope, body_file)
        except BaseException:
            signals.request_finished.send(sender=self.__class__)
            raise
        finally:
            body_file.close()
        response.close()
        return response

    def respond_again(self, scope, body_file):
        deadline = time.monotonic() + DATABASE_RECOVERY_SECONDS
        while True:
            logger.warning("webhook %s: the database connection broke; handling it again", scope["path"])
            connection.close()
            body_file.seek(0)
            request, response = self.create_request(scope, body_file)
            if request is None:
                return response
            response = self.get_response(request)
            database_gone = connection.connection is None or _database_connection_broke()
            if response.status_code < 500 or not database_gone or time.monotonic() > deadline:
                return response
            time.sleep(0.25)


class Bulkhead:
    """At most ``limit`` requests of one business on the webhook threads at once; the others wait on
    the event loop (where waiting holds no thread) for up to ``wait`` seconds, then are refused.

    With one business's rows locked, its webhooks took all 10 webhook threads and another business's
    incoming call timed out at Twilio's 15 s (issue 11's fault run). A burst of one business's calls
    still runs, ``limit`` at a time. Used from the event loop's thread only, so it needs no lock; a
    business's entry lives while it has requests here (keys come from unsigned input, so they must
    not accumulate)."""

    def __init__(self, *, limit: int, wait: float):
        self.limit, self.wait = limit, wait
        self.entries: dict[str, list] = {}  # key -> [asyncio.Semaphore, requests holding or awaiting it]

    @contextlib.asynccontextmanager
    async def admit(self, key: str | None):
        if key is None:
            yield True
            return
        entry = self.entries.setdefault(key, [asyncio.Semaphore(self.limit), 0])
        entry[1] += 1
        try:
            try:
                await asyncio.wait_for(entry[0].acquire(), self.wait)
            except TimeoutError:
                yield False
                return
            try:
                yield True
            finally:
                entry[0].release()
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self.entries[key]


def _business_key(scope, body_file) -> str | None:
    """Which business a webhook is for, as the tenant resolver will read it (``?business_id=``, else
    the called number), without the database: the bulkhead's key. The body is read and rewound."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("business_id"):
        return "id:" + query["business_id"][0]
    raw = body_file.read(MAX_KEYED_BODY)
    body_file.seek(0)
    if "bodySHA256" in query:
        try:
            called = json.loads(raw).get("To")
        except (ValueError, AttributeError):
            return None
    else:
        called = parse_qs(raw.decode("utf-8", "replace")).get("To", [None])[0]
    return f"to:{called}" if isinstance(called, str) and called else None


def _database_connection_broke() -> bool:
    return connection.connection is not None and connection.errors_occurred and not connection.is_usable()


class PathRouter:
    """HTTP: Twilio webhook paths to ``webhooks``, the rest to ``default``."""

    def __init__(self, *, webhooks, default):
        self.webhooks, self.default = webhooks, default

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith(TWILIO_WEBHOOK_PREFIXES):
            return await self.webhooks(scope, receive, send)
        return await self.default(scope, receive, send)
