"""The pieces the fault suite (tests/faults/) relies on, each alone: the Redis verdict, the bulkhead."""

import asyncio
import io
import socket
import threading
import time

import pytest
import redis

from nevermisscall.redis_guard import GuardedConnection, redis_is_down
from nevermisscall.webhook_handler import Bulkhead, _business_key


@pytest.fixture
def hung_redis():
    """A port that accepts connections and never answers, like a Redis stopped with SIGSTOP."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_a_hung_redis_costs_one_timeout_then_commands_fail_at_once(hung_redis):
    client = redis.Redis.from_url(
        f"redis://127.0.0.1:{hung_redis}/0",
        socket_timeout=0.3,
        socket_connect_timeout=0.3,
        connection_class=GuardedConnection,
    )
    started = time.perf_counter()
    with pytest.raises(redis.RedisError):
        client.get("key")
    first = time.perf_counter() - started
    assert redis_is_down("127.0.0.1", hung_redis)
    started = time.perf_counter()
    with pytest.raises(redis.ConnectionError):
        client.get("key")
    assert time.perf_counter() - started < 0.05 < first


def test_the_bulkhead_runs_one_business_a_few_at_a_time_and_refuses_what_waits_too_long():
    async def scenario():
        bulkhead = Bulkhead(limit=1, wait=0.2)
        order = []

        async def request(key, hold):
            async with bulkhead.admit(key) as admitted:
                order.append((key, admitted))
                if admitted:
                    await asyncio.sleep(hold)

        await asyncio.gather(request("a", 0.05), request("a", 0.05), request("b", 0))  # A burst waits its turn.
        assert sorted(order) == [("a", True), ("a", True), ("b", True)]
        order.clear()
        await asyncio.gather(request("a", 0.5), request("a", 0), request("b", 0))  # A stuck business is refused.
        assert sorted(order) == [("a", False), ("a", True), ("b", True)]
        assert bulkhead.entries == {}  # Nothing kept for keys that are gone.

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("query", "body", "key"),
    [
        (b"business_id=42&delivery_id=7", b"To=%2B13125550100", "id:42"),
        (b"", b"CallSid=CA1&To=%2B13125550100", "to:+13125550100"),
        (b"bodySHA256=abc", b'{"To": "+13125550100"}', "to:+13125550100"),
        (b"bodySHA256=abc", b"not json", None),
        (b"", b"", None),
    ],
)
def test_the_bulkhead_key_is_the_business_the_resolver_will_read(query, body, key):
    body_file = io.BytesIO(body)
    assert _business_key({"query_string": query}, body_file) == key
    assert body_file.read() == body  # Rewound for the request.
