"""API keys and widget tokens: shown once, stored hashed, rotatable, revocable."""

import pytest

from apps.tenants.models import ApiCredential
from apps.tenants.selectors import hash_secret
from nevermisscall.testing import assert_envelope_error, assert_envelope_ok

pytestmark = pytest.mark.django_db


def test_key_is_shown_once_stored_hashed_and_works(alice, alpha, client_for):
    created = assert_envelope_ok(client_for(alice).post("/api/keys", {"name": "Zapier"}, format="json"), 201)
    secret = created["secret"]
    stored = ApiCredential.objects.get(pk=created["credential"]["id"])
    assert stored.secret_hash == hash_secret(secret) and secret not in stored.secret_hash
    listed = assert_envelope_ok(client_for(alice).get("/api/keys"))
    assert "secret" not in listed[0] and listed[0]["prefix"] == secret[:12]
    assert assert_envelope_ok(client_for(HTTP_X_API_KEY=secret).get(f"/config/{alpha.id}"))["tenant_id"] == str(
        alpha.id
    )


def test_rotation_retires_the_old_secret(alice, alpha, client_for):
    created = assert_envelope_ok(client_for(alice).post("/api/keys", {"name": "CRM sync"}, format="json"), 201)
    rotated = assert_envelope_ok(client_for(alice).post(f"/api/keys/{created['credential']['id']}/rotate"), 201)
    assert rotated["secret"] != created["secret"]
    assert_envelope_error(client_for(HTTP_X_API_KEY=created["secret"]).get(f"/config/{alpha.id}"), 401)
    assert_envelope_ok(client_for(HTTP_X_API_KEY=rotated["secret"]).get(f"/config/{alpha.id}"))


def test_revoked_key_is_refused(alice, alpha, client_for):
    created = assert_envelope_ok(client_for(alice).post("/api/keys", {"name": "Old"}, format="json"), 201)
    revoked = assert_envelope_ok(client_for(alice).delete(f"/api/keys/{created['credential']['id']}"))
    assert revoked["is_active"] is False
    assert_envelope_error(client_for(HTTP_X_API_KEY=created["secret"]).get(f"/config/{alpha.id}"), 401)


def test_widget_tokens_are_managed_alongside(alice, client_for):
    created = assert_envelope_ok(
        client_for(alice).post("/api/keys", {"name": "Website chat", "kind": "widget_token"}, format="json"), 201
    )
    assert created["secret"].startswith("nmcw_")
    widgets = assert_envelope_ok(client_for(alice).get("/api/keys?kind=widget_token"))
    assert [item["name"] for item in widgets] == ["Website chat"]


def test_staff_cannot_manage_keys(bob, client_for):
    assert_envelope_error(client_for(bob).post("/api/keys", {"name": "x"}, format="json"), 403)
    assert_envelope_error(client_for(bob).get("/api/keys"), 403)


def test_an_api_key_cannot_manage_users_or_keys(alpha, client_for):
    from apps.tenants.services import credential_create

    _, secret = credential_create(business=alpha, kind="api_key", name="Integration")
    with_key = client_for(HTTP_X_API_KEY=secret)
    assert_envelope_error(with_key.post("/api/keys", {"name": "escalate"}, format="json"), 403)
    assert_envelope_error(with_key.put(f"/config/{alpha.id}", {"ring_timeout": 30}, format="json"), 403)
