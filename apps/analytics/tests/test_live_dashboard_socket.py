"""``/ws/dashboard/``: authentication, heartbeat, per-business events, connection management."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection

from apps.accounts.tokens import token_pair_for
from apps.analytics import consumers
from nevermisscall.asgi import application
from nevermisscall.events import dashboard_group, send_to_group
from nevermisscall.testing import assert_envelope_error, assert_envelope_ok

pytestmark = pytest.mark.django_db

HEADERS = [(b"origin", b"http://localhost"), (b"host", b"localhost")]


def _token(user):
    return token_pair_for(user)["access_token"]


async def _open(path, headers=HEADERS):
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def _open_with_token(user):
    token = await sync_to_async(_token)(user)
    communicator = await _open(f"/ws/dashboard/?token={token}")
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "connection_established"
    return communicator, hello


async def test_token_in_query_connects_and_answers_heartbeat(alice):
    communicator, hello = await _open_with_token(alice)
    assert hello["payload"]["tenant_id"] == str(alice.business_id)
    assert set(hello["metadata"]) == {"timestamp", "source_service", "correlation_id"}
    await communicator.send_json_to({"type": "heartbeat"})
    ack = await communicator.receive_json_from(timeout=5)
    assert ack["type"] == "heartbeat_ack"
    await communicator.disconnect()


async def test_first_message_auth(alice):
    communicator = await _open("/ws/dashboard/")
    await communicator.send_json_to({"type": "auth", "token": await sync_to_async(_token)(alice)})
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "connection_established"
    await communicator.disconnect()


async def test_bad_or_missing_credentials_close_with_4401(alice, monkeypatch):
    communicator = await _open("/ws/dashboard/")
    await communicator.send_json_to({"type": "auth", "token": "forged.token.value"})
    assert (await communicator.receive_output(timeout=5))["code"] == 4401

    forged = await _open("/ws/dashboard/?token=forged")
    await forged.send_json_to({"type": "heartbeat"})
    assert (await forged.receive_output(timeout=5))["code"] == 4401

    monkeypatch.setattr(consumers, "AUTH_TIMEOUT_SECONDS", 0.2)
    silent = await _open("/ws/dashboard/")
    assert (await silent.receive_output(timeout=5))["code"] == 4401


async def test_events_reach_their_business_only(alice, bob, charlie, alpha):
    alice_socket, _ = await _open_with_token(alice)
    bob_socket, _ = await _open_with_token(bob)
    charlie_socket, _ = await _open_with_token(charlie)
    event = {
        "type": "call_missed",
        "payload": {"call_id": "abc"},
        "metadata": {"timestamp": "t", "source_service": "test", "correlation_id": "c"},
    }
    await sync_to_async(send_to_group)(dashboard_group(alpha.schema_name), event)
    assert await alice_socket.receive_json_from(timeout=5) == event
    assert await bob_socket.receive_json_from(timeout=5) == event
    assert await charlie_socket.receive_nothing(timeout=0.5)
    for socket in (alice_socket, bob_socket, charlie_socket):
        await socket.disconnect()


async def test_session_cookie_authenticates_the_dashboard(alice, client):
    from conftest import PASSWORD

    await sync_to_async(client.login)(username=alice.email, password=PASSWORD)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    communicator = await _open("/ws/dashboard/", headers=[*HEADERS, (b"cookie", cookie)])
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["payload"]["user_id"] == str(alice.pk)
    await communicator.disconnect()


async def test_connections_api_lists_and_terminates_only_own_connections(alice, charlie, client_for):
    communicator, hello = await _open_with_token(alice)
    connection_id = hello["payload"]["connection_id"]

    def api_calls():
        status = assert_envelope_ok(client_for(alice).get("/api/connections/status"))
        assert connection_id in [item["connection_id"] for item in status["connections"]]
        assert "channel_name" not in status["connections"][0]
        other = assert_envelope_ok(client_for(charlie).get("/api/connections/status"))
        assert connection_id not in [item["connection_id"] for item in other["connections"]]
        assert_envelope_error(client_for(charlie).delete(f"/api/connections/{connection_id}"), 404)
        assert_envelope_ok(client_for(alice).delete(f"/api/connections/{connection_id}"))
        connection.set_schema_to_public()

    await sync_to_async(api_calls)()
    assert (await communicator.receive_output(timeout=5))["code"] == 4000


async def test_broadcast_api_sends_an_event_to_the_business(alice, client_for):
    communicator, _ = await _open_with_token(alice)

    def broadcast():
        response = client_for(alice).post(
            "/api/connections/broadcast", {"type": "maintenance_mode", "payload": {"minutes": 5}}, format="json"
        )
        assert response.status_code == 202, response.content

    await sync_to_async(broadcast)()
    received = await communicator.receive_json_from(timeout=5)
    assert received["type"] == "maintenance_mode" and received["payload"] == {"minutes": 5}
    await communicator.disconnect()


async def test_a_hundred_dashboards_connect_at_once(alice):
    token = await sync_to_async(_token)(alice)

    async def one():
        communicator = WebsocketCommunicator(application, f"/ws/dashboard/?token={token}", headers=HEADERS)
        connected, _ = await communicator.connect(timeout=20)
        hello = await communicator.receive_json_from(timeout=20) if connected else None
        return communicator, connected and hello["type"] == "connection_established"

    results = await asyncio.gather(*(one() for _ in range(100)))
    assert all(ok for _, ok in results)
    await asyncio.gather(*(communicator.disconnect() for communicator, _ in results))
