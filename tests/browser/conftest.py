"""Real headless Chromium (Debian's, driven by Playwright) against the daphne-served app."""

import os
import shutil
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.tenants.config.models import BusinessConfig
from apps.tenants.services import business_register

# Playwright's sync API keeps an event loop running in the test thread; Django's ORM calls made by
# the tests themselves (fixtures, assertions) are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
BROWSER_PASSWORD = "delta-drains-browser-1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def chromium_path():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Debian's chromium is not installed; `make test` installs it")
    return path


@pytest.fixture(scope="package")
def browser(chromium_path):
    """Package-scoped: Playwright's event loop runs in the test thread while it is open, which the
    asyncio tests elsewhere must not inherit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def delta_owner(django_db_setup, django_db_blocker):
    """A business of its own for browser tests: what the browser changes is committed."""
    with django_db_blocker.unblock():
        owner = User.objects.filter(email="dora@delta.test").first()
        if owner is None:
            _, owner = business_register(
                business_name="Delta Drains",
                owner_email="dora@delta.test",
                owner_password=BROWSER_PASSWORD,
                owner_name="Dora Delta",
                trade="plumbing",
                timezone_name="America/New_York",
                phone="+16175550100",
            )
        connection.set_schema_to_public()
    return owner


ECHO_NUMBER, ECHO_FORWARDING = "+16465550111", "+16465550199"


@pytest.fixture(scope="session")
def echo_owner(django_db_setup, django_db_blocker):
    """A business already set up, with a Twilio number: where the live missed-call test happens."""
    with django_db_blocker.unblock():
        owner = User.objects.filter(email="erin@echo.test").first()
        if owner is None:
            business, owner = business_register(
                business_name="Echo HVAC",
                owner_email="erin@echo.test",
                owner_password=BROWSER_PASSWORD,
                owner_name="Erin Echo",
                trade="hvac",
                timezone_name="America/New_York",
                phone="+16465550100",
            )
            business.onboarding_completed_at = timezone.now()
            business.save(update_fields=["onboarding_completed_at"])
            with tenant_context(business):
                call_command(
                    "assign_number", business.slug, ECHO_NUMBER, sid="PN" + uuid.uuid4().hex, stdout=StringIO()
                )
                BusinessConfig.objects.filter(pk=1).update(forwarding_number=ECHO_FORWARDING, call_screening=False)
        connection.set_schema_to_public()
    return owner


@pytest.fixture
def page(browser, live_app, request):
    context = browser.new_context(base_url=live_app, viewport={"width": 390, "height": 844}, locale="en-US")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(tab, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(tab, email: str, password: str) -> None:
    tab.goto("/login/")
    tab.get_by_label("Email").fill(email)
    tab.get_by_label("Password").fill(password)
    tab.get_by_role("button", name="Log in").click()
