"""The attack: guess passwords through whichever login path is not throttled.

Every way to check a password (``/auth/login``, the dashboard's ``/login/``, the admin's login,
``/auth/change-password``) and the password-reset form share one limit per client address and one
per account (``RATE_LIMIT_LOGIN``); the 11th attempt in a minute gets 429 with ``Retry-After``.
"""

import random
import uuid

import pytest
from django.test import Client, override_settings

from conftest import PASSWORD
from nevermisscall.testing import assert_envelope_error

pytestmark = pytest.mark.django_db


def _address() -> str:
    return f"198.18.{random.randint(0, 255)}.{random.randint(1, 254)}"


def _account() -> str:
    return f"victim-{uuid.uuid4().hex[:12]}@example.test"


def _api_login(address, account):
    return Client(REMOTE_ADDR=address).post(
        "/auth/login", {"email": account, "password": "wrong-guess"}, content_type="application/json"
    )


def _form_login(address, account):
    return Client(REMOTE_ADDR=address).post("/login/", {"username": account, "password": "wrong-guess"})


def _admin_login(address, account):
    return Client(REMOTE_ADDR=address).post("/admin/login/", {"username": account, "password": "wrong-guess"})


def _password_reset(address, account):
    return Client(REMOTE_ADDR=address).post("/password-reset/", {"email": account})


PATHS = {"api": _api_login, "form": _form_login, "admin": _admin_login, "reset": _password_reset}


def _assert_throttled(response):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    if response["Content-Type"].startswith("application/json"):
        assert_envelope_error(response, 429, "RATE_LIMIT_EXCEEDED")
    else:
        assert b"Too many attempts" in response.content


@pytest.mark.parametrize("path", PATHS)
@override_settings(RATE_LIMIT_LOGIN="10/minute")
def test_the_11th_attempt_from_one_address_is_refused(path):
    attempt, address = PATHS[path], _address()
    responses = [attempt(address, _account()) for _ in range(11)]
    assert all(response.status_code != 429 for response in responses[:10])
    _assert_throttled(responses[10])


@pytest.mark.parametrize("path", PATHS)
@override_settings(RATE_LIMIT_LOGIN="10/minute")
def test_the_per_account_limit_holds_across_addresses(path):
    attempt, account = PATHS[path], _account()
    responses = [attempt(_address(), account) for _ in range(11)]
    assert all(response.status_code != 429 for response in responses[:10])
    _assert_throttled(responses[10])


@override_settings(RATE_LIMIT_LOGIN="10/minute")
def test_one_budget_across_every_path():
    account = _account()
    for attempt in (_api_login, _form_login, _admin_login, _password_reset, _api_login):
        assert attempt(_address(), account).status_code != 429
        assert attempt(_address(), account).status_code != 429
    _assert_throttled(_form_login(_address(), account))


@override_settings(RATE_LIMIT_LOGIN="3/minute")
def test_a_throttled_right_password_is_not_checked(alice):
    address = _address()
    for _ in range(3):
        _form_login(address, _account())
    response = Client(REMOTE_ADDR=address).post("/login/", {"username": alice.email, "password": PASSWORD})
    _assert_throttled(response)
    assert "_auth_user_id" not in response.client.session


@override_settings(RATE_LIMIT_LOGIN="3/minute")
def test_change_password_is_throttled_per_account(alice, client_for):
    for _ in range(3):
        client = client_for(alice, REMOTE_ADDR=_address())
        response = client.post(
            "/auth/change-password", {"current_password": "wrong", "new_password": "N3w-pass-phrase!"}, format="json"
        )
        assert response.status_code == 400
    client = client_for(alice, REMOTE_ADDR=_address())
    response = client.post(
        "/auth/change-password", {"current_password": PASSWORD, "new_password": "N3w-pass-phrase!"}, format="json"
    )
    assert_envelope_error(response, 429, "RATE_LIMIT_EXCEEDED")
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
