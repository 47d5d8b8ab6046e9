"""PNS-Provisioning: search, provision, list, stats, update and release, through the twilio SDK."""

import pytest
from django_tenants.utils import tenant_context

from apps.telephony.models import PhoneNumber
from apps.telephony.registry.models import NumberRoute
from apps.telephony.registry.selectors import business_get_by_number
from apps.telephony.tests.conftest import PUBLIC_BASE_URL, new_call_sid, payload
from nevermisscall.testing import assert_envelope_error, assert_envelope_ok

pytestmark = pytest.mark.django_db

NEW_NUMBER = "+13125550177"


def test_search_uses_available_phone_numbers(alice, client_for, twilio):
    data = assert_envelope_ok(
        client_for(alice).post(
            "/phone-numbers/search", {"area_code": 312, "contains": "77", "sms_enabled": True}, format="json"
        )
    )
    assert len(data) == 3
    assert set(data[0]) >= {"phone_number", "friendly_name", "locality", "region", "capabilities"}
    assert data[0]["capabilities"] == {"voice": True, "sms": True, "mms": True}
    request = twilio.requests("GET")[0]
    assert request.path.endswith("/AvailablePhoneNumbers/US/Local.json")
    assert request.query["AreaCode"] == "312" and request.query["Contains"] == "77"
    assert request.query["SmsEnabled"] == "true"


@pytest.mark.parametrize("body", [{"area_code": 12}, {"country": "usa"}, {"contains": "no spaces"}])
def test_search_validates(alice, client_for, twilio, body):
    assert_envelope_error(client_for(alice).post("/phone-numbers/search", body, format="json"), 400)
    assert twilio.requests() == []


def test_provision_buys_with_webhook_urls_and_routes_calls(alpha, alice, client_for, twilio, webhook, commit):
    client = client_for(alice)
    created = assert_envelope_ok(
        client.post(
            "/phone-numbers/provision", {"phone_number": "(312) 555-0177", "friendly_name": "Main"}, format="json"
        ),
        201,
    )
    assert created["phone_number"] == NEW_NUMBER and created["twilio_sid"].startswith("PN")
    bought = twilio.requests("POST", "/IncomingPhoneNumbers.json")[0].form
    assert bought["PhoneNumber"] == NEW_NUMBER
    assert bought["VoiceUrl"] == f"{PUBLIC_BASE_URL}/webhooks/twilio/call"
    assert bought["SmsUrl"] == f"{PUBLIC_BASE_URL}/webhooks/twilio/sms"
    assert bought["StatusCallback"] == f"{PUBLIC_BASE_URL}/api/callbot/call-status"
    assert bought["VoiceMethod"] == bought["SmsMethod"] == "POST"
    assert NumberRoute.objects.get(phone_number=NEW_NUMBER).business_id == alpha.id
    assert business_get_by_number(phone_number=NEW_NUMBER) == alpha

    # A call to the new number reaches Alpha.
    call_sid = new_call_sid()
    with commit():
        webhook.post(
            "/webhooks/twilio/call", payload("voice_incoming", CallSid=call_sid, To=NEW_NUMBER, Called=NEW_NUMBER)
        )
    with tenant_context(alpha):
        assert PhoneNumber.objects.get(phone_number=NEW_NUMBER).friendly_name == "Main"
        from apps.telephony.models import Call

        assert Call.objects.get(call_sid=call_sid).to_number == NEW_NUMBER

    listed = client.get("/phone-numbers", {"status": "active"})
    assert NEW_NUMBER in [n["phone_number"] for n in assert_envelope_ok(listed)]
    assert listed.json()["metadata"]["total_count"] == 2
    stats = assert_envelope_ok(client.get("/phone-numbers/stats"))
    assert stats["active"] == 2 and stats["calls_last_30_days"] == 1

    number_id = created["id"]
    updated = assert_envelope_ok(
        client.put(f"/phone-numbers/{number_id}", {"friendly_name": "Van line"}, format="json")
    )
    assert updated["friendly_name"] == "Van line"
    assert (
        twilio.requests("POST", f"/IncomingPhoneNumbers/{created['twilio_sid']}.json")[0].form["FriendlyName"]
        == "Van line"
    )

    released = assert_envelope_ok(client.delete(f"/phone-numbers/{number_id}"))
    assert released["status"] == "released" and released["released_at"]
    assert twilio.requests("DELETE")[0].path.endswith(f"/IncomingPhoneNumbers/{created['twilio_sid']}.json")
    assert not NumberRoute.objects.filter(phone_number=NEW_NUMBER).exists()
    assert business_get_by_number(phone_number=NEW_NUMBER) is None


def test_a_number_owned_by_another_business_cannot_be_provisioned(charlie, client_for, twilio):
    response = client_for(charlie).post("/phone-numbers/provision", {"phone_number": "+13125550111"}, format="json")
    assert_envelope_error(response, 409)
    assert twilio.requests() == []


def test_staff_cannot_provision_or_release(bob, alpha, client_for, twilio):
    client = client_for(bob)
    assert_envelope_error(client.post("/phone-numbers/provision", {"phone_number": NEW_NUMBER}, format="json"), 403)
    assert_envelope_error(client.post("/phone-numbers/search", {}, format="json"), 403)
    with tenant_context(alpha):
        number = PhoneNumber.objects.get(phone_number="+13125550111")
    assert_envelope_error(client.delete(f"/phone-numbers/{number.id}"), 403)
    assert assert_envelope_ok(client.get(f"/phone-numbers/{number.id}"))["phone_number"] == "+13125550111"
    assert twilio.requests() == []


def test_charlie_cannot_see_or_touch_alphas_numbers(alpha, charlie, client_for, twilio):
    with tenant_context(alpha):
        number = PhoneNumber.objects.get(phone_number="+13125550111")
    client = client_for(charlie)
    assert "+13125550111" not in [n["phone_number"] for n in assert_envelope_ok(client.get("/phone-numbers"))]
    for method, body in [("get", None), ("put", {"friendly_name": "mine"}), ("delete", None)]:
        assert_envelope_error(getattr(client, method)(f"/phone-numbers/{number.id}", body, format="json"), 404)
    assert NumberRoute.objects.filter(phone_number="+13125550111").exists()
    assert twilio.requests() == []


def test_twilio_outage_is_a_503_and_nothing_is_registered(alice, client_for, twilio):
    twilio.fail(1, status=503)
    response = client_for(alice).post("/phone-numbers/provision", {"phone_number": NEW_NUMBER}, format="json")
    assert_envelope_error(response, 503, "EXTERNAL_SERVICE_UNAVAILABLE")
    assert not NumberRoute.objects.filter(phone_number=NEW_NUMBER).exists()


def test_invalid_number_is_400(alice, client_for, twilio):
    assert_envelope_error(
        client_for(alice).post("/phone-numbers/provision", {"phone_number": "555"}, format="json"), 400
    )
    assert_envelope_error(client_for(alice).post("/phone-numbers/provision", {}, format="json"), 400)
