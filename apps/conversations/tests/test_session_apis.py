"""Seed 002's session APIs: voice sessions, the provider-agnostic telephony API and the web-chat
widget — round trips through the engine, their shapes and errors, and tenant isolation."""

import pytest
from django.db import connection
from django.test import Client

from apps.conversations.models import AssistantSession, Message
from apps.conversations.tests.conftest import configure_alpha
from apps.crm.models import Appointment
from apps.tenants.services import credential_create

pytestmark = pytest.mark.django_db

ADDRESS = "1420 W Fullerton Ave, Chicago IL 60614"
ESTIMATES = [
    {"job_type": "Drain cleaning", "trade": "plumbing", "min_price": 150, "max_price": 250, "duration_minutes": 90}
]


@pytest.fixture
def configured(alpha):
    """The session APIs' Alpha: one estimate, left in the public schema as a request would find it."""
    configure_alpha(alpha, ESTIMATES)
    connection.set_schema_to_public()
    return alpha


def api_key(business):
    return credential_create(business=business, kind="api_key", name="voice")[1]


def widget_token(business):
    return credential_create(business=business, kind="widget_token", name="site")[1]


def test_voice_session_round_trip(configured, client_for):
    client = client_for(HTTP_X_API_KEY=api_key(configured))
    response = client.post(
        "/v1/voice/session/start", {"caller_phone": "(773) 555-0142", "provider_call_id": "abc"}, format="json"
    )
    assert response.status_code == 200, response.content
    session_id = response.json()["session_id"]
    assert set(response.json()) == {"session_id"}

    turns = ["my kitchen sink is clogged", f"I'm Maria Lopez, {ADDRESS}, tomorrow morning", "yes"]
    for text in turns:
        response = client.post(f"/v1/voice/session/{session_id}/input", {"text": text}, format="json")
        assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"reply_text", "session_state", "audio"} and body["audio"] is None
    assert body["reply_text"].startswith("You're booked!")
    state = body["session_state"]
    assert (state["status"], state["stage"], state["turns"], state["channel"]) == ("booked", "completed", 3, "voice")
    connection.set_tenant(configured)
    appointment = Appointment.objects.get(pk=state["appointment_id"])
    assert appointment.source == "voice" and appointment.customer.phone == "+17735550142"
    connection.set_schema_to_public()

    ended = client.post(f"/v1/voice/session/{session_id}/end", format="json")
    assert ended.json() == {"status": f"ended:{session_id}"}
    closed = client.post(f"/v1/voice/session/{session_id}/input", {"text": "hello"}, format="json")
    assert closed.status_code == 422 and closed.json() == {"detail": "This session has ended."}


def test_voice_session_errors_keep_seed_002_shapes(configured, client_for):
    client = client_for(HTTP_X_API_KEY=api_key(configured))
    bad = client.post("/v1/voice/session/start", {"caller_phone": "nope"}, format="json")
    assert bad.status_code == 422
    assert bad.json() == {
        "detail": [{"loc": ["body", "caller_phone"], "msg": "Enter a valid phone number.", "type": "invalid"}]
    }
    session_id = client.post("/v1/voice/session/start", {"caller_phone": "7735550142"}, format="json").json()[
        "session_id"
    ]
    audio_only = client.post(f"/v1/voice/session/{session_id}/input", {"audio": "UklGRg=="}, format="json")
    assert audio_only.status_code == 422 and audio_only.json()["detail"][0]["loc"] == ["body", "text"]
    missing = client.post("/v1/voice/session/5b0b7d3e-8f0e-4a43-9d43-1d2a8c1c0a11/input", {"text": "hi"}, format="json")
    assert missing.status_code == 404 and missing.json() == {"detail": "Session not found."}
    anonymous = Client().post(
        "/v1/voice/session/start", {"caller_phone": "7735550142"}, content_type="application/json"
    )
    assert anonymous.status_code == 401 and "detail" in anonymous.json()


def test_telephony_api_round_trip_and_jwt(configured, client_for, alice):
    client = client_for(alice)
    inbound = client.post(
        "/telephony/inbound", {"caller_phone": "+17735550142", "provider_call_id": "x1"}, format="json"
    )
    assert inbound.status_code == 200, inbound.content
    body = inbound.json()
    assert set(body) == {"session_id", "reply_text", "session_state", "audio"}
    assert "Alpha Plumbing" in body["reply_text"] and body["session_state"]["turns"] == 0
    turn = client.post(
        "/telephony/audio", {"session_id": body["session_id"], "text": "my sink is clogged"}, format="json"
    )
    assert turn.status_code == 200 and turn.json()["session_state"]["turns"] == 1
    assert turn.json()["session_state"]["job_type"] == "Drain cleaning"
    ended = client.post("/telephony/end", {"session_id": body["session_id"]}, format="json")
    assert ended.json() == {"status": f"ended:{body['session_id']}"}


def test_sessions_of_one_business_are_invisible_to_another(configured, beta, client_for):
    alpha_client = client_for(HTTP_X_API_KEY=api_key(configured))
    session_id = alpha_client.post("/v1/voice/session/start", {"caller_phone": "7735550142"}, format="json").json()[
        "session_id"
    ]
    beta_client = client_for(HTTP_X_API_KEY=api_key(beta))
    response = beta_client.post(f"/v1/voice/session/{session_id}/input", {"text": "hello"}, format="json")
    assert response.status_code == 404
    assert beta_client.post("/telephony/end", {"session_id": session_id}, format="json").status_code == 404
    # Alpha's key naming Beta is refused before any view runs.
    crossed = alpha_client.post(f"/v1/voice/session/{session_id}/end", format="json", HTTP_X_BUSINESS_ID=str(beta.id))
    assert crossed.status_code == 403
    connection.set_tenant(configured)
    assert AssistantSession.objects.get(pk=session_id).status == "active"


def test_widget_session_end_to_end_with_cors(configured, business_numbers, client_for):
    token = widget_token(configured)
    client = client_for(HTTP_X_WIDGET_TOKEN=token, HTTP_ORIGIN="https://alpha-plumbing.example")
    start = client.post("/v1/widget/session/start", {"caller_phone": "773-555-0142", "name": "Maria"}, format="json")
    assert start.status_code == 200, start.content
    assert start["Access-Control-Allow-Origin"] == "https://alpha-plumbing.example"
    assert "Access-Control-Allow-Credentials" not in start
    session_id = start.json()["session_id"]
    assert start.json()["session_state"]["channel"] == "web"
    for text in ["my kitchen sink is clogged", f"I'm Maria Lopez, {ADDRESS}, tomorrow morning", "yes"]:
        response = client.post(f"/v1/widget/session/{session_id}/input", {"text": text}, format="json")
        assert response.status_code == 200, response.content
    assert response.json()["reply_text"].startswith("You're booked!")
    assert response.json()["session_state"]["status"] == "booked"
    connection.set_tenant(configured)
    appointment = Appointment.objects.get(pk=response.json()["session_state"]["appointment_id"])
    assert appointment.source == "web"
    confirmation = Message.objects.get(idempotency_key=f"booking-confirmation:{appointment.id}")
    assert confirmation.to_number == "+17735550142" and confirmation.body.startswith("You're booked!")
    connection.set_schema_to_public()
    assert client.post(f"/v1/widget/session/{session_id}/end", format="json").json() == {
        "status": f"ended:{session_id}"
    }
    preflight = Client().options(
        "/v1/widget/session/start",
        HTTP_ORIGIN="https://alpha-plumbing.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,x-widget-token",
    )
    assert preflight.status_code == 200
    assert "X-Widget-Token" in preflight["Access-Control-Allow-Headers"]


def test_widget_bad_token_is_401_and_tokens_stay_in_their_business(configured, beta, client_for):
    bad = client_for(HTTP_X_WIDGET_TOKEN="nmcw_not-a-real-token").post(
        "/v1/widget/session/start", {"caller_phone": "7735550142"}, format="json"
    )
    assert bad.status_code == 401 and "detail" in bad.json()
    alpha_widget = client_for(HTTP_X_WIDGET_TOKEN=widget_token(configured))
    session_id = alpha_widget.post("/v1/widget/session/start", {"caller_phone": "7735550142"}, format="json").json()[
        "session_id"
    ]
    beta_widget = client_for(HTTP_X_WIDGET_TOKEN=widget_token(beta))
    assert beta_widget.post(f"/v1/widget/session/{session_id}/input", {"text": "hi"}, format="json").status_code == 404
    # A widget token is not an API key: it cannot drive the voice API, nor work outside /v1/widget/.
    voice = client_for(HTTP_X_WIDGET_TOKEN=widget_token(configured)).post(
        "/v1/voice/session/start", {"caller_phone": "7735550142"}, format="json"
    )
    assert voice.status_code == 401


def test_widget_chat_page_and_embed_script(client):
    page = client.get("/widget/chat?token=nmcw_abc&lang=es")
    assert page.status_code == 200
    assert "X-Frame-Options" not in page
    html = page.content.decode()
    assert 'data-token="nmcw_abc"' in html and "/static/widget/chat.js" in html
    assert "Enviar" in html
    script = client.get("/static/widget/embed.js")
    assert script.status_code == 200
    assert b"/widget/chat?" in b"".join(script.streaming_content)
