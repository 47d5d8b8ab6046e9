"""Sign-up and the onboarding wizard in Chromium, at desktop and phone sizes: bad input is kept with
the error at its field; the wizard ends with a sandbox number and a test call seen live."""

import uuid
from urllib.parse import urlencode

import pytest
import requests
from playwright.sync_api import expect

from apps.telephony.testing import sign
from apps.telephony.tests.conftest import new_call_sid, new_message_sid, payload
from tests.browser.conftest import BROWSER_PASSWORD, screenshot

pytestmark = pytest.mark.django_db

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _post_signed(base_url: str, path: str, params: dict) -> requests.Response:
    url = base_url + path
    return requests.post(
        url,
        data=urlencode(params),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sign(url, params)},
        timeout=10,
    )


@pytest.fixture
def tab_at(browser, live_app):
    contexts = []

    def make(viewport: str, locale: str = "en-US"):
        context = browser.new_context(base_url=live_app, viewport=VIEWPORTS[viewport], locale=locale)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_sign_up_and_finish_onboarding_with_a_live_test_call(
    tab_at, live_app, celery_worker_process, twilio_standin, viewport
):
    page = tab_at(viewport)
    email = f"frank-{uuid.uuid4().hex[:8]}@foxtrot.test"
    cell = "(617) 555-0142"
    page.goto("/signup/")
    page.get_by_label("Business name").fill("Foxtrot Plumbing")
    page.get_by_label("Your name").fill("Frank Fox")
    page.get_by_label("Email").fill("frank-at-foxtrot")
    page.get_by_label("Password").fill(BROWSER_PASSWORD)
    page.get_by_label("Time zone").select_option(label="Central Time")
    page.get_by_label("Your cell phone").fill(cell)
    page.get_by_role("button", name="Create account").click()
    # The error is at its field, in plain words, and what was typed is still there.
    expect(page.locator("#id_owner_email-error")).to_contain_text("doesn't look like an email address")
    expect(page.get_by_label("Business name")).to_have_value("Foxtrot Plumbing")
    expect(page.get_by_label("Your cell phone")).to_have_value(cell)
    screenshot(page, f"signup-error-{viewport}")
    page.get_by_label("Email").fill(email)
    page.set_default_timeout(120_000)  # A new business's schema is created and migrated: seconds here.
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Business details")).to_be_visible()
    page.set_default_timeout(10_000)

    expect(page.get_by_role("heading", name="Business details")).to_be_visible()
    screenshot(page, f"onboarding-1-business-details-{viewport}")
    page.get_by_label("Website").fill("foxtrotplumbing.com")  # No scheme: accepted.
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Business hours")).to_be_visible()
    expect(page.get_by_label("Time zone")).to_have_value("America/Chicago")
    page.get_by_label("Monday: opens").fill("07:30")
    page.get_by_role("button", name="Copy Monday to Tuesday–Friday").click()
    expect(page.get_by_label("Friday: opens")).to_have_value("07:30")
    page.get_by_label("Monday: closes").fill("06:00")  # Before opening: refused at the field.
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator("#monday-error")).to_contain_text("closing time must be later than the opening time")
    expect(page.get_by_label("Monday: opens")).to_have_value("07:30")
    screenshot(page, f"onboarding-2-hours-error-{viewport}")
    page.get_by_label("Monday: closes").fill("16:00")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Service area")).to_be_visible()
    page.get_by_label("Where your jobs start from").fill("Chicago, IL 60601")
    expect(page.locator("[data-area-found]")).to_contain_text("Chicago, IL 60601")
    expect(page.locator("input[name=latitude]")).to_have_count(0)
    screenshot(page, f"onboarding-3-service-area-{viewport}")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Job estimates")).to_be_visible()
    expect(page.locator("#estimates-notice")).to_contain_text("Customers are quoted these prices")
    page.get_by_role("button", name="Plumbing", exact=True).click()
    expect(page.locator("[data-estimate-row]")).to_have_count(4)
    page.get_by_role("button", name="Remove this job").last.click()
    page.get_by_role("button", name="Add a job").click()
    expect(page.locator("[data-estimate-row] legend").last).to_have_text("Job 4")
    page.locator("[data-estimate-row]").last.get_by_label("Job", exact=True).fill("Sewer camera")
    page.locator("[data-estimate-row]").last.get_by_label("From $").fill("200")
    page.get_by_role("button", name="Save and continue").click()
    # Missing price and duration: the error names the row as the owner sees it (Job 4).
    expect(page.locator("#estimate-4-error")).to_contain_text("Job 4")
    expect(page.locator("[data-estimate-row]").last.get_by_label("Job", exact=True)).to_have_value("Sewer camera")
    screenshot(page, f"onboarding-4-estimates-error-{viewport}")
    page.locator("[data-estimate-row]").last.get_by_label("To $").fill("400")
    page.locator("[data-estimate-row]").last.get_by_label("Takes (minutes)").fill("60")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Greeting and auto-reply")).to_be_visible()
    page.get_by_label("Missed-call text").fill("Sorry we missed you! " + "Reply with what you need. " * 8)
    expect(page.locator("#missed-call-preview")).to_contain_text("2 segments")
    screenshot(page, f"onboarding-5-greeting-{viewport}")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="AI assistant")).to_be_visible()
    screenshot(page, f"onboarding-6-ai-{viewport}")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Phone number", exact=True)).to_be_visible()
    expect(page.get_by_label("Forward calls to (your cell)")).to_have_value("+16175550142")
    page.get_by_role("button", name="Use a sandbox number (development)").click()
    number = page.locator("[data-business-number]").inner_text()
    assert number.startswith("+1500555")
    expect(page.locator(".existing-line")).to_contain_text(f"**004*{number}#")
    screenshot(page, f"onboarding-7-phone-number-{viewport}")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Test call")).to_be_visible()
    expect(page.locator(".curl-demo")).to_contain_text(f"To={number}")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    screenshot(page, f"onboarding-8-test-call-waiting-{viewport}")
    caller = "+13125550" + str(100 + len(viewport))
    call_sid = new_call_sid()
    common = {"CallSid": call_sid, "From": caller, "Caller": caller, "To": number, "Called": number}
    assert _post_signed(live_app, "/webhooks/twilio/call", payload("voice_incoming", **common)).status_code == 200
    status = _post_signed(live_app, f"/webhooks/twilio/call/status/{call_sid}", payload("voice_dial_action", **common))
    assert status.status_code == 200
    expect(page.locator("#test-call-call")).to_have_attribute("data-state", "done")
    expect(page.locator("#test-call-call")).to_contain_text(caller)
    expect(page.locator("#test-call-text")).to_contain_text("Sorry we missed you!")
    sms = payload(
        "sms_incoming", MessageSid=new_message_sid(), From=caller, To=number, Body="Can you fix a leak today?"
    )
    assert _post_signed(live_app, "/webhooks/twilio/sms", sms).status_code == 200
    expect(page.locator("#test-call-reply")).to_contain_text("Can you fix a leak today?")
    screenshot(page, f"onboarding-8-test-call-live-{viewport}")
    page.get_by_role("button", name="Finish setup").click()
    expect(page.locator(".flash")).to_contain_text("You're all set")
    screenshot(page, f"onboarding-done-{viewport}")


def test_spanish_browser_gets_the_errors_in_spanish(tab_at, live_app):
    page = tab_at("phone", locale="es-MX")
    page.goto("/signup/")
    page.locator("#id_business_name").fill("Plomería Gómez")
    page.locator("#id_owner_email").fill("no-es-un-correo")
    page.get_by_role("button", name="Crear cuenta").click()
    expect(page.locator("#id_owner_email-error")).to_contain_text("no parece un correo electrónico")
    expect(page.locator("#id_owner_name-error")).to_contain_text("Escribe tu nombre")
    expect(page.locator("#id_business_name")).to_have_value("Plomería Gómez")
    screenshot(page, "signup-error-es-phone")
