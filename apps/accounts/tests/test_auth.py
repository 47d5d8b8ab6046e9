"""TS-Auth-Service: login, tokens bound to their business, refresh, validation, password change."""

from datetime import timedelta

import jwt
import pytest
from django.test import override_settings
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.tokens import token_pair_for
from conftest import PASSWORD
from nevermisscall.testing import assert_envelope_error, assert_envelope_ok

pytestmark = pytest.mark.django_db


def _login(client, email, password=PASSWORD):
    return client.post("/auth/login", {"email": email, "password": password}, format="json")


def test_login_returns_tokens_with_the_documented_claims(alice, client_for):
    data = assert_envelope_ok(_login(client_for(), alice.email.upper()))
    claims = AccessToken(data["tokens"]["access_token"])
    assert claims["sub"] == str(alice.pk)
    assert claims["tenant_id"] == str(alice.business_id)
    assert claims["role"] == "owner"
    assert "config:write" in claims["permissions"]
    assert claims["scope"] == "user"
    assert data["tokens"]["expires_in"] == 7 * 24 * 3600  # The seed's 7-day default.


def test_wrong_password_is_401_in_the_envelope(alice, client_for):
    assert_envelope_error(_login(client_for(), alice.email, "nope-nope-nope"), 401, "AUTH_TOKEN_INVALID")


def test_expired_token_is_refused_with_auth_token_expired(alice, client_for):
    token = AccessToken.for_user(alice)
    token["tenant_id"] = str(alice.business_id)
    token.set_exp(lifetime=-timedelta(seconds=5))
    client = client_for()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_envelope_error(client.get("/auth/profile"), 401, "AUTH_TOKEN_EXPIRED")


def test_forged_tokens_are_refused(alice, beta, client_for):
    genuine = AccessToken(token_pair_for(alice)["access_token"])
    claims = dict(genuine.payload)
    forged_key = jwt.encode(claims, "not-our-secret-key-but-long-enough-for-hs256", algorithm="HS256")
    none_alg = jwt.encode(claims, None, algorithm="none")
    for raw in (forged_key, none_alg, "not.a.jwt", str(genuine)[:-4] + "abcd"):
        client = client_for()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert_envelope_error(client.get("/auth/profile"), 401, "AUTH_TOKEN_INVALID")


def test_token_whose_tenant_claim_was_swapped_is_refused(alice, beta, client_for):
    from django.conf import settings

    claims = dict(AccessToken(token_pair_for(alice)["access_token"]).payload)
    claims["tenant_id"] = str(beta.id)  # Re-signed with our key: only the server could do this.
    swapped = jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
    client = client_for()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {swapped}")
    assert_envelope_error(client.get(f"/tenants/{beta.id}"), 401, "AUTH_TOKEN_INVALID")


def test_refresh_rotates_and_the_old_refresh_token_stops_working(alice, client_for):
    pair = token_pair_for(alice)
    client = client_for()
    fresh = assert_envelope_ok(client.post("/auth/refresh", {"refresh_token": pair["refresh_token"]}, format="json"))
    assert AccessToken(fresh["access_token"])["tenant_id"] == str(alice.business_id)
    replay = client.post("/auth/refresh", {"refresh_token": pair["refresh_token"]}, format="json")
    assert_envelope_error(replay, 401, "AUTH_TOKEN_INVALID")


def test_refresh_is_refused_for_another_business(alice, charlie, client_for):
    pair = token_pair_for(alice)
    as_charlie = client_for(charlie)  # The request resolves to Beta; the refresh token is Alpha's.
    response = as_charlie.post("/auth/refresh", {"refresh_token": pair["refresh_token"]}, format="json")
    assert_envelope_error(response, 401, "AUTH_TOKEN_INVALID")


def test_validate_reports_claims_of_a_good_token_and_refuses_a_bad_one(alice, client_for):
    pair = token_pair_for(alice)
    data = assert_envelope_ok(client_for().post("/auth/validate", {"token": pair["access_token"]}, format="json"))
    assert data["valid"] is True and data["claims"]["tenant_id"] == str(alice.business_id)
    assert_envelope_error(client_for().post("/auth/validate", {"token": "garbage"}, format="json"), 401)


def test_change_password_revokes_earlier_tokens(alice, client_for):
    client = client_for(alice)
    data = assert_envelope_ok(
        client.post(
            "/auth/change-password",
            {"current_password": PASSWORD, "new_password": "a-brand-new-passphrase-31"},
            format="json",
        )
    )
    assert_envelope_error(client.get("/auth/profile"), 401, "AUTH_TOKEN_INVALID")
    renewed = client_for()
    renewed.credentials(HTTP_AUTHORIZATION=f"Bearer {data['tokens']['access_token']}")
    assert assert_envelope_ok(renewed.get("/auth/profile"))["email"] == alice.email
    assert_envelope_ok(_login(client_for(), alice.email, "a-brand-new-passphrase-31"))


def test_weak_new_password_is_refused(alice, client_for):
    response = client_for(alice).post(
        "/auth/change-password", {"current_password": PASSWORD, "new_password": "12345678"}, format="json"
    )
    error = assert_envelope_error(response, 400, "VALIDATION_FAILED")
    assert error["details"]["validation_errors"][0]["field"] == "new_password"
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_owner_token_header_is_accepted_for_owners_only(alice, bob, client_for):
    owner_header = client_for(HTTP_X_OWNER_TOKEN=token_pair_for(alice)["access_token"])
    assert assert_envelope_ok(owner_header.get("/auth/profile"))["email"] == alice.email
    staff_header = client_for(HTTP_X_OWNER_TOKEN=token_pair_for(bob)["access_token"])
    assert_envelope_error(staff_header.get("/auth/profile"), 401)


def test_login_is_throttled_per_client(alice, client_for):
    with override_settings(RATE_LIMIT_LOGIN="3/minute"):
        client = client_for(REMOTE_ADDR="203.0.113.77")
        for _ in range(3):
            _login(client, alice.email, "wrong-password-guess")
        response = _login(client, alice.email)
    error = assert_envelope_error(response, 429, "RATE_LIMIT_EXCEEDED")
    assert int(response["Retry-After"]) >= 1
    assert error["details"]["retry_after"] >= 1


def test_dashboard_session_login_shows_the_landing_page(alice, client):
    response = client.post("/login/", {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    page = client.get("/", follow=True)  # A business not yet set up lands in the onboarding wizard.
    assert page.status_code == 200
    assert page.redirect_chain[-1][0] == "/onboarding/business_details/"
    assert b"Alpha Plumbing" in page.content
