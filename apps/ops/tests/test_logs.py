"""Structured, redacted log lines; the request ID into Celery task headers and back into the task's
lines; ``/api/logs/latest`` and the live ``/api/logs/stream`` for platform staff only."""

import json
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
from asgiref.sync import sync_to_async
from celery._state import _task_stack
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection

from apps.accounts.models import User
from apps.accounts.tokens import token_pair_for
from apps.ops.tasks import health_check
from conftest import PASSWORD
from nevermisscall import logs
from nevermisscall.asgi import application
from nevermisscall.celery import adopt_request_id, drop_request_id
from nevermisscall.celery import app as celery_app
from nevermisscall.middleware import request_id_var

pytestmark = pytest.mark.django_db

HEADERS = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVlLWhlcmU"
SECRETS_IN_LINES = [
    ("Authorization: Bearer abcdefgh12345678", "abcdefgh12345678"),
    ("headers={'Authorization': 'Basic QUN4eDphdXRodG9rZW4='}", "QUN4eDphdXRodG9rZW4="),
    ("X-Twilio-Signature: 9xk2LmQpRsTuVwXyZ0123456789=", "9xk2LmQpRsTuVwXyZ0123456789="),
    ('{"password": "hunter2hunter2", "email": "a@b.test"}', "hunter2hunter2"),
    ("GET /ws/dashboard/?token=tok_live_9f8e7d6c5b4a&level=INFO", "tok_live_9f8e7d6c5b4a"),
    ("api_key=nmc_live_0123456789abcdef", "nmc_live_0123456789abcdef"),
    (f"refreshing with {JWT}", JWT),
    ("openai key sk-proj-AbCdEfGhIjKlMnOpQrStUv", "sk-proj-AbCdEfGhIjKlMnOpQrStUv"),
    ("redis://default:s3cretpass@cache.internal:6379/0", "s3cretpass"),
]


@pytest.fixture
def captured():
    """The JSON lines the project's console handler would write, as text."""
    records = []

    class Capture(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Capture()
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    handler.addFilter(logs.RedactingFilter())
    logger = logging.getLogger("nmc.test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield logger, records
    logger.removeHandler(handler)


@pytest.mark.parametrize(("line", "secret"), SECRETS_IN_LINES)
def test_secrets_never_reach_a_log_line(captured, line, secret):
    logger, records = captured
    logger.info("provider said %s", line)
    assert secret not in records[-1]
    assert logs.REDACTED in records[-1]


def test_configured_secrets_extras_and_exceptions_are_redacted(captured, settings):
    logger, records = captured
    settings.TWILIO_AUTH_TOKEN = "twilio-auth-token-value-0042"
    try:
        raise RuntimeError("auth failed with twilio-auth-token-value-0042")
    except RuntimeError:
        logger.exception("call failed", extra={"password": "plain-password-1", "headers": {"X-Api-Key": "k-123456789"}})
    line = records[-1]
    assert "twilio-auth-token-value-0042" not in line
    assert "plain-password-1" not in line and "k-123456789" not in line
    body = json.loads(line)
    assert body["password"] == logs.REDACTED
    assert body["headers"]["X-Api-Key"] == logs.REDACTED
    assert "RuntimeError" in body["exc_info"]


def test_lines_carry_request_business_task_and_trace_ids(captured, alpha):
    logger, records = captured
    connection.set_tenant(alpha)
    token = request_id_var.set("req-abc-123")
    task = health_check
    # What Celery's task tracer does around a task's body in a worker.
    _task_stack.push(task)
    task.push_request(id="task-0001", headers={}, is_eager=False)
    try:
        logger.warning("something happened")
    finally:
        task.pop_request()
        _task_stack.pop()
        request_id_var.reset(token)
    body = json.loads(records[-1])
    assert body["level"] == "WARNING" and body["message"] == "something happened"
    assert body["request_id"] == "req-abc-123"
    assert body["business"] == alpha.schema_name
    assert body["task_id"] == "task-0001"
    assert {"timestamp", "logger", "module", "trace_id", "span_id", "process_role"} <= set(body)


def test_the_request_id_travels_in_the_task_message_and_back_into_the_tasks_lines(client):
    """A real message on the real broker: its headers carry the request ID (and the trace context);
    the worker side adopts the header for the task's lines."""
    queue = f"ops-test-{uuid.uuid4().hex[:8]}"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    token = request_id_var.set("req-into-celery")
    try:
        celery_app.send_task("ops.health_check", queue=queue)
    finally:
        request_id_var.reset(token)
    raw = broker.lpop(queue)
    broker.delete(queue)
    message = json.loads(raw)
    assert message["headers"]["request_id"] == "req-into-celery"
    assert message["headers"]["traceparent"].startswith("00-")  # The trace context too.

    task = health_check
    task.push_request(id=message["headers"]["id"], headers=message["headers"], is_eager=False)
    try:
        adopt_request_id(task=task)
        assert request_id_var.get() == "req-into-celery"
        drop_request_id(task=task)
        assert request_id_var.get() == "-"
    finally:
        task.pop_request()


def test_an_http_request_id_is_echoed(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="req-from-client-7")
    assert response["X-Request-ID"] == "req-from-client-7"


# --- /api/logs/latest and /api/logs/stream ------------------------------------------------------


@pytest.fixture(scope="session")
def _staff(people, django_db_blocker):
    """One platform staff member, committed once per session (websocket consumers use other connections)."""
    with django_db_blocker.unblock():
        user = User.objects.filter(email="ops-staff@nevermisscall.test").first()
        return user or User.objects.create_superuser(email="ops-staff@nevermisscall.test", password=PASSWORD)


@pytest.fixture
def staff(_staff, db):
    return _staff


@pytest.fixture
def staff_client(client, staff):
    assert client.login(username=staff.email, password=PASSWORD)
    return client


def _write(*lines: tuple[str, str]) -> None:
    """Lines through the real handler into the Redis stream."""
    handler = logs.RedisLogHandler(maxlen=1000)
    handler.addFilter(logs.ContextFilter())
    handler.addFilter(logs.RedactingFilter())
    for level, message in lines:
        record = logging.LogRecord("nmc.test.stream", getattr(logging, level), __file__, 1, message, None, None)
        handler.handle(record)
    handler.flush()


def test_latest_logs_for_staff_filtered_by_level_and_since_without_tokens(staff_client):
    marker = uuid.uuid4().hex[:8]
    _write(
        ("INFO", f"{marker} one"),
        ("ERROR", f"{marker} two Authorization: Bearer supersecrettoken123"),
        ("WARNING", f"{marker} three"),
    )
    body = staff_client.get("/api/logs/latest", {"lines": 1000}).json()
    mine = [e for e in body["logs"] if marker in e["message"]]
    assert [e["message"].split()[1] for e in mine] == ["one", "two", "three"]
    assert {"timestamp", "level", "message", "module", "request_id", "business"} <= set(mine[0])
    assert body["filtered_lines"] == len(body["logs"]) and body["total_lines"] >= 3
    assert "supersecrettoken123" not in json.dumps(body)

    errors = staff_client.get("/api/logs/latest", {"level": "ERROR", "lines": 1000}).json()["logs"]
    assert all(e["level"] in {"ERROR", "CRITICAL"} for e in errors)
    assert [e["message"].split()[1] for e in errors if marker in e["message"]] == ["two"]

    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert staff_client.get("/api/logs/latest", {"since": later}).json()["logs"] == []
    assert len(staff_client.get("/api/logs/latest", {"lines": 2}).json()["logs"]) == 2


@pytest.mark.parametrize(
    "query", [{"lines": "0"}, {"lines": "1001"}, {"lines": "x"}, {"level": "LOUD"}, {"since": "yesterday"}]
)
def test_latest_logs_refuses_bad_parameters(staff_client, query):
    response = staff_client.get("/api/logs/latest", query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_REQUEST"


def test_latest_logs_refuse_business_users_and_anonymous(client, alice, client_for):
    assert client.get("/api/logs/latest").status_code == 401
    assert client_for(alice).get("/api/logs/latest").status_code in {401, 403}
    assert client.login(username=alice.email, password=PASSWORD)
    response = client.get("/api/logs/latest")
    assert response.status_code == 403
    assert "logs" not in response.json()


async def _socket(path, headers=HEADERS):
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def test_log_stream_refuses_business_users_and_anonymous(alice):
    token = await sync_to_async(lambda: token_pair_for(alice)["access_token"])()
    communicator, connected, code = await _socket(f"/api/logs/stream?token={token}")
    assert not connected and code == 4403
    communicator, connected, code = await _socket("/api/logs/stream")
    assert not connected and code == 4401


async def test_log_stream_sends_new_lines_to_staff_and_never_a_token(staff, client):
    await sync_to_async(client.login)(username=staff.email, password=PASSWORD)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    communicator, connected, _ = await _socket("/api/logs/stream", headers=[*HEADERS, (b"cookie", cookie)])
    assert connected
    marker = uuid.uuid4().hex[:8]
    await sync_to_async(time.sleep)(0.3)  # The consumer's XREAD is waiting from "now".
    await sync_to_async(_write)(("INFO", f"{marker} connected with ?token=livetokenvalue99 api_key=abc12345678"))
    deadline = time.monotonic() + 5
    while True:
        entry = json.loads(await communicator.receive_from(timeout=5))
        if marker in entry["message"] or time.monotonic() > deadline:
            break
    assert marker in entry["message"]
    assert "livetokenvalue99" not in entry["message"] and "abc12345678" not in entry["message"]
    assert entry["level"] == "INFO" and "timestamp" in entry and "module" in entry
    await communicator.disconnect()
