"""Charlie (Beta Electric) must never see or change anything of Alpha Plumbing's."""

import pytest
from django_tenants.utils import schema_context

from apps.accounts.tokens import token_pair_for
from apps.tenants.config.models import BusinessConfig
from apps.tenants.services import credential_create
from nevermisscall.testing import assert_envelope_error, assert_envelope_ok

pytestmark = pytest.mark.django_db


def _alpha_targets(alpha, alice):
    """Every endpoint of this issue that names a business, user or credential, aimed at Alpha's."""
    key, _ = credential_create(business=alpha, kind="api_key", name="Alpha integration")
    return [
        ("get", f"/tenants/{alpha.id}", None),
        ("put", f"/tenants/{alpha.id}", {"name": "Owned by Charlie"}),
        ("put", f"/tenants/{alpha.id}/onboarding", {"step": "greeting", "data": {}}),
        ("get", f"/config/{alpha.id}", None),
        ("post", f"/config/{alpha.id}", {"ring_timeout": 60}),
        ("put", f"/config/{alpha.id}", {"ring_timeout": 60}),
        ("post", f"/config/{alpha.id}/reset", None),
        ("get", f"/users/by-tenant/{alpha.id}", None),
        ("get", f"/users/{alice.id}/profile", None),
        ("put", f"/users/{alice.id}/profile", {"first_name": "Mallory"}),
        ("get", f"/users/{alice.id}/preferences", None),
        ("put", f"/users/{alice.id}/preferences", {"dashboard": {"theme": "dark"}}),
        ("get", f"/users/{alice.id}/status", None),
        ("put", f"/users/{alice.id}/status", {"status": "busy"}),
        ("get", f"/api/keys/{key.id}", None),
        ("delete", f"/api/keys/{key.id}", None),
        ("post", f"/api/keys/{key.id}/rotate", None),
    ]


def test_charlie_gets_404_for_every_alpha_resource_and_nothing_changes(alice, alpha, charlie, client_for):
    as_charlie = client_for(charlie)
    for method, path, body in _alpha_targets(alpha, alice):
        response = getattr(as_charlie, method)(path, body, format="json")
        assert response.status_code in (403, 404), (method, path, response.status_code)
        assert response.json()["success"] is False and response.json()["data"] is None
    alice.refresh_from_db()
    alpha.refresh_from_db()
    assert alice.first_name != "Mallory"
    assert alice.status != "busy"
    assert alice.preferences["dashboard"]["theme"] == "light"
    assert alpha.name == "Alpha Plumbing"
    assert alpha.credentials.filter(revoked_at__isnull=True).count() == 1
    with schema_context(alpha.schema_name):
        assert BusinessConfig.objects.get().ring_timeout == 20


def test_users_validate_does_not_reveal_other_businesses(alice, charlie, client_for):
    data = assert_envelope_ok(client_for(charlie).post("/users/validate", {"email": alice.email}, format="json"))
    assert data == {"valid": False, "exists": False, "user_id": None, "role": None, "is_active": False}


def test_tenant_header_must_agree_with_the_credential(alice, alpha, beta, client_for):
    token = token_pair_for(alice)["access_token"]
    for header in ("HTTP_X_TENANT_ID", "HTTP_X_BUSINESS_ID"):
        mismatched = client_for(HTTP_AUTHORIZATION=f"Bearer {token}", **{header: str(beta.id)})
        assert_envelope_error(mismatched.get(f"/config/{alpha.id}"), 403, "AUTH_INSUFFICIENT_PERMISSIONS")
        matched = client_for(HTTP_AUTHORIZATION=f"Bearer {token}", **{header: str(alpha.id)})
        assert_envelope_ok(matched.get(f"/config/{alpha.id}"))
    anonymous = client_for(HTTP_X_TENANT_ID=str(alpha.id))  # A header alone selects nothing.
    assert_envelope_error(anonymous.get(f"/config/{alpha.id}"), 403)


def test_alpha_api_key_cannot_reach_beta(alpha, beta, client_for):
    _, secret = credential_create(business=alpha, kind="api_key", name="Alpha integration")
    with_key = client_for(HTTP_X_API_KEY=secret)
    assert assert_envelope_ok(with_key.get(f"/tenants/{alpha.id}"))["name"] == "Alpha Plumbing"
    assert_envelope_error(with_key.get(f"/tenants/{beta.id}"), 404, "RESOURCE_NOT_FOUND")
    assert_envelope_error(with_key.get(f"/config/{beta.id}"), 404)
    naming_beta = client_for(HTTP_X_API_KEY=secret, HTTP_X_TENANT_ID=str(beta.id))
    assert_envelope_error(naming_beta.get(f"/config/{beta.id}"), 403)


def test_session_user_of_alpha_cannot_read_beta(alice, beta, client):
    from conftest import PASSWORD

    assert client.login(username=alice.email, password=PASSWORD)
    response = client.get(f"/config/{beta.id}")
    assert_envelope_error(response, 404)
    assert client.get(f"/config/{alice.business_id}").json()["data"]["tenant_id"] == str(alice.business_id)


def test_cache_keys_carry_the_schema(alpha, beta):
    from django.core.cache import cache
    from django.db import connection

    connection.set_tenant(alpha)
    cache.set("greeting", "alpha")
    connection.set_tenant(beta)
    assert cache.get("greeting") is None
    cache.set("greeting", "beta")
    connection.set_tenant(alpha)
    assert cache.get("greeting") == "alpha"
