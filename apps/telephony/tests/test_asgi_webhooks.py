"""The ASGI application serves Twilio's webhooks through the short middleware chain, on a fixed pool
of threads.

The request runs on the ASGI handler's own thread and connection, so it really commits; the rows
are removed at the end (by caller number)."""

import threading
from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import translation
from django_tenants.utils import tenant_context

from apps.telephony.models import Call, CallParticipant
from apps.telephony.testing import sign
from apps.telephony.tests.conftest import PUBLIC_BASE_URL, cleanup_committed, new_call_sid, payload
from nevermisscall.asgi import application
from nevermisscall.webhook_handler import TwilioWebhookHandler

pytestmark = pytest.mark.django_db


def _post(path: str, params: dict, signature: str, app=application) -> dict:
    communicator = HttpCommunicator(
        app,
        "POST",
        path,
        body=urlencode(params).encode(),
        headers=[
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"x-twilio-signature", signature.encode()),
            (b"host", b"nmc.example.test"),
        ],
    )
    return async_to_sync(communicator.get_response)(timeout=10)


CALLER = "+17735550181"


def test_incoming_call_through_the_asgi_app(alpha, twilio):
    call_sid = new_call_sid()
    params = payload("voice_incoming", CallSid=call_sid, From=CALLER, Caller=CALLER)
    try:
        _check_incoming(alpha, call_sid, params)
    finally:
        cleanup_committed(alpha, CALLER)


def _check_incoming(alpha, call_sid, params):
    response = _post("/webhooks/twilio/call", params, sign(PUBLIC_BASE_URL + "/webhooks/twilio/call", params))
    assert response["status"] == 200, response["body"][:300]
    headers = dict(response["headers"])
    assert headers[b"Content-Type"] == b"application/xml"
    assert b"X-Request-ID" in headers
    assert b"X-Frame-Options" not in headers  # The browser middleware did not run.
    assert b"<Dial" in response["body"]
    with tenant_context(alpha):
        assert Call.objects.filter(call_sid=call_sid).exists()


def test_redelivered_incoming_call_in_autocommit_stores_one_call_with_its_participants(alpha, twilio):
    """Outside a transaction the call and its participants are one statement; a redelivery adds nothing."""
    call_sid = new_call_sid()
    params = payload("voice_incoming", CallSid=call_sid, From=CALLER, Caller=CALLER)
    signature = sign(PUBLIC_BASE_URL + "/webhooks/twilio/call", params)
    try:
        for _ in range(2):
            assert _post("/webhooks/twilio/call", params, signature)["status"] == 200
        with tenant_context(alpha):
            call = Call.objects.get(call_sid=call_sid)
            assert call.started_at is not None
            roles = sorted(call.participants.values_list("role", "phone_number"))
        assert roles == [(CallParticipant.Role.BUSINESS, "+13125550199"), (CallParticipant.Role.CALLER, CALLER)]
    finally:
        cleanup_committed(alpha, CALLER)


def test_bad_signature_through_the_asgi_app(alpha, twilio):
    call_sid = new_call_sid()
    response = _post("/webhooks/twilio/call", payload("voice_incoming", CallSid=call_sid), "forged")
    assert response["status"] == 403
    with tenant_context(alpha):
        assert not Call.objects.filter(call_sid=call_sid).exists()


@override_settings(TWILIO_WEBHOOK_THREADS=1, TWILIO_VOICE_THREADS=1)
def test_a_pool_thread_keeps_no_connection_and_no_state_between_requests(alpha, twilio):
    """After each webhook the thread has returned its connection to the pool (``request_finished``
    ran on it) and carries no request's context-local state (language, urlconf) into the next."""
    handler = TwilioWebhookHandler()
    original = handler.respond

    def respond_activating_spanish(scope, body_file):
        translation.activate("es")  # As a view that forgets to deactivate would.
        return original(scope, body_file)

    handler.respond = respond_activating_spanish
    call_sid = new_call_sid()
    params = payload("voice_incoming", CallSid=call_sid, From=CALLER, Caller=CALLER)
    signature = sign(PUBLIC_BASE_URL + "/webhooks/twilio/call", params)
    try:
        for _ in range(3):
            assert _post("/webhooks/twilio/call", params, signature, app=handler)["status"] == 200

        def thread_state():
            from django.urls import get_urlconf

            return threading.current_thread().name, connection.connection, get_urlconf(), translation.get_language()

        name, open_connection, urlconf, language = handler.executor.submit(thread_state).result()
        assert name.startswith("twilio-webhook")
        assert open_connection is None
        assert urlconf is None
        assert language == settings.LANGUAGE_CODE
    finally:
        handler.executor.shutdown()
        handler.voice_executor.shutdown()
        cleanup_committed(alpha, CALLER)


@override_settings(TWILIO_WEBHOOK_THREADS=2, TWILIO_VOICE_THREADS=1)
def test_voice_turns_run_on_their_own_threads(alpha, twilio):
    """A voice turn may wait seconds on the language model: it never occupies a missed-call thread."""
    handler = TwilioWebhookHandler()
    seen = []
    original = handler.respond

    def respond(scope, body_file):
        seen.append((scope["path"], threading.current_thread().name))
        return original(scope, body_file)

    handler.respond = respond
    try:
        assert _post("/twilio/voice", {"CallSid": new_call_sid()}, "forged", app=handler)["status"] == 403
        assert _post("/webhooks/twilio/call", {"CallSid": new_call_sid()}, "forged", app=handler)["status"] == 403
    finally:
        handler.executor.shutdown()
        handler.voice_executor.shutdown()
    assert seen[0][0] == "/twilio/voice" and seen[0][1].startswith("twilio-voice")
    assert seen[1][0] == "/webhooks/twilio/call" and seen[1][1].startswith("twilio-webhook")
