"""The attack: change X-Forwarded-For on every request to get a fresh rate-limit bucket each time.

The client's address is the TCP peer unless a configured number of trusted proxy hops (or trusted
proxy addresses) stand in front of us; it is the same address in rate limits, logs and the
websocket connection registry.
"""

import logging
import random
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import override_settings

from nevermisscall.clientip import client_address, scope_client_ip
from nevermisscall.middleware import RequestIdLogFilter, RequestIdMiddleware
from nevermisscall.testing import assert_envelope_error

pytestmark = pytest.mark.django_db


def _address() -> str:
    return (
        f"203.0.113.{random.randint(1, 254)}"
        if random.random() < 0.5
        else f"198.18.{random.randint(0, 255)}.{random.randint(1, 254)}"
    )


def _wrong_login(client, email, **extra):
    return client.post("/auth/login", {"email": email, "password": "wrong-password-guess"}, format="json", **extra)


def test_by_default_the_header_is_ignored():
    assert client_address("192.0.2.7", "1.2.3.4") == "192.0.2.7"
    assert client_address("192.0.2.7", "") == "192.0.2.7"
    assert client_address(None, "1.2.3.4") == "unknown"


@override_settings(TRUSTED_PROXY_HOPS=1)
def test_one_trusted_hop_takes_the_right_most_forwarded_address():
    assert client_address("10.0.0.2", "6.6.6.6, 192.0.2.7") == "192.0.2.7"
    assert client_address("10.0.0.2", "192.0.2.7") == "192.0.2.7"
    assert client_address("10.0.0.2", "") == "10.0.0.2"  # Reached directly: the peer is the client.
    assert client_address("10.0.0.2", "6.6.6.6, not-an-address") == "10.0.0.2"


@override_settings(TRUSTED_PROXY_HOPS=2)
def test_two_trusted_hops():
    assert client_address("10.0.0.2", "6.6.6.6, 192.0.2.7, 10.0.0.1") == "192.0.2.7"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8", "2001:db8::1"])
def test_trusted_proxy_networks():
    assert client_address("10.1.2.3", "6.6.6.6, 192.0.2.7, 10.9.9.9") == "192.0.2.7"
    assert client_address("192.0.2.50", "6.6.6.6") == "192.0.2.50"  # Not a proxy of ours: header ignored.
    assert client_address("2001:db8::1", "[2001:db8::77]:4431") == "2001:db8::77"


def test_spoofed_forwarded_for_keeps_the_real_clients_login_bucket(client_for):
    client = client_for(REMOTE_ADDR=_address())
    with override_settings(RATE_LIMIT_LOGIN="10/minute"):
        responses = [
            _wrong_login(client, f"nobody{n}@example.test", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}") for n in range(11)
        ]
    assert [r.status_code for r in responses[:10]] == [401] * 10
    assert_envelope_error(responses[10], 429, "RATE_LIMIT_EXCEEDED")
    assert int(responses[10]["Retry-After"]) >= 1


def test_behind_one_trusted_proxy_the_forwarded_client_has_its_own_bucket(client_for):
    proxy, real = "10.20.30.40", _address()
    client = client_for(REMOTE_ADDR=proxy)
    with override_settings(RATE_LIMIT_LOGIN="3/minute", TRUSTED_PROXY_HOPS=1):
        spoofed = [
            _wrong_login(client, f"spoof{n}@example.test", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, {real}") for n in range(4)
        ]
        other = _wrong_login(client, "other@example.test", HTTP_X_FORWARDED_FOR=_address())
    assert [r.status_code for r in spoofed] == [401, 401, 401, 429]  # Left-hand entries are the client's own.
    assert other.status_code == 401  # Another client behind the same proxy is not throttled.


def test_log_lines_carry_the_real_clients_address(rf):
    records = []

    class Capture(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Capture()
    handler.addFilter(RequestIdLogFilter())
    logger = logging.getLogger("nevermisscall.tests.client_ip")
    logger.addHandler(handler)
    try:

        def view(request):
            logger.warning("inside the request")
            return HttpResponse("ok")

        real = _address()
        RequestIdMiddleware(view)(rf.get("/", REMOTE_ADDR=real, HTTP_X_FORWARDED_FOR="6.6.6.6"))
        logger.warning("outside any request")
    finally:
        logger.removeHandler(handler)
    assert [record.client_ip for record in records] == [real, "-"]


def test_websocket_registry_address_ignores_a_spoofed_header():
    scope = {"client": ["192.0.2.9", 5555], "headers": [(b"x-forwarded-for", b"6.6.6.6")]}
    assert scope_client_ip(scope) == "192.0.2.9"
    with override_settings(TRUSTED_PROXY_HOPS=1):
        assert scope_client_ip(scope) == "6.6.6.6"


def test_daphne_does_not_rewrite_the_client_from_the_header():
    procfile = (Path(__file__).resolve().parents[2] / "Procfile").read_text()
    assert "--proxy-headers" not in procfile
