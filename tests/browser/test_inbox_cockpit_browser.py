"""The owner's cockpit in real Chromium, at a desktop and a phone viewport: an emergency text raises
the toast, the pinned banner with a call button, the sound and the browser notification (after
"Turn on alerts"), and puts the thread at the top of the inbox as "Needs you"; take over, hand back,
resolve and reopen each ask first; an internal note stays inside the team."""

import random
import re
import uuid
from io import StringIO
from urllib.parse import urlencode

import pytest
import requests
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from apps.accounts.models import User
from apps.telephony.testing import sign
from apps.telephony.tests.conftest import new_message_sid, payload
from apps.tenants.config.models import BusinessConfig
from apps.tenants.services import business_register
from tests.browser.conftest import BROWSER_PASSWORD, log_in, screenshot

pytestmark = pytest.mark.django_db

GOLF_NUMBER, GOLF_FORWARDING = "+17185550111", "+17185550199"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

# Chromium headless has no notification service: a stand-in records what the page shows, and grants
# permission when asked (the page asks only from the "Turn on alerts" click).
NOTIFICATION_STANDIN = """
window.__notifications = [];
window.Notification = function (title, options) {
  window.__notifications.push({ title: title, body: (options || {}).body || "" });
};
window.Notification.permission = "default";
window.Notification.requestPermission = function () {
  window.Notification.permission = "granted";
  return Promise.resolve("granted");
};
"""


@pytest.fixture(scope="session")
def golf_owner(django_db_setup, django_db_blocker):
    """A plumbing business set up with a Twilio number (the assistant's emergency is a burst pipe)."""
    with django_db_blocker.unblock():
        owner = User.objects.filter(email="gil@golf.test").first()
        if owner is None:
            business, owner = business_register(
                business_name="Golf Plumbing",
                owner_email="gil@golf.test",
                owner_password=BROWSER_PASSWORD,
                owner_name="Gil Golf",
                trade="plumbing",
                timezone_name="America/New_York",
                phone="+17185550100",
            )
            business.onboarding_completed_at = timezone.now()
            business.save(update_fields=["onboarding_completed_at"])
            with tenant_context(business):
                call_command(
                    "assign_number", business.slug, GOLF_NUMBER, sid="PN" + uuid.uuid4().hex, stdout=StringIO()
                )
                BusinessConfig.objects.filter(pk=1).update(forwarding_number=GOLF_FORWARDING, call_screening=False)
        connection.set_schema_to_public()
    return owner


def _text(base_url: str, sender: str, body: str) -> None:
    params = payload("sms_incoming", Body=body, From=sender, To=GOLF_NUMBER, MessageSid=new_message_sid())
    url = base_url + "/webhooks/twilio/sms"
    response = requests.post(
        url,
        data=urlencode(params),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sign(url, params)},
        timeout=10,
    )
    assert response.status_code in (200, 204), response.text


def _confirm(tab, button: str) -> None:
    """Press ``button`` on the thread, then the same button in the confirmation dialog."""
    tab.locator(".thread-actions").get_by_role("button", name=button).click()
    dialog = tab.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=button).click()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_an_emergency_is_impossible_to_miss_and_the_owner_acts(
    browser, live_app, golf_owner, celery_worker_process, twilio_standin, viewport
):
    customer = f"+1347555{random.randint(0, 9999):04d}"  # noqa: S311  (a fresh conversation per run)
    context = browser.new_context(base_url=live_app, viewport=VIEWPORTS[viewport], locale="en-US")
    context.set_default_timeout(10_000)
    context.add_init_script(NOTIFICATION_STANDIN)
    tab = context.new_page()
    try:
        log_in(tab, golf_owner.email, BROWSER_PASSWORD)
        tab.goto("/inbox/")
        expect(tab.locator("#live-status")).to_have_attribute("data-state", "live")
        # First visit: the page asks; the click is the gesture browsers want for sound and notifications.
        tab.get_by_role("button", name="Turn on alerts").click()
        expect(tab.locator("#alerts-switch")).to_be_hidden()
        assert tab.evaluate("Notification.permission") == "granted"

        _text(live_app, customer, "EMERGENCY pipe burst, water is flooding the basement!")

        toast = tab.locator(".toast-needs-you")
        expect(toast).to_contain_text("pipe burst", timeout=8000)
        expect(toast).to_contain_text("Emergency")
        tab.wait_for_timeout(500)
        expect(tab.locator(".toast")).to_have_count(1)  # One toast, not one from each script.
        badge = tab.locator(f"{'.tabbar' if viewport == 'phone' else '.mainnav'} [data-badge='inbox']")
        expect(badge).to_be_visible()  # Unread and "Needs you", counted by the server for this person.
        assert int(badge.inner_text()) >= 1
        banner = tab.locator("#needs-you-banner .needs-you-item[data-conversation-id]", has_text=customer)
        expect(banner).to_contain_text("pipe burst")
        expect(banner.get_by_role("link", name=f"Call {customer}")).to_have_attribute("href", f"tel:{customer}")
        first = tab.locator("#inbox-list .inbox-item").first
        expect(first).to_contain_text(customer)
        expect(first).to_contain_text("Needs you")
        expect(first).to_have_class(re.compile(r"\bneeds-you\b"))
        state = tab.evaluate("window.nmcAlerts.state")
        assert state["sounds"] >= 2 and state["notifications"] >= 1, state  # The sample tone, then the alarm.
        notes = tab.evaluate("window.__notifications")
        assert any("pipe burst" in note["body"] and "Emergency" in note["title"] for note in notes), notes
        screenshot(tab, f"inbox-needs-you-{viewport}")

        first.click()
        expect(tab.locator("#needs-you")).to_contain_text("Emergency")
        expect(tab.locator("#thread")).to_contain_text("pipe burst")
        expect(tab.locator("#thread .from-assistant").first).to_be_visible()  # The assistant answered.
        expect(tab.locator("#customer-phone")).to_have_attribute("href", f"tel:{customer}")
        expect(tab.locator("#composer")).to_be_in_viewport()
        screenshot(tab, f"thread-needs-you-{viewport}")

        # Take over, after a confirmation: the alert is cleared everywhere.
        tab.locator(".thread-actions").get_by_role("button", name="Take over").click()
        tab.locator("#confirm-dialog").get_by_role("button", name="Cancel").click()
        expect(tab.locator("#handler")).to_contain_text("AI assistant")
        _confirm(tab, "Take over")
        expect(tab.locator("#handler")).to_contain_text("You are handling")
        expect(tab.locator("#needs-you")).to_have_count(0)
        expect(tab.locator("#needs-you-banner .needs-you-item", has_text=customer)).to_have_count(0)

        # An internal note stays inside the team.
        tab.get_by_label("Reply by text").fill("Gate code 4412, dog in the yard")
        tab.get_by_role("button", name="Add internal note").click()
        expect(tab.locator("#thread .note")).to_contain_text("Gate code 4412")
        assert not any("4412" in sent.form["Body"] for sent in twilio_standin.messages())
        screenshot(tab, f"thread-taken-over-{viewport}")

        _confirm(tab, "Hand back to the assistant")
        expect(tab.locator("#handler")).to_contain_text("AI assistant")
        _confirm(tab, "Resolve")
        expect(tab.locator("#status")).to_contain_text("Resolved")
        _confirm(tab, "Reopen")
        expect(tab.locator("#status")).to_contain_text("Active")
        expect(tab.locator("#handler")).to_contain_text("You are handling")
        screenshot(tab, f"thread-reopened-{viewport}")
    finally:
        context.close()


def test_without_javascript_take_over_asks_on_a_page(browser, live_app, golf_owner, celery_worker_process):
    customer = f"+1347556{random.randint(0, 9999):04d}"  # noqa: S311
    _text(live_app, customer, "My kitchen sink is clogged")
    context = browser.new_context(base_url=live_app, viewport=VIEWPORTS["phone"], java_script_enabled=False)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    try:
        log_in(tab, golf_owner.email, BROWSER_PASSWORD)
        tab.goto("/inbox/")
        tab.locator(".inbox-item", has_text=customer).click()
        tab.get_by_role("button", name="Take over").click()
        expect(tab.get_by_text("Take over from the assistant?")).to_be_visible()
        screenshot(tab, "confirm-take-over-no-js-phone")
        tab.get_by_role("button", name="Take over").click()
        expect(tab.locator("#handler")).to_contain_text("You are handling")
    finally:
        context.close()
