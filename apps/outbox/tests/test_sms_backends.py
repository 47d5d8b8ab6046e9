"""SMS_BACKEND: console and locmem send without Twilio; the SDK client honours TWILIO_API_BASE_URL."""

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.conversations.models import Message
from apps.outbox.channels.sms import LocmemBackend
from apps.telephony.tests.conftest import new_call_sid, payload
from nevermisscall.twilio_rest import RedirectingHttpClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("backend", ["console", "locmem"])
def test_offline_backends_store_the_message_as_sent(alpha, webhook, twilio, commit, backend, caplog):
    LocmemBackend.outbox.clear()
    call_sid = new_call_sid()
    with override_settings(SMS_BACKEND=backend), commit():
        webhook.post(f"/webhooks/twilio/call/status/{call_sid}", payload("voice_dial_action", CallSid=call_sid))
    assert twilio.messages() == []
    with tenant_context(alpha):
        message = Message.objects.get(kind="auto_reply")
        assert message.status == Message.Status.SENT
        assert message.provider_sid.startswith(f"SM{backend}")
    if backend == "locmem":
        assert [(sms.to, sms.from_) for sms in LocmemBackend.outbox] == [("+17735550142", "+13125550111")]
    else:
        assert "SMS (console backend) +13125550111 -> +17735550142" in caplog.text


def test_every_twilio_host_is_redirected_to_the_base_url():
    client = RedirectingHttpClient("http://127.0.0.1:8123/prefix", timeout=1)
    assert (
        client.rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=1")
        == "http://127.0.0.1:8123/prefix/2010-04-01/Accounts/AC1/Messages.json?PageSize=1"
    )
    assert client.rewrite("https://messaging.twilio.com/v1/Services") == "http://127.0.0.1:8123/prefix/v1/Services"
    assert client.rewrite("https://example.com/x") == "https://example.com/x"
