"""Journey 1, first half: a business signs up, logs in, reads its profile and sets itself up."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context, tenant_context

from apps.accounts.models import User
from apps.telephony.phone_numbers import phone_number_sandbox_assign
from apps.tenants.config.models import BusinessConfig
from apps.tenants.models import Business
from nevermisscall.testing import assert_envelope_error, assert_envelope_ok

pytestmark = pytest.mark.django_db

SIGNUP = {
    "business_name": "Gamma Garage Doors",
    "owner_email": "Dana@Gamma.test",
    "owner_password": "open-sesame-garage-77",
    "owner_name": "Dana Gamma",
    "trade": "garage_door",
    "timezone": "America/Denver",
    "phone": "(303) 555-0147",
}


def _schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


def test_signup_login_profile_config_round_trip(client_for):
    anonymous = client_for()
    data = assert_envelope_ok(anonymous.post("/tenants", SIGNUP, format="json"), 201)
    tenant_id = data["tenant"]["id"]
    assert data["tenant"]["trade"] == "garage_door"
    assert data["tenant"]["phone"] == "+13035550147"
    assert data["user"]["email"] == "dana@gamma.test"
    assert data["user"]["role"] == "owner"
    assert data["user"]["tenant_id"] == tenant_id
    business = Business.objects.get(pk=tenant_id)
    assert _schema_exists(business.schema_name)
    with schema_context(business.schema_name):
        assert BusinessConfig.objects.get().trades == ["garage_door"]

    login = assert_envelope_ok(
        anonymous.post("/auth/login", {"email": "dana@gamma.test", "password": SIGNUP["owner_password"]}, format="json")
    )
    assert login["tenant"]["id"] == tenant_id
    owner = client_for()
    owner.credentials(HTTP_AUTHORIZATION=f"Bearer {login['tokens']['access_token']}")

    profile = assert_envelope_ok(owner.get("/auth/profile"))
    assert profile["permissions"] and "config:write" in profile["permissions"]
    updated = assert_envelope_ok(owner.put("/auth/profile", {"first_name": "Dana", "language": "es"}, format="json"))
    assert updated["language"] == "es"

    config = assert_envelope_ok(owner.get(f"/config/{tenant_id}"))
    assert config["ring_timeout"] == 20
    assert config["business_hours"]["sunday"]["closed"] is True
    changes = {
        "forwarding_number": "303-555-0199",
        "ring_timeout": 25,
        "business_hours": {"saturday": {"closed": True}},
        "service_area": {
            "address": "1600 Broadway, Denver, CO",
            "latitude": 39.74,
            "longitude": -104.99,
            "radius_miles": 40,
        },
        "job_estimates": [
            {"job_type": "Spring replacement", "min_price": 180, "max_price": 350, "duration_minutes": 90}
        ],
        "ai_settings": {"tone": "professional"},
    }
    config = assert_envelope_ok(owner.put(f"/config/{tenant_id}", changes, format="json"))
    assert config["forwarding_number"] == "+13035550199"
    assert config["business_hours"]["saturday"] == {"open": None, "close": None, "closed": True}
    assert config["business_hours"]["monday"]["open"] == "08:00"
    assert config["ai_settings"]["tone"] == "professional"
    assert config["ai_settings"]["enabled"] is True
    assert assert_envelope_ok(owner.get(f"/config/{tenant_id}"))["ring_timeout"] == 25

    onboarding = assert_envelope_ok(
        owner.put(
            f"/tenants/{tenant_id}/onboarding",
            {"step": "greeting", "data": {"greeting_template": "Hi from {business_name}!"}},
            format="json",
        )
    )
    assert "greeting" in onboarding["onboarding"]["completed_steps"]
    assert onboarding["onboarding"]["current_step"] == "business_details"
    reset = assert_envelope_ok(owner.post(f"/config/{tenant_id}/reset"))
    assert reset["ring_timeout"] == 20 and reset["greeting_template"].startswith("Thanks for calling")


def test_onboarding_completes_after_every_step(alice, alpha, client_for):
    owner = client_for(alice)
    steps = {
        "business_details": {"name": "Alpha Plumbing", "website": "https://alpha.test"},
        "business_hours": {"business_hours": {"friday": {"open": "07:00", "close": "15:30"}}},
        "service_area": {"service_area": {"address": "Chicago", "latitude": 41.88, "longitude": -87.63}},
        "job_estimates": {
            "job_estimates": [{"job_type": "Clog", "min_price": 99, "max_price": 199, "duration_minutes": 60}]
        },
        "greeting": {"auto_reply_template": "Sorry we missed you! {business_name} will text you."},
        "ai_settings": {"ai_settings": {"voice_enabled": True}},
        "phone_number": {"forwarding_number": "+13125550111"},
    }
    for step, data in steps.items():
        body = assert_envelope_ok(
            owner.put(f"/tenants/{alpha.id}/onboarding", {"step": step, "data": data}, format="json")
        )
    # Every form saved is not "all set": no number yet and no test call.
    assert body["onboarding"]["completed"] is False
    assert body["onboarding"]["current_step"] == "test_call"
    with tenant_context(alpha):
        phone_number_sandbox_assign()
    body = assert_envelope_ok(
        owner.put(f"/tenants/{alpha.id}/onboarding", {"step": "test_call", "data": {}}, format="json")
    )  # Completing the test-call step by the API is skipping it explicitly.
    assert body["onboarding"]["completed"] is True
    assert body["onboarding"]["current_step"] == "done"
    config = assert_envelope_ok(owner.get(f"/config/{alpha.id}"))
    assert config["business_hours"]["friday"] == {"open": "07:00", "close": "15:30", "closed": False}
    assert config["ai_settings"]["voice_enabled"] is True


def test_duplicate_owner_email_is_409_and_creates_nothing(alice, client_for):
    before = (Business.objects.count(), User.objects.count())
    response = client_for().post("/tenants", {**SIGNUP, "owner_email": alice.email}, format="json")
    assert_envelope_error(response, 409, "RESOURCE_ALREADY_EXISTS")
    assert (Business.objects.count(), User.objects.count()) == before


def test_auth_register_anonymous_creates_business_and_owner_adds_team_member(alice, client_for):
    created = assert_envelope_ok(
        client_for().post(
            "/auth/register",
            {**SIGNUP, "owner_email": "eve@eta.test", "business_name": "Eta HVAC", "trade": "hvac"},
            format="json",
        ),
        201,
    )
    assert created["tenant"]["name"] == "Eta HVAC"
    member = assert_envelope_ok(
        client_for(alice).post(
            "/auth/register",
            {"email": "tech@alpha.test", "password": "wrench-and-pipe-42", "role": "technician"},
            format="json",
        ),
        201,
    )
    assert member["user"]["tenant_id"] == str(alice.business_id)
    assert member["user"]["role"] == "technician"


def test_staff_cannot_add_team_members_or_change_config(bob, alpha, client_for):
    staff = client_for(bob)
    response = staff.post("/auth/register", {"email": "x@alpha.test", "password": "wrench-and-pipe-42"}, format="json")
    assert_envelope_error(response, 403, "AUTH_INSUFFICIENT_PERMISSIONS")
    assert_envelope_error(staff.put(f"/config/{alpha.id}", {"ring_timeout": 30}, format="json"), 403)
    assert assert_envelope_ok(staff.get(f"/config/{alpha.id}"))["ring_timeout"] == 20


def test_a_signed_in_owner_can_register_another_business(alice, client_for):
    body = {**SIGNUP, "owner_email": "second@gamma.test", "business_name": "Alice's Second Shop"}
    data = assert_envelope_ok(client_for(alice).post("/tenants", body, format="json"), 201)
    assert data["tenant"]["id"] != str(alice.business_id)
    assert Business.objects.filter(pk=data["tenant"]["id"]).exists()
