"""The ASGI application serves Twilio's webhooks through the short middleware chain.

The request runs on the ASGI handler's own thread and connection, so it really commits; the rows
are removed at the end (by caller number)."""

from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django_tenants.utils import tenant_context

from apps.telephony.models import Call, CallParticipant
from apps.telephony.testing import sign
from apps.telephony.tests.conftest import PUBLIC_BASE_URL, cleanup_committed, new_call_sid, payload
from nevermisscall.asgi import application

pytestmark = pytest.mark.django_db


def _post(path: str, params: dict, signature: str) -> dict:
    communicator = HttpCommunicator(
        application,
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
