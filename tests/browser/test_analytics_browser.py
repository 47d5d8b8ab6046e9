"""The analytics page in a real browser: Chart.js draws the charts from /analytics/data, and a range
link fetches that range in place (no page load) and redraws."""

import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from apps.accounts.models import User
from apps.analytics.metrics import metrics_record
from apps.analytics.models import MetricEvent, MetricRollup
from apps.tenants.services import business_register
from tests.browser.conftest import BROWSER_PASSWORD, log_in, screenshot

pytestmark = pytest.mark.django_db(transaction=False)

CHART = "id => { const c = Chart.getChart(document.getElementById(id)); return {labels: c.data.labels, data: c.data.datasets.map(d => d.data)}; }"


@pytest.fixture(scope="module")
def hotel_owner(django_db_setup, django_db_blocker):
    """A business of its own whose figures are committed (the browser's server must see them): now,
    3 calls (2 missed) and one booking worth 240."""
    with django_db_blocker.unblock():
        owner = User.objects.filter(email="hana@hotel.test").first()
        if owner is None:
            business, owner = business_register(
                business_name="Hotel Heating",
                owner_email="hana@hotel.test",
                owner_password=BROWSER_PASSWORD,
                owner_name="Hana Hotel",
                trade="hvac",
                timezone_name="America/Phoenix",
                phone="+16025550100",
            )
            business.onboarding_completed_at = timezone.now()
            business.save(update_fields=["onboarding_completed_at"])
        with tenant_context(owner.business):
            MetricRollup.objects.all().delete()
            MetricEvent.objects.all().delete()
            for metric, value in [("calls", 1.0)] * 3 + [("calls_missed", 1.0)] * 2 + [("bookings", 240.0)]:
                metrics_record(increments=[(metric, value)])
        connection.set_schema_to_public()
    yield owner
    with django_db_blocker.unblock():
        with tenant_context(owner.business):
            MetricRollup.objects.all().delete()
            MetricEvent.objects.all().delete()
        connection.set_schema_to_public()


def test_the_page_draws_its_charts_and_a_range_refetches(page, hotel_owner):
    requests = []
    page.on("request", lambda request: "/analytics/data" in request.url and requests.append(request.url))
    log_in(page, hotel_owner.email, BROWSER_PASSWORD)
    assert page.locator(".mainnav a[href='/analytics/']").count() == 1
    page.goto("/analytics/")
    expect(page.locator("#analytics")).to_have_attribute("data-loaded", "7d")
    assert page.locator("canvas#chart-calls").count() == 1
    calls = page.evaluate(CHART, "chart-calls")
    assert len(calls["labels"]) == 7
    assert calls["labels"][-1] == timezone.now().astimezone(ZoneInfo("America/Phoenix")).date().isoformat()
    assert [series[-1] for series in calls["data"]] == [3, 2, 0]  # calls, missed, recovered
    booked = page.evaluate(CHART, "chart-booked")
    assert [series[-1] for series in booked["data"]] == [1, 240]
    expect(page.locator("[data-total='calls']")).to_have_text("3")
    expect(page.locator("[data-total='revenue']")).to_have_text("$240")
    screenshot(page, "analytics-7d")

    page.get_by_role("link", name="Today").click()
    expect(page.locator("#analytics")).to_have_attribute("data-loaded", "today")
    expect(page).to_have_url(re.compile(r"/analytics/\?range=today$"))
    assert requests[-1].endswith("?range=today") and len(requests) == 2
    today = page.evaluate(CHART, "chart-calls")
    hour = timezone.now().astimezone(ZoneInfo("America/Phoenix")).hour
    assert today["labels"] == [f"{h:02d}:00" for h in range(24)]  # Phoenix keeps no summer time
    assert today["data"][0][hour] == 3 and sum(today["data"][0]) == 3
    expect(page.locator("#analytics .periods a[aria-current='page']")).to_have_text("Today")
    screenshot(page, "analytics-today")

    page.get_by_role("link", name="Last 90 days").click()
    expect(page.locator("#analytics")).to_have_attribute("data-loaded", "90d")
    assert len(page.evaluate(CHART, "chart-calls")["labels"]) == 90
