"""Signatures, unknown numbers and tenant isolation on the webhooks."""

import os
import subprocess
import sys
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.conversations.models import Conversation, Message
from apps.telephony.models import Call
from apps.telephony.tests.conftest import new_call_sid, new_message_sid, payload

pytestmark = pytest.mark.django_db


def _counts(*businesses):
    result = []
    for business in businesses:
        with tenant_context(business):
            result.append((Call.objects.count(), Conversation.objects.count(), Message.objects.count()))
    return result


@pytest.mark.parametrize(
    "path,name",
    [
        ("/webhooks/twilio/call", "voice_incoming"),
        ("/webhooks/twilio/call/status/CA5f1e4cbd0a2e4b7a9d3c6b1e2f7a8c90", "voice_dial_action"),
        ("/api/callbot/call-status", "voice_call_status"),
        ("/webhooks/twilio/sms", "sms_incoming"),
        ("/twilio/sms", "sms_incoming"),
    ],
)
def test_bad_signature_is_403_and_stores_nothing(alpha, beta, webhook, twilio, commit, path, name):
    before = _counts(alpha, beta)
    with commit():
        forged = webhook.post(path, payload(name), signature="bm90IGEgc2lnbmF0dXJl")
        wrong_key = webhook.post(path, payload(name), auth_token="someone-elses-token")
        unsigned = webhook.client.post(path, payload(name))
    assert forged.status_code == wrong_key.status_code == unsigned.status_code == 403
    assert _counts(alpha, beta) == before
    assert twilio.requests() == []


def test_signature_covers_the_query_string(alpha, webhook, twilio):
    """A valid signature for one business_id does not carry over to another."""
    params = payload("voice_whisper_leg")
    from apps.telephony.testing import sign
    from apps.telephony.tests.conftest import PUBLIC_BASE_URL

    signed_for = f"/webhooks/twilio/call/screen/CA1?business_id={alpha.id}"
    signature = sign(PUBLIC_BASE_URL + signed_for, params)
    response = webhook.post(
        "/webhooks/twilio/call/screen/CA1?business_id=00000000-0000-0000-0000-000000000000", params, signature=signature
    )
    assert response.status_code == 403


@pytest.mark.parametrize("app_env,allowed", [("development", True), ("testing", False), ("production", False)])
def test_signature_check_can_be_disabled_only_in_development(app_env, allowed):
    env = {
        "PATH": os.environ["PATH"],
        "APP_ENV": app_env,
        "TWILIO_VALIDATE_SIGNATURES": "false",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "SECRET_KEY": "x" * 50,
        "ADMIN_API_KEY": "admin",
        "INTERNAL_SERVICE_KEY": "internal",
        "DEBUG": "false",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import nevermisscall.settings"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode == 0) is allowed, result.stderr[-500:]
    if not allowed:
        assert "TWILIO_VALIDATE_SIGNATURES=false is only allowed with APP_ENV=development" in result.stderr


def test_unknown_number_gets_a_polite_answer_and_nothing_is_stored(alpha, beta, webhook, twilio, commit, caplog):
    before = _counts(alpha, beta)
    with commit():
        call = webhook.post(
            "/webhooks/twilio/call", payload("voice_incoming", To="+16465550100", Called="+16465550100")
        )
        sms = webhook.post("/webhooks/twilio/sms", payload("sms_incoming", To="+16465550100"))
        status = webhook.post(
            "/webhooks/twilio/call/status/CA5f1e4cbd0a2e4b7a9d3c6b1e2f7a8c90",
            payload("voice_dial_action", To="+16465550100", Called="+16465550100"),
        )
    assert call.status_code == 200
    root = ElementTree.fromstring(call.content)
    assert "not in service" in root.find("Say").text
    assert root.find("Hangup") is not None
    assert sms.status_code == 200 and ElementTree.fromstring(sms.content).tag == "Response"
    assert status.status_code == 200
    assert _counts(alpha, beta) == before
    assert twilio.requests() == []
    assert "no business owns this number" in caplog.text


def test_calls_land_in_the_called_business_only(alpha, beta, webhook, twilio, commit, client_for, charlie, alice):
    alpha_sid, beta_sid = new_call_sid(), new_call_sid()
    with commit():
        webhook.post("/webhooks/twilio/call", payload("voice_incoming", CallSid=alpha_sid))
        webhook.post(
            "/webhooks/twilio/call",
            payload("voice_incoming", CallSid=beta_sid, To="+17735550122", Called="+17735550122"),
        )
        webhook.post(f"/webhooks/twilio/call/status/{alpha_sid}", payload("voice_dial_action", CallSid=alpha_sid))
    with tenant_context(alpha):
        assert list(Call.objects.values_list("call_sid", flat=True)) == [alpha_sid]
    with tenant_context(beta):
        assert list(Call.objects.values_list("call_sid", flat=True)) == [beta_sid]
    charlie_calls = client_for(charlie).get("/api/calls").json()["data"]
    assert [call["call_sid"] for call in charlie_calls] == [beta_sid]
    alice_calls = client_for(alice).get("/api/calls").json()["data"]
    assert [call["call_sid"] for call in alice_calls] == [alpha_sid]
    # A status for alpha's call sent to beta's number does not touch alpha's call.
    with commit():
        webhook.post(
            f"/webhooks/twilio/call/status/{alpha_sid}",
            payload(
                "voice_dial_action",
                CallSid=alpha_sid,
                To="+17735550122",
                Called="+17735550122",
                DialCallStatus="completed",
            ),
        )
    with tenant_context(alpha):
        assert Call.objects.get(call_sid=alpha_sid).status == Call.Status.MISSED


def test_inbound_sms_to_beta_is_not_in_alpha(alpha, beta, webhook, twilio, commit):
    with commit():
        webhook.post("/webhooks/twilio/sms", payload("sms_incoming", MessageSid=new_message_sid(), To="+17735550122"))
    with tenant_context(alpha):
        assert not Message.objects.filter(direction="inbound").exists()
    with tenant_context(beta):
        assert Message.objects.filter(direction="inbound").count() == 1


@override_settings(TWILIO_VALIDATE_SIGNATURES=False)
def test_validation_switched_off_accepts_unsigned_requests(alpha, twilio, commit):
    from django.test import Client

    with commit():
        response = Client().post("/webhooks/twilio/call", payload("voice_incoming", CallSid=new_call_sid()))
    assert response.status_code == 200
