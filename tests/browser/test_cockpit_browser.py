"""Issue 12 in Chromium, desktop and phone: the stored feed, the language switch (live events too),
bad input and unknown URLs, KPI click-through, the profile, and a screenshot of every page."""

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
from apps.telephony.tests.conftest import new_call_sid, new_message_sid, payload
from apps.tenants.config.models import BusinessConfig
from apps.tenants.services import business_register
from tests.browser.conftest import BROWSER_PASSWORD, log_in, screenshot

pytestmark = pytest.mark.django_db

FOX_NUMBER, FOX_FORWARDING = "+17735550111", "+17735550199"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="session")
def fox_owner(django_db_setup, django_db_blocker):
    """A business of this file's own (the other browser tests count Echo's calls)."""
    with django_db_blocker.unblock():
        owner = User.objects.filter(email="fay@foxtrot.test").first()
        if owner is None:
            business, owner = business_register(
                business_name="Foxtrot Electric",
                owner_email="fay@foxtrot.test",
                owner_password=BROWSER_PASSWORD,
                owner_name="Fay Fox",
                trade="electrical",
                timezone_name="America/Chicago",
                phone="+17735550100",
            )
            business.onboarding_completed_at = timezone.now()
            business.save(update_fields=["onboarding_completed_at"])
            with tenant_context(business):
                call_command("assign_number", business.slug, FOX_NUMBER, sid="PN" + uuid.uuid4().hex, stdout=StringIO())
                BusinessConfig.objects.filter(pk=1).update(forwarding_number=FOX_FORWARDING, call_screening=False)
        connection.set_schema_to_public()
    return owner


@pytest.fixture(params=sorted(VIEWPORTS))
def tab(request, browser, live_app):
    context = browser.new_context(base_url=live_app, viewport=VIEWPORTS[request.param], locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.viewport_name = request.param
    yield page
    context.close()


def _post_signed(base_url: str, path: str, params: dict) -> requests.Response:
    url = base_url + path
    return requests.post(
        url,
        data=urlencode(params),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sign(url, params)},
        timeout=10,
    )


def _missed_call(base_url: str, caller: str, caller_name: str = "") -> None:
    sid = new_call_sid()
    common = {"CallSid": sid, "From": caller, "Caller": caller, "To": FOX_NUMBER, "Called": FOX_NUMBER}
    if caller_name:
        common["CallerName"] = caller_name
    assert _post_signed(base_url, "/webhooks/twilio/call", payload("voice_incoming", **common)).status_code == 200
    status = _post_signed(base_url, f"/webhooks/twilio/call/status/{sid}", payload("voice_dial_action", **common))
    assert status.status_code == 200


def _text_in(base_url: str, sender: str, body: str) -> None:
    params = payload("sms_incoming", Body=body, From=sender, To=FOX_NUMBER, MessageSid=new_message_sid())
    assert _post_signed(base_url, "/webhooks/twilio/sms", params).status_code == 200


def _caller() -> str:
    return f"+1312{uuid.uuid4().int % 10**7:07d}"


def test_the_feed_survives_a_reload_with_names_and_what_was_said(
    tab, live_app, fox_owner, celery_worker_process, twilio_standin
):
    log_in(tab, fox_owner.email, BROWSER_PASSWORD)
    expect(tab.locator("#live-status")).to_have_attribute("data-state", "live")
    caller = _caller()
    _missed_call(live_app, caller, caller_name="Frank Fuller")
    missed = tab.locator("#activity-feed li[data-event-type='call_missed']", has_text="Frank Fuller")
    expect(missed.first).to_contain_text("Missed call from Frank Fuller")
    _text_in(live_app, caller, "My breaker keeps tripping in the kitchen")
    said = tab.locator("#activity-feed li[data-event-type='new_message']", has_text="breaker keeps tripping")
    expect(said.first).to_contain_text("Frank Fuller texted")
    expect(said.first.locator(".feed-actor")).to_have_text("Customer:")

    tab.reload()
    stored = tab.locator("#activity-feed li[data-feed-id]", has_text="Frank Fuller")
    expect(stored.filter(has_text="My breaker keeps tripping in the kitchen").first).to_be_visible()
    expect(stored.filter(has_text="Missed call from Frank Fuller").first).to_be_visible()
    sent = tab.locator("#activity-feed li[data-feed-id][data-event-type='message_sent']", has_text="Frank Fuller")
    expect(sent.first.locator(".feed-actor")).to_have_text("Assistant:")  # The auto-reply, by the assistant.
    link = stored.first.locator("a.feed-link")
    expect(link).to_have_attribute("href", re.compile(r"^/inbox/[0-9a-f-]{36}/$"))
    screenshot(tab, f"cockpit-feed-after-reload-{tab.viewport_name}")
    link.click()
    expect(tab).to_have_url(re.compile(r"/inbox/[0-9a-f-]{36}/$"))


def test_the_language_switch_changes_every_string_including_live_ones(
    tab, live_app, fox_owner, celery_worker_process, twilio_standin
):
    log_in(tab, fox_owner.email, BROWSER_PASSWORD)
    try:
        tab.get_by_role("button", name="Español").click()
        expect(tab.get_by_role("heading", name="Hoy", exact=True)).to_be_visible()
        expect(tab.locator("html")).to_have_attribute("lang", "es")
        expect(tab.locator("#live-status")).to_have_text("En vivo")
        expect(tab.locator(".tabbar" if tab.viewport_name == "phone" else ".mainnav")).to_contain_text("Llamadas")
        expect(tab.locator("#money")).to_contain_text("Recuperado de llamadas perdidas")
        caller = _caller()
        _missed_call(live_app, caller, caller_name="Greta Gomez")
        live = tab.locator("#activity-feed li[data-event-type='call_missed']", has_text="Greta Gomez").first
        expect(live).to_contain_text("Llamada perdida de Greta Gomez")
        expect(tab.locator(".toast").first).to_contain_text("Llamada perdida de Greta Gomez")
        screenshot(tab, f"cockpit-spanish-live-{tab.viewport_name}")
        tab.goto("/calls/")
        expect(tab.get_by_role("heading", name="Llamadas", exact=True)).to_be_visible()
    finally:
        tab.get_by_role("button", name="English").click()
    expect(tab.locator("html")).to_have_attribute("lang", "en")


def test_bad_input_and_unknown_urls_answer_html_pages_and_the_api_keeps_json(tab, live_app, fox_owner):
    log_in(tab, fox_owner.email, BROWSER_PASSWORD)
    for path in (
        "/calls/?date_from=2026-13-45",
        "/calls/?page=abc",
        "/calls/?status=lost",
        "/customers/?page=0",
        "/appointments/?week=2026-02-30",
        "/deliveries/?channel=fax",
        "/?period=99d",
    ):
        response = tab.goto(path)
        assert response.status == 400, path
        assert response.headers["content-type"].startswith("text/html")
        expect(tab.locator("#query-problems")).to_be_visible()
        expect(tab.locator(".tabbar" if tab.viewport_name == "phone" else ".mainnav")).to_be_visible()
    screenshot(tab, f"cockpit-400-{tab.viewport_name}")
    response = tab.goto("/calls/2026/nothing-here")
    assert response.status == 404 and response.headers["content-type"].startswith("text/html")
    expect(tab.get_by_role("heading", name="We couldn't find that page")).to_be_visible()
    screenshot(tab, f"cockpit-404-{tab.viewport_name}")
    api = tab.request.get("/api/calls?date_from=2026-13-45", headers={"Accept": "application/json"})
    assert api.status == 400 and api.json()["success"] is False
    missing = tab.request.get("/api/no-such-thing", headers={"Accept": "application/json"})
    assert missing.status == 404 and missing.json()["error"]["code"]


def test_kpi_cards_open_the_filtered_list(tab, live_app, fox_owner, celery_worker_process, twilio_standin):
    log_in(tab, fox_owner.email, BROWSER_PASSWORD)
    expect(tab.locator("#live-status")).to_have_attribute("data-state", "live")
    caller = _caller()
    _missed_call(live_app, caller)
    expect(tab.locator("#activity-feed li", has_text=caller).first).to_be_visible()
    tab.locator("a.kpi", has=tab.locator("#kpi-missed")).click()
    expect(tab).to_have_url(re.compile(r"/calls/\?status=missed&date_from=\d{4}-\d\d-\d\d&date_to="))
    row = tab.locator("#calls-table tr", has_text=caller)
    expect(row).to_contain_text("Missed")
    expect(row.locator("a.tel")).to_have_attribute("href", f"tel:{caller}")
    for cell in tab.locator("#calls-table tbody tr").first.locator("td").all():
        assert cell.evaluate("e => e.scrollWidth <= e.clientWidth + 1")  # Nothing clipped.
    screenshot(tab, f"cockpit-calls-missed-{tab.viewport_name}")


def test_the_profile_changes_name_password_language_and_notifications(
    tab, live_app, fox_owner, celery_worker_process, twilio_standin
):
    log_in(tab, fox_owner.email, BROWSER_PASSWORD)
    tab.goto("/profile/")
    tab.get_by_label("First name").fill("Fiona")
    tab.get_by_role("button", name="Save name").click()
    expect(tab.locator(".flash")).to_contain_text("Your name was saved.")
    expect(tab.get_by_label("First name")).to_have_value("Fiona")

    tab.get_by_label("Show a pop-up for every missed call").uncheck()
    tab.get_by_role("button", name="Save notifications").click()
    expect(tab.get_by_label("Show a pop-up for every missed call")).not_to_be_checked()
    tab.goto("/")
    expect(tab.locator("#live-status")).to_have_attribute("data-state", "live")
    caller = _caller()
    _missed_call(live_app, caller)
    expect(tab.locator("#activity-feed li[data-event-type='call_missed']", has_text=caller).first).to_be_visible()
    tab.wait_for_timeout(300)
    assert tab.locator(".toast").count() == 0  # The choice is honoured, not just stored.

    tab.goto("/profile/")
    tab.get_by_label("Show a pop-up for every missed call").check()
    tab.get_by_role("button", name="Save notifications").click()
    tab.get_by_label("Current password").fill("not-my-password")
    tab.get_by_label("New password", exact=True).fill("fresh-fox-password-7")
    tab.get_by_label("New password again").fill("fresh-fox-password-7")
    tab.get_by_role("button", name="Change password").click()
    expect(tab.locator("#profile-errors")).to_contain_text("current password is not correct")
    tab.get_by_label("Current password").fill(BROWSER_PASSWORD)
    tab.get_by_label("New password", exact=True).fill("fresh-fox-password-7")
    tab.get_by_label("New password again").fill("fresh-fox-password-7")
    tab.get_by_role("button", name="Change password").click()
    expect(tab.locator(".flash")).to_contain_text("Your password was changed.")
    screenshot(tab, f"cockpit-profile-{tab.viewport_name}")
    tab.get_by_label("Language of the dashboard and e-mails").select_option("es")
    tab.get_by_role("button", name="Save language").click()
    expect(tab.get_by_role("heading", name="Su perfil")).to_be_visible()
    tab.get_by_label("Contraseña actual").fill("fresh-fox-password-7")  # Back as it was, for the other tests.
    tab.get_by_label("Contraseña nueva", exact=True).fill(BROWSER_PASSWORD)
    tab.get_by_label("Repita la contraseña nueva").fill(BROWSER_PASSWORD)
    tab.get_by_role("button", name="Cambiar contraseña").click()
    tab.get_by_label("Idioma del panel y de los correos").select_option("en")
    tab.get_by_role("button", name="Guardar idioma").click()
    expect(tab.get_by_role("heading", name="Your profile")).to_be_visible()


PAGES = (
    ("/", "overview"),
    ("/?period=7d", "overview-7d"),
    ("/?period=30d", "overview-30d"),
    ("/calls/", "calls"),
    ("/inbox/", "inbox"),
    ("/customers/", "customers"),
    ("/appointments/", "appointments"),
    ("/bookings/", "bookings"),
    ("/deliveries/", "deliveries"),
    ("/profile/", "profile"),
    ("/settings/business/", "settings-business"),
    ("/settings/team/", "settings-team"),
    ("/settings/phone-numbers/", "settings-phone-numbers"),
)
OWN_PAGES = {"overview", "overview-7d", "overview-30d", "calls", "customers", "appointments", "bookings", "profile"}


def test_every_page_at_both_viewports(tab, fox_owner):
    log_in(tab, fox_owner.email, BROWSER_PASSWORD)
    expect(tab.locator("link[rel='manifest']")).to_have_count(1)
    manifest = tab.request.get(tab.locator("link[rel='manifest']").get_attribute("href")).json()
    assert manifest["display"] == "standalone" and {icon["sizes"] for icon in manifest["icons"]} >= {"192x192"}
    assert tab.request.get("/static/icons/favicon.svg").status == 200
    tab.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.getRegistration('/')")
    for path, name in PAGES:
        response = tab.goto(path)
        assert response.status == 200, path
        if tab.viewport_name == "phone":
            expect(tab.locator(".tabbar")).to_be_visible()
            if name in OWN_PAGES:
                width = tab.evaluate("document.documentElement.scrollWidth")
                assert width <= 391, (path, width)  # Usable at 390: nothing wider than the screen.
        screenshot(tab, f"page-{name}-{tab.viewport_name}")
