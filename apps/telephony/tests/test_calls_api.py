"""AS-Call-Service call endpoints and the internal ones: envelope, filters, pagination, isolation."""

import pytest
from django.conf import settings
from django_tenants.utils import tenant_context

from apps.telephony.models import Call
from apps.telephony.tests.conftest import new_call_sid, payload
from nevermisscall.testing import assert_envelope_error, assert_envelope_ok

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(alpha, webhook, commit):
    """Alpha: one missed call from +17735550142, one answered from +17735550143."""
    missed, answered = new_call_sid(), new_call_sid()
    with commit():
        webhook.post("/webhooks/twilio/call", payload("voice_incoming", CallSid=missed))
        webhook.post(f"/webhooks/twilio/call/status/{missed}", payload("voice_dial_action", CallSid=missed))
        webhook.post(
            "/webhooks/twilio/call",
            payload("voice_incoming", CallSid=answered, From="+17735550143", Caller="+17735550143"),
        )
        webhook.post(
            f"/webhooks/twilio/call/screen/{answered}/result?business_id={alpha.id}",
            payload("voice_whisper_leg", Digits="1"),
        )
        webhook.post(
            f"/webhooks/twilio/call/status/{answered}",
            payload(
                "voice_dial_action",
                CallSid=answered,
                From="+17735550143",
                DialCallStatus="completed",
                DialCallDuration="31",
            ),
        )
    with tenant_context(alpha):
        return {c.call_sid: c for c in Call.objects.all()}, missed, answered


def test_list_filters_and_paginates(alice, client_for, calls):
    _, missed, answered = calls
    client = client_for(alice)
    response = client.get("/api/calls", {"limit": 1})
    data = assert_envelope_ok(response)
    assert len(data) == 1
    assert response.json()["metadata"]["total_count"] == 2
    assert response.json()["metadata"]["page"] == 1
    assert [c["call_sid"] for c in assert_envelope_ok(client.get("/api/calls", {"status": "missed"}))] == [missed]
    assert [c["call_sid"] for c in assert_envelope_ok(client.get("/api/calls", {"caller": "5550143"}))] == [answered]
    assert assert_envelope_ok(client.get("/api/calls", {"direction": "outbound"})) == []
    assert len(assert_envelope_ok(client.get("/api/calls", {"date_from": "2000-01-01T00:00:00Z"}))) == 2
    assert assert_envelope_ok(client.get("/api/calls", {"date_to": "2000-01-01T00:00:00Z"})) == []


@pytest.mark.parametrize(
    "query",
    [
        {"status": "exploded"},
        {"date_from": "yesterday"},
        {"page": 0},
        {"limit": 1000},
        {"caller": "abc"},
        {"date_from": "2030-01-02T00:00:00Z", "date_to": "2030-01-01T00:00:00Z"},
    ],
)
def test_bad_filters_are_400(alice, client_for, query):
    assert_envelope_error(client_for(alice).get("/api/calls", query), 400)


def test_detail_update_participants_metadata_conversations(alice, bob, client_for, calls):
    by_sid, missed, answered = calls
    call = by_sid[missed]
    client = client_for(bob)
    detail = assert_envelope_ok(client.get(f"/api/calls/{call.id}"))
    assert detail["status"] == "missed"
    assert detail["missed_reason"] == "no-answer"
    assert detail["conversation_id"]
    assert assert_envelope_ok(client.get(f"/api/calls/{missed}"))["id"] == str(call.id)  # by CallSid too

    updated = assert_envelope_ok(
        client.put(f"/api/calls/{call.id}", {"notes": "Leaky sink", "caller_name": "Pat"}, format="json")
    )
    assert updated["notes"] == "Leaky sink" and updated["caller_name"] == "Pat"
    assert_envelope_error(client.put(f"/api/calls/{call.id}", {"status": "answered"}, format="json"), 400)

    participants = assert_envelope_ok(client.get(f"/api/calls/{call.id}/participants"))
    assert sorted((p["role"], p["phone_number"]) for p in participants) == [
        ("business", "+13125550199"),
        ("caller", "+17735550142"),
    ]
    added = assert_envelope_ok(
        client.post(f"/api/calls/{call.id}/participants", {"role": "staff", "name": "Bob"}, format="json"), 201
    )
    assert added["name"] == "Bob"
    assert_envelope_error(
        client.post(f"/api/calls/{call.id}/participants", {"role": "staff", "name": "Bob"}, format="json"), 409
    )
    assert_envelope_error(
        client.post(f"/api/calls/{call.id}/participants", {"role": "staff", "phone_number": "12"}, format="json"), 400
    )

    assert assert_envelope_ok(
        client.put(f"/api/calls/{call.id}/metadata", {"metadata": {"source": "ad"}}, format="json")
    ) == {"source": "ad"}
    assert assert_envelope_ok(
        client.put(f"/api/calls/{call.id}/metadata", {"metadata": {"job": 1}}, format="json")
    ) == {"source": "ad", "job": 1}
    assert assert_envelope_ok(client.get(f"/api/calls/{call.id}/metadata")) == {"source": "ad", "job": 1}
    assert_envelope_error(client.put(f"/api/calls/{call.id}/metadata", {"metadata": [1]}, format="json"), 400)

    conversations = assert_envelope_ok(client.get(f"/api/calls/{call.id}/conversations"))
    assert [c["id"] for c in conversations] == [detail["conversation_id"]]
    assert_envelope_error(client.post(f"/api/calls/{call.id}/conversations"), 409)
    answered_call = by_sid[answered]
    created = assert_envelope_ok(client.post(f"/api/calls/{answered_call.id}/conversations"), 201)
    assert created["customer_number"] == "+17735550143"


def test_charlie_cannot_reach_alphas_calls(charlie, client_for, calls):
    by_sid, missed, _ = calls
    call_id = by_sid[missed].id
    client = client_for(charlie)
    assert assert_envelope_ok(client.get("/api/calls")) == []
    for method, path, body in [
        ("get", f"/api/calls/{call_id}", None),
        ("get", f"/api/calls/{missed}", None),
        ("put", f"/api/calls/{call_id}", {"notes": "mine"}),
        ("get", f"/api/calls/{call_id}/participants", None),
        ("post", f"/api/calls/{call_id}/participants", {"role": "staff", "name": "C"}),
        ("get", f"/api/calls/{call_id}/metadata", None),
        ("put", f"/api/calls/{call_id}/metadata", {"metadata": {"x": 1}}),
        ("get", f"/api/calls/{call_id}/conversations", None),
        ("post", f"/api/calls/{call_id}/conversations", None),
    ]:
        response = getattr(client, method)(path, body, format="json")
        assert_envelope_error(response, 404, "RESOURCE_NOT_FOUND")


def test_anonymous_and_x_business_id_spoofing_are_refused(alpha, charlie, client_for, calls):
    assert_envelope_error(client_for().get("/api/calls"), 401)
    spoofed = client_for(charlie, HTTP_X_BUSINESS_ID=str(alpha.id))
    assert_envelope_error(spoofed.get("/api/calls"), 403)


def test_internal_endpoints_need_the_service_key(alpha, client_for, calls, twilio, commit):
    by_sid, missed, answered = calls
    anonymous = client_for()
    assert_envelope_error(anonymous.get(f"/internal/calls/{missed}/status?business_id={alpha.id}"), 401)
    assert_envelope_error(
        anonymous.get(f"/internal/calls/{missed}/status?business_id={alpha.id}", HTTP_X_SERVICE_KEY="wrong"), 401
    )
    service = client_for(HTTP_X_SERVICE_KEY=settings.INTERNAL_SERVICE_KEY)
    status = assert_envelope_ok(service.get(f"/internal/calls/{missed}/status?business_id={alpha.id}"))
    assert status["status"] == "missed" and status["conversation_id"]
    assert_envelope_error(service.get(f"/internal/calls/{missed}/status"), 404)  # which business?

    sid = new_call_sid()
    with commit():
        processed = assert_envelope_ok(
            service.post(
                "/internal/calls/process",
                {"call_sid": sid, "from_number": "(773) 555-0177", "to_number": "+13125550111"},
                format="json",
            ),
            201,
        )
    assert processed["status"] == "ringing" and processed["tenant_id"] == str(alpha.id)
    assert processed["from_number"] == "+17735550177"
    assert_envelope_error(
        service.post(
            "/internal/calls/process", {"call_sid": sid, "from_number": "1", "to_number": "+13125550111"}, format="json"
        ),
        400,
    )
    assert_envelope_error(
        service.post(
            "/internal/calls/process",
            {"call_sid": sid, "from_number": "+17735550177", "to_number": "+16465550100"},
            format="json",
        ),
        404,
    )
    with commit():
        marked = assert_envelope_ok(service.post(f"/internal/calls/{processed['id']}/missed?business_id={alpha.id}"))
    assert marked["status"] == "missed" and marked["missed_reason"] == "manual"
    assert [r.form["To"] for r in twilio.messages()][-1] == "+17735550177"
    assert_envelope_error(service.post(f"/internal/calls/{answered}/missed?business_id={alpha.id}"), 422)
