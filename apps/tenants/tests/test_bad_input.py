"""Bad input on every endpoint of the foundation: a 4xx in the envelope, and nothing changes."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from apps.accounts.models import User
from apps.tenants.config.models import BusinessConfig
from apps.tenants.models import ApiCredential, Business
from nevermisscall.testing import assert_envelope_error

pytestmark = pytest.mark.django_db

VALID_SIGNUP = {
    "business_name": "Zeta Locks",
    "owner_email": "zed@zeta.test",
    "owner_password": "keys-and-locks-2026",
    "owner_name": "Zed Zeta",
    "trade": "locksmith",
    "timezone": "America/New_York",
}


def _snapshot(business):
    def row(model):
        return list(model.objects.order_by("pk").values())

    with schema_context(business.schema_name):
        config = list(BusinessConfig.objects.values())
    connection.set_schema_to_public()
    return row(Business), row(User), row(ApiCredential), config


def _cases(alpha, alice):
    tid, uid = alpha.id, alice.id
    return [
        ("post", "/tenants", {**VALID_SIGNUP, "trade": "astrology"}, 400),
        ("post", "/tenants", {**VALID_SIGNUP, "owner_password": "123"}, 400),
        ("post", "/tenants", {**VALID_SIGNUP, "owner_email": "not-an-email"}, 400),
        ("post", "/tenants", {**VALID_SIGNUP, "timezone": "Mars/Olympus"}, 400),
        ("post", "/tenants", {**VALID_SIGNUP, "phone": "call me maybe"}, 400),
        ("post", "/tenants", {"business_name": "Only a name"}, 400),
        ("post", "/tenants", "not json at all", 400),
        ("post", "/auth/register", {**VALID_SIGNUP, "business_name": "   "}, 400),
        ("post", "/auth/login", {"email": "alice@alpha.test"}, 400),
        ("post", "/auth/login", {"email": ["a"], "password": {"b": 1}}, 400),
        ("post", "/auth/refresh", {}, 400),
        ("post", "/auth/refresh", {"refresh_token": "garbage"}, 401),
        ("post", "/auth/validate", {"token": "x.y.z"}, 401),
        ("put", "/auth/profile", {"phone": "12"}, 400),
        ("put", "/auth/profile", {"timezone": "Nowhere/Land"}, 400),
        ("put", "/auth/profile", {}, 400),
        ("post", "/auth/change-password", {"current_password": "wrong-one-here", "new_password": "fine-pass-77x"}, 400),
        ("put", f"/tenants/{tid}", {"trade": "plumbing!"}, 400),
        ("put", f"/tenants/{tid}", {"website": "not a url"}, 400),
        ("put", f"/tenants/{tid}", {}, 400),
        ("put", f"/tenants/{tid}/onboarding", {"step": "launch_rockets"}, 400),
        ("put", f"/tenants/{tid}/onboarding", {"step": "greeting", "data": {"ring_timeout": 1}}, 400),
        ("put", f"/tenants/{tid}/onboarding", {"step": "greeting", "data": {"favourite_colour": "red"}}, 400),
        ("put", f"/config/{tid}", {"ring_timeout": 0}, 400),
        ("put", f"/config/{tid}", {"ring_timeout": "twenty"}, 400),
        ("put", f"/config/{tid}", {"business_hours": {"funday": {"open": "08:00", "close": "17:00"}}}, 400),
        ("put", f"/config/{tid}", {"business_hours": {"monday": {"open": "18:00", "close": "09:00"}}}, 400),
        ("put", f"/config/{tid}", {"business_hours": {"monday": {"open": "8am", "close": "5pm"}}}, 400),
        ("put", f"/config/{tid}", {"service_area": {"latitude": 123, "longitude": 0}}, 400),
        ("put", f"/config/{tid}", {"service_area": {"latitude": 41.0}}, 400),
        (
            "put",
            f"/config/{tid}",
            {"job_estimates": [{"job_type": "x", "min_price": 500, "max_price": 100, "duration_minutes": 60}]},
            400,
        ),
        (
            "put",
            f"/config/{tid}",
            {"job_estimates": [{"job_type": "x", "min_price": -5, "max_price": 100, "duration_minutes": 60}]},
            400,
        ),
        ("put", f"/config/{tid}", {"forwarding_number": "555"}, 400),
        ("put", f"/config/{tid}", {"greeting_template": "Hi {customer_ssn}"}, 400),
        ("put", f"/config/{tid}", {"greeting_template": "x" * 1601}, 400),
        ("put", f"/config/{tid}", {"trades": ["plumbing", "astrology"]}, 400),
        ("put", f"/config/{tid}", {"ai_settings": {"tone": "sarcastic"}}, 400),
        ("put", f"/config/{tid}", {"timezone": "UTC+3"}, 400),
        ("put", f"/config/{tid}", {"unknown_setting": 1}, 400),
        ("put", f"/config/{tid}", {}, 400),
        ("post", f"/config/{tid}", {"language": "klingon"}, 400),
        ("get", f"/users/by-tenant/{tid}?page=0", None, 400),
        ("get", f"/users/by-tenant/{tid}?limit=1000", None, 400),
        ("get", f"/users/by-tenant/{tid}?role=wizard", None, 400),
        ("put", f"/users/{uid}/profile", {"language": "fr"}, 400),
        ("put", f"/users/{uid}/preferences", [], 400),
        ("put", f"/users/{uid}/preferences", {}, 400),
        ("put", f"/users/{uid}/preferences", {"dashboard": {"theme": "dark\u0000"}}, 400),
        ("put", f"/users/{uid}/preferences", {"blob": "x" * 20000}, 400),
        ("put", "/auth/profile", {"first_name": "Nul\u0000"}, 400),
        ("put", f"/users/{uid}/status", {"status": "napping"}, 400),
        ("post", f"/users/{uid}/profile/photo", {}, 415),
        ("get", "/users/not-a-uuid/profile", None, 404),
        ("post", "/users/validate", {}, 400),
        ("post", "/users/validate", {"user_id": "nope"}, 400),
        ("post", "/users/profiles", {"email": "new@alpha.test", "password": "short"}, 400),
        (
            "post",
            "/users/profiles",
            {"email": "new@alpha.test", "password": "long-enough-pass-1", "role": "owner"},
            400,
        ),
        ("post", "/api/keys", {"name": ""}, 400),
        ("post", "/api/keys", {"name": "x", "kind": "master_key"}, 400),
        ("get", "/api/keys?kind=other", None, 400),
        ("get", "/api/keys/00000000-0000-0000-0000-000000000000", None, 404),
        ("post", "/api/keys/not-a-uuid/rotate", None, 404),
        ("delete", f"/tenants/{tid}", None, 405),
        ("get", "/no/such/endpoint", None, 404),
    ]


def test_every_bad_request_is_a_4xx_envelope_and_changes_nothing(alice, alpha, client_for):
    client = client_for(alice)
    cases = _cases(alpha, alice)
    before = _snapshot(alpha)
    for method, path, body, status in cases:
        if isinstance(body, str):
            response = client.generic(method.upper(), path, body, content_type="application/json")
        else:
            response = getattr(client, method)(path, body, format="json")
        assert response.status_code == status, (method, path, body, response.status_code, response.content[:300])
        assert_envelope_error(response, status)
    assert _snapshot(alpha) == before


def test_internal_endpoints_need_the_service_key(alpha, client_for):
    for path in (f"/internal/tenants/{alpha.id}", f"/internal/config/{alpha.id}", "/internal/health"):
        assert_envelope_error(client_for().get(path), 401)
        assert_envelope_error(client_for(HTTP_X_SERVICE_KEY="guess").get(path), 401)
