"""The owner's journey in a real browser: log in, set up the business, watch events arrive live."""

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from apps.tenants.config.models import BusinessConfig
from nevermisscall.events import build_event, dashboard_group, send_to_group
from tests.browser.conftest import BROWSER_PASSWORD, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=False)


def test_owner_logs_in_completes_onboarding_and_sees_live_events(page, delta_owner, django_db_blocker):
    log_in(page, delta_owner.email, BROWSER_PASSWORD)
    expect(page).to_have_url(re.compile(r"/onboarding/business_details/$"))
    expect(page.get_by_role("heading", name="Set up your business")).to_be_visible()
    screenshot(page, "onboarding-business-details")

    page.get_by_role("button", name="Save and continue").click()  # Business details as registered.
    page.get_by_label("Monday: opens").fill("07:30")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("Where your jobs start from").fill("1 Beacon St, Boston, MA 02108")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("Job", exact=True).first.fill("Drain cleaning")
    page.get_by_label("From $").first.fill("150")
    page.get_by_label("To $").first.fill("300")
    page.get_by_label("Takes (minutes)").first.fill("90")
    page.get_by_role("button", name="Save and continue").click()
    screenshot(page, "onboarding-greeting")
    page.get_by_role("button", name="Save and continue").click()  # Greeting templates as they are.
    page.get_by_role("button", name="Save and continue").click()  # AI settings as they are.
    page.get_by_role("button", name="Use a sandbox number (development)").click()
    page.get_by_label("Forward calls to (your cell)").fill("617-555-0199")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("button", name="Skip the test call and finish").click()

    expect(page.get_by_role("heading", name="Today")).to_be_visible()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    screenshot(page, "overview")

    with django_db_blocker.unblock():
        business = delta_owner.business
        with schema_context(business.schema_name):
            config = BusinessConfig.objects.get()
        connection.set_schema_to_public()
    assert config.forwarding_number == "+16175550199"
    assert config.business_hours["monday"]["open"] == "07:30"
    assert config.job_estimates[0]["job_type"] == "Drain cleaning"

    event = build_event("call_missed", {"caller": "+16175550142", "call_id": "browser-1"}, source_service="test")
    sent = time.monotonic()
    # Playwright's loop owns this thread; publish from another, as a web or Celery process would.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(send_to_group, dashboard_group(business.schema_name), event).result()
    item = page.locator("#activity-feed li[data-event-type='call_missed']")
    expect(item).to_contain_text("+16175550142", timeout=1000)
    assert time.monotonic() - sent < 1.0
    expect(page.locator(".toast")).to_contain_text("Missed call")
    screenshot(page, "overview-missed-call")


def test_settings_and_api_keys_pages_render_for_the_owner(page, delta_owner):
    log_in(page, delta_owner.email, BROWSER_PASSWORD)
    for path, heading, name in (
        ("/settings/hours/", "Settings", "settings-hours"),
        ("/settings/team/", "Team", "settings-team"),
        ("/settings/api-keys/", "API keys and widget tokens", "settings-api-keys"),
    ):
        page.goto(path)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        screenshot(page, name)
    page.goto("/settings/api-keys/")
    page.get_by_label("Name").fill("Browser key")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#new-secret")).to_contain_text("nmc_")
