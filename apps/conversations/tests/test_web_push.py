"""Web Push to the team's browsers: a browser subscribes from the dashboard, and an emergency reaches
it through the outbox as a push service receives it: VAPID-signed (RFC 8292) and encrypted to the
browser's keys (RFC 8291). The push service here is a loopback server that checks both, the way a
real one (FCM, Mozilla's autopush) would."""

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.accounts.models import User
from apps.conversations import services
from apps.conversations.models import Conversation
from apps.outbox.models import Delivery, PushSubscription
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """What a browser keeps for one push subscription: its P-256 key pair and auth secret."""

    def __init__(self):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.p256dh, self.auth = _b64(public), _b64(os.urandom(16))

    def subscription(self, endpoint: str) -> dict:
        return {"endpoint": endpoint, "expirationTime": None, "keys": {"p256dh": self.p256dh, "auth": self.auth}}

    def decrypt(self, body: bytes) -> dict:
        return json.loads(
            http_ece.decrypt(body, private_key=self.private_key, auth_secret=_unb64(self.auth), version="aes128gcm")
        )


class PushService:
    """Accepts ``POST /push/<id>`` like a push service: 201 when the VAPID JWT verifies against the
    key in the header and names this origin; 401 otherwise. ``answers`` overrides the status."""

    def __init__(self):
        self.received, self.answers = [], []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                claims = service.verify(self.headers.get("Authorization", ""))
                service.received.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                        "claims": claims,
                    }
                )
                status = service.answers.pop(0) if service.answers else (201 if claims else 401)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"

    def verify(self, authorization: str) -> dict | None:
        if not authorization.startswith("vapid "):
            return None
        fields = dict(part.strip().split("=", 1) for part in authorization[len("vapid ") :].split(","))
        header, payload, signature = fields["t"].split(".")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(fields["k"]))
        raw = _unb64(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        try:
            public.verify(der, f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return None
        claims = json.loads(_unb64(payload))
        if claims.get("aud") != self.origin or claims.get("exp", 0) < time.time():
            return None
        return {**claims, "k": fields["k"]}


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.server.shutdown()


def _subscribe(client, subscription: dict):
    return client.post("/profile/push/", json.dumps(subscription), content_type="application/json")


def _emergency(business, number="+17735550950") -> Conversation:
    connection.set_tenant(business)
    conversation = Conversation.objects.create(
        customer_number=number, business_number="+13125550111", customer_name="Dana Wu", last_message_at=timezone.now()
    )
    services.conversation_needs_you_set(
        conversation_id=conversation.pk, reason="emergency", text="pipe burst, water everywhere"
    )
    return conversation


def test_an_emergency_reaches_a_subscribed_browser_signed_and_encrypted(
    alpha, alice, owner_client, push_service, commit, twilio
):
    browser = Browser()
    answer = _subscribe(owner_client, browser.subscription(f"{push_service.origin}/push/alice-phone"))
    assert answer.status_code == 201, answer.content
    alice.refresh_from_db()
    assert alice.preferences["notifications"]["push"] is True  # Subscribing is asking for it.

    with commit():
        conversation = _emergency(alpha)
    [request] = push_service.received
    assert request["claims"], "the VAPID signature did not verify"
    assert request["claims"]["sub"] == settings.WEB_PUSH_CONTACT
    assert request["headers"]["content-encoding"] == "aes128gcm"
    assert request["headers"]["ttl"] == str(settings.WEB_PUSH_TTL_SECONDS)
    assert request["headers"]["urgency"] == "high"
    assert b"pipe burst" not in request["body"]  # Only the browser can read it.
    shown = browser.decrypt(request["body"])
    assert shown == {
        "title": "Emergency: Dana Wu",
        "body": "pipe burst, water everywhere",
        "url": f"/inbox/{conversation.pk}/",
        "tag": f"conversation-{conversation.pk}",
    }
    delivery = Delivery.objects.get(channel="push")
    assert (delivery.status, delivery.business_id, delivery.cause_id) == ("sent", alpha.id, str(conversation.pk))

    # The customer texts again while it still needs someone: the same alert, no second push.
    with commit():
        services.conversation_needs_you_set(conversation_id=conversation.pk, reason="handoff", text="hello??")
    assert len(push_service.received) == 1


def test_a_browser_the_push_service_says_is_gone_is_forgotten(alpha, owner_client, push_service, commit, twilio):
    browser = Browser()
    assert _subscribe(owner_client, browser.subscription(f"{push_service.origin}/push/old-laptop")).status_code == 201
    push_service.answers = [410]
    with commit():
        _emergency(alpha)
    delivery = Delivery.objects.get(channel="push")
    assert (delivery.status, delivery.last_error_code) == ("failed", "subscription_gone")
    assert not PushSubscription.objects.exists()


def test_nobody_who_turned_push_off_and_no_other_business_gets_one(
    alpha, beta, alice, charlie, owner_client, client, push_service, commit, twilio
):
    assert _subscribe(owner_client, Browser().subscription(f"{push_service.origin}/push/alice")).status_code == 201
    owner_client.post("/profile/", {"action": "notifications"})  # Every box unticked, push too.
    beta_client = type(client)()
    assert beta_client.login(username=charlie.email, password=PASSWORD)
    assert _subscribe(beta_client, Browser().subscription(f"{push_service.origin}/push/charlie")).status_code == 201
    with commit():
        _emergency(alpha)
    assert push_service.received == []  # Alice said no; Charlie is another business.
    assert User.objects.get(pk=charlie.pk).preferences["notifications"]["push"] is True


def test_what_is_not_a_push_subscription_is_refused(owner_client):
    browser = Browser()
    cases = [
        b"not json",
        json.dumps([1, 2]).encode(),
        json.dumps(
            {"endpoint": "ftp://push.example/x", "keys": {"p256dh": browser.p256dh, "auth": browser.auth}}
        ).encode(),
        json.dumps({"endpoint": "https://push.example/x", "keys": {"p256dh": "short", "auth": browser.auth}}).encode(),
        json.dumps({"endpoint": "https://push.example/x"}).encode(),
    ]
    for body in cases:
        response = owner_client.post("/profile/push/", body, content_type="application/json")
        assert response.status_code == 400, body
        assert response.json()["detail"]
    assert not PushSubscription.objects.exists()
    subscription = browser.subscription("https://push.example/x")
    assert _subscribe(owner_client, subscription).status_code == 201
    gone = owner_client.post(
        "/profile/push/",
        json.dumps({"unsubscribe": True, "endpoint": "https://push.example/x"}),
        content_type="application/json",
    )
    assert gone.json() == {"subscribed": False, "removed": 1}


def test_the_profile_says_how_many_devices_get_push(owner_client):
    assert "0 devices get notifications with the dashboard closed" in owner_client.get("/profile/").content.decode()
    _subscribe(owner_client, Browser().subscription("https://push.example/phone"))
    assert "1 device gets notifications with the dashboard closed" in owner_client.get("/profile/").content.decode()
