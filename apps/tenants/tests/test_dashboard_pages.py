"""Server-rendered pages: sign-up, the onboarding wizard, settings, API keys, team."""

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from apps.accounts.models import User
from apps.telephony.models import PhoneNumber
from apps.tenants.config.models import BusinessConfig
from apps.tenants.models import ApiCredential, Business
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_browser(client, alice):
    assert client.login(username=alice.email, password=PASSWORD)
    return client


def test_signup_creates_the_business_and_starts_onboarding(client):
    response = client.post(
        "/signup/",
        {
            "business_name": "Kappa Keys",
            "owner_name": "Kim Kappa",
            "owner_email": "kim@kappa.test",
            "owner_password": "kappa-keys-2026!",
            "trade": "locksmith",
            "timezone": "America/Denver",
            "phone": "",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/onboarding/"
    business = Business.objects.get(name="Kappa Keys")
    assert User.objects.get(email="kim@kappa.test").business == business
    step = client.get("/onboarding/", follow=True)
    assert b"Business details" in step.content


def test_signup_shows_errors_and_creates_nothing(client):
    response = client.post(
        "/signup/",
        {
            "business_name": "X",
            "owner_name": "Y",
            "owner_email": "bad",
            "owner_password": "1",
            "trade": "plumbing",
            "timezone": "America/Denver",
        },
    )
    assert response.status_code == 200 and b"errorlist" in response.content
    assert not Business.objects.filter(name="X").exists()


def test_onboarding_walks_every_step_to_the_overview(owner_browser, alpha):
    with schema_context(alpha.schema_name):  # Numbers that tests before this one committed (rolled back after).
        PhoneNumber.objects.update(status=PhoneNumber.Status.RELEASED)
    forms = {
        "business_details": {"name": "Alpha Plumbing", "trade": "plumbing", "phone": "+13125550100", "website": ""},
        "business_hours": {
            "timezone": "America/Chicago",
            **{f"{d}_open_0": "08:00" for d in ("monday", "tuesday")},
            **{f"{d}_close_0": "17:00" for d in ("monday", "tuesday")},
            **{f"{d}_closed": "on" for d in ("wednesday", "thursday", "friday", "saturday", "sunday")},
        },
        "service_area": {"address": "Chicago, IL", "radius_miles": "20", "latitude": "41.88", "longitude": "-87.63"},
        "job_estimates": {
            "estimate_rows": "2",
            "job_type_0": "Clogged drain",
            "min_price_0": "120",
            "max_price_0": "250",
            "duration_minutes_0": "60",
            "synonyms_0": "backed up sink, tapado ,",
        },
        "greeting": {
            "greeting_template": "Hi from {business_name}",
            "auto_reply_template": "We missed you!",
            "language": "en",
        },
        "ai_settings": {"ai_enabled": "on", "auto_book": "on", "tone": "friendly"},
        "phone_number": {"forwarding_number": "(312) 555-0123", "ring_timeout": "25", "call_screening": "on"},
    }
    for step, data in forms.items():
        response = owner_browser.post(f"/onboarding/{step}/", data)
        assert response.status_code == 302, (step, response.content[:2000])
    assert response["Location"] == "/onboarding/test_call/"
    # Not all set without a number: the checklist says what is missing.
    finish = owner_browser.post("/onboarding/test_call/", {"action": "finish"})
    assert finish.status_code == 200 and "Get a business number" in finish.content.decode()
    assert owner_browser.post("/onboarding/phone_number/", {"action": "sandbox"}).status_code == 302
    response = owner_browser.post("/onboarding/test_call/", {"action": "skip"})
    assert response.status_code == 302 and response["Location"] == "/"
    with schema_context(alpha.schema_name):
        config = BusinessConfig.objects.get()
    assert config.forwarding_number == "+13125550123"
    assert config.business_hours["wednesday"]["closed"] is True
    assert config.job_estimates[0]["job_type"] == "Clogged drain"
    assert config.job_estimates[0]["synonyms"] == ["backed up sink", "tapado"]
    assert owner_browser.get("/").status_code == 200


def test_settings_page_rejects_bad_hours_and_keeps_the_old_ones(owner_browser, alpha):
    response = owner_browser.post(
        "/settings/hours/", {"timezone": "America/Chicago", "monday_open_0": "18:00", "monday_close_0": "09:00"}
    )
    assert response.status_code == 200 and "Monday: the closing time must be later" in response.content.decode()
    assert 'value="18:00"' in response.content.decode()  # What was typed is kept.
    with schema_context(alpha.schema_name):
        assert BusinessConfig.objects.get().business_hours["monday"]["open"] == "08:00"


def test_the_daily_text_limit_is_set_on_the_messages_settings_only(owner_browser, alpha):
    form = {"greeting_template": "Hi", "auto_reply_template": "Sorry we missed you", "language": "en"}
    assert owner_browser.post("/settings/templates/", {**form, "sms_daily_quota": "750"}).status_code == 302
    with schema_context(alpha.schema_name):
        assert BusinessConfig.objects.get().sms_daily_quota == 750
    assert b'name="sms_daily_quota" type="number"' in owner_browser.get("/settings/templates/").content
    response = owner_browser.post("/settings/templates/", {**form, "sms_daily_quota": "0"})
    assert response.status_code == 200 and b"errorlist" in response.content
    with schema_context(alpha.schema_name):
        assert BusinessConfig.objects.get().sms_daily_quota == 750
    assert b'name="sms_daily_quota"' not in owner_browser.get("/onboarding/greeting/").content


def test_staff_sees_settings_read_only(client, bob):
    assert client.login(username=bob.email, password=PASSWORD)
    page = client.get("/settings/calls/")
    assert page.status_code == 200 and b"disabled" in page.content
    response = client.post("/settings/calls/", {"forwarding_number": "+13125550999"}, follow=True)
    assert b"Only the owner or an admin" in response.content


def test_api_key_page_shows_the_secret_once(owner_browser, alpha):
    created = owner_browser.post("/settings/api-keys/", {"action": "create", "name": "Zapier", "kind": "api_key"})
    assert created.status_code == 200 and b"will not be shown again" in created.content
    secret = created.content.decode().split('id="new-secret">')[1].split("<")[0]
    assert ApiCredential.objects.get(business=alpha, name="Zapier").prefix == secret[:12]
    assert secret.encode() not in owner_browser.get("/settings/api-keys/").content


def test_team_page_adds_a_member(owner_browser, alpha):
    response = owner_browser.post(
        "/settings/team/",
        {
            "action": "add",
            "email": "sam@alpha.test",
            "password": "sam-the-plumber-9",
            "role": "staff",
            "first_name": "Sam",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="sam@alpha.test").business == alpha


def test_password_reset_sends_a_link(client, alice):
    client.post("/password-reset/", {"email": alice.email})
    assert len(mail.outbox) == 1 and "/reset/" in mail.outbox[0].body


def test_pages_are_private_per_business(client, charlie, alpha):
    assert client.login(username=charlie.email, password=PASSWORD)
    page = client.get("/settings/")
    assert b"Beta Electric" in page.content and b"Alpha Plumbing" not in page.content


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_wrong_url_in_a_browser_is_a_page_and_the_api_keeps_its_envelope(client, owner_browser):
    for browser in (client, owner_browser):  # anonymous, and the owner logged in
        response = browser.get("/calls/no-such-page/", HTTP_ACCEPT=BROWSER_ACCEPT)
        assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
        assert "find that page" in response.content.decode() and 'href="/"' in response.content.decode()
    api = client.get("/api/no-such-thing", HTTP_ACCEPT="application/json")
    assert api.status_code == 404 and api.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert client.get("/api/no-such-thing").json()["success"] is False  # curl's */* gets JSON too
