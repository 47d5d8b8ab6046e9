"""The deliveries pages and the webhooks settings page: content in plain words, filters, the retry,
who may do what, isolation from another business, query counts."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import Role
from apps.accounts.services import user_create
from apps.conversations.models import Conversation
from apps.conversations.services import message_queue_outbound
from apps.outbox import services
from apps.outbox.models import Delivery, DeliveryAttempt, WebhookEndpoint
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

BUSINESS_NUMBER = "+13125550111"


def _sms(business, *, to="+13125550171", body="Sorry we missed your call!", purpose="auto_reply", **fields):
    with tenant_context(business):
        return services.delivery_queue_sms(to=to, body=body, purpose=purpose, sender=BUSINESS_NUMBER, **fields)


def _set(delivery, **fields):
    """Put a delivery in a state the dispatcher would reach (dead, held, sent at a given time)."""
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    delivery.refresh_from_db()
    return delivery


def _dead(business, **fields):
    delivery = _sms(business, **fields)
    services.attempt_record(
        delivery=delivery,
        started_at=timezone.now(),
        outcome=DeliveryAttempt.Outcome.TRANSIENT,
        provider_status="503",
        provider_answer='{"message": "Service Unavailable"}',
        error="Twilio answered 503.",
    )
    return _set(delivery, status=Delivery.Status.DEAD, last_error="Twilio answered 503.", last_error_code="503")


def _login(client, user):
    assert client.login(username=user.email, password=PASSWORD)
    return client


@pytest.fixture
def owner(client, alice):
    return _login(client, alice)


def _rows(html: str) -> list[str]:
    return re.findall(r'data-delivery-id="([0-9a-f-]+)"', html)


# --- the list -----------------------------------------------------------------------------------------


def test_the_list_shows_each_delivery_in_plain_words_newest_first(owner, alpha):
    first = _sms(alpha, to="+13125550172")
    _set(first, created_at=datetime(2020, 11, 2, 15, 30, tzinfo=UTC))  # 9:30 AM in Chicago.
    alert = _sms(alpha, to="+13125550199", body="EMERGENCY: burst pipe", purpose="owner_alert")
    held = _set(_sms(alpha, to="+13125550173", body="Hi again"), hold_reason=Delivery.Hold.QUOTA)
    with tenant_context(alpha):
        endpoint, _secret = services.webhook_endpoint_create(business=alpha, url="https://hooks.alpha.test/in")
        webhook = services.webhook_endpoint_test(endpoint=endpoint)
    page = owner.get("/deliveries/").content.decode()
    assert _rows(page) == [str(webhook.pk), str(held.pk), str(alert.pk), str(first.pk)]
    assert "Missed-call text" in page and "Owner alert" in page and "Webhook (test)" in page
    assert "https://hooks.alpha.test/in" in page and "+13125550199" in page
    assert '<span class="badge badge-queued">Queued</span>' in page
    assert "Waiting for midnight: daily text limit reached" in page
    assert "Nov 2, 9:30 AM" in page
    assert 'id="count-queued">4<' in page and 'id="count-quota">1<' in page and 'id="count-dead">0<' in page
    assert "Daily text limit reached: 1 text waits until midnight." in page
    assert 'href="/settings/templates/"' in page
    assert 'href="/deliveries/" aria-current="page"' in page


def test_no_quota_banner_when_nothing_is_held_for_it(owner, alpha):
    _sms(alpha)
    page = owner.get("/deliveries/").content.decode()
    assert "Daily text limit reached" not in page and "Nothing sent yet." not in page


def test_the_list_is_paginated_like_the_calls(owner, alpha):
    for index in range(27):
        _sms(alpha, to=f"+1312555{index:04d}")
    first = owner.get("/deliveries/").content.decode()
    second = owner.get("/deliveries/?channel=sms&page=2").content.decode()
    assert len(_rows(first)) == 25 and len(_rows(second)) == 2
    assert "Page 1 of 2" in first and 'href="?channel=sms&amp;page=1"' in second


def test_filters_by_channel_status_hold_and_day(owner, alpha):
    monday = _set(_sms(alpha, to="+13125550181"), created_at=datetime(2020, 11, 2, 18, tzinfo=UTC))
    tuesday = _set(_sms(alpha, to="+13125550182"), created_at=datetime(2020, 11, 3, 18, tzinfo=UTC))
    # 02:00 UTC on the 4th is still the 3rd in Chicago: the days are the business's.
    late = _set(_sms(alpha, to="+13125550183"), created_at=datetime(2020, 11, 4, 2, tzinfo=UTC))
    dead = _dead(alpha, to="+13125550184")
    quiet = _set(_sms(alpha, to="+13125550185"), hold_reason=Delivery.Hold.QUIET_HOURS)
    with tenant_context(alpha):
        endpoint, _secret = services.webhook_endpoint_create(business=alpha, url="https://hooks.alpha.test/in")
        webhook = services.webhook_endpoint_test(endpoint=endpoint)
    assert _rows(owner.get("/deliveries/?channel=webhook").content.decode()) == [str(webhook.pk)]
    assert _rows(owner.get("/deliveries/?status=dead").content.decode()) == [str(dead.pk)]
    assert _rows(owner.get("/deliveries/?held=quiet_hours").content.decode()) == [str(quiet.pk)]
    on_the_3rd = owner.get("/deliveries/?date_from=2020-11-03&date_to=2020-11-03").content.decode()
    assert _rows(on_the_3rd) == [str(late.pk), str(tuesday.pk)]
    assert _rows(owner.get("/deliveries/?date_to=2020-11-02").content.decode()) == [str(monday.pk)]
    assert 'value="2020-11-03"' in on_the_3rd  # The form keeps what was asked.


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=2026-13-45", "“2026-13-45” is not a date (use YYYY-MM-DD)."),
        ("date_to=yesterday", "“yesterday” is not a date (use YYYY-MM-DD)."),
        ("channel=fax", "There is no channel “fax”."),
        ("status=lost", "There is no status “lost”."),
        ("held=forever", "There is no hold reason “forever”."),
        ("page=x", "“x” is not a page number."),
    ],
)
def test_a_bad_filter_answers_the_400_page_naming_it(owner, alpha, query, message):
    _sms(alpha)
    response = owner.get(f"/deliveries/?{query}")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert message in page and 'id="query-problems"' in page
    assert 'class="mainnav"' in page and 'href="/deliveries/"' in page  # Navigation, and the way back.


def test_from_after_to_is_a_notice_not_an_error(owner, alpha):
    _sms(alpha)
    response = owner.get("/deliveries/?date_from=2026-11-05&date_to=2026-11-01")
    assert response.status_code == 200
    page = response.content.decode()
    assert "The “from” date is after the “to” date, so nothing matches." in page and 'id="filter-problems"' in page


def test_the_last_and_first_days_are_not_errors(owner, alpha):
    _sms(alpha)
    for query in ("date_to=9999-12-31", "date_from=0001-01-01", "page=999"):
        assert owner.get(f"/deliveries/?{query}").status_code == 200, query


def test_htmx_refresh_returns_only_the_table(owner, alpha):
    _sms(alpha)
    response = owner.get("/deliveries/", HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and page.lstrip().startswith('<div id="deliveries-table"')
    assert "<html" not in page


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/deliveries/")
    assert response.status_code == 200
    return len(captured)


def test_the_list_costs_the_same_queries_for_few_or_many_rows(owner, alpha, django_assert_max_num_queries):
    for index in range(3):
        _sms(alpha, to=f"+1312555{index:04d}")
    owner.get("/deliveries/")  # Warm up: the session's first request may write it.
    few = _list_queries(owner)
    for index in range(3, 30):
        if index % 3:
            _dead(alpha, to=f"+1312555{index:04d}")
        else:
            _sms(alpha, to=f"+1312555{index:04d}")
    with django_assert_max_num_queries(few):
        assert len(_rows(owner.get("/deliveries/").content.decode())) == 25
    assert few <= 8, few  # Session, user, the page and its count, the summary, the Inbox tab's badge.


# --- the detail and the retry -----------------------------------------------------------------------------


def _message_delivery(business) -> tuple[Delivery, Conversation]:
    """A staff reply queued the real way: a message in the conversation and its delivery in the outbox."""
    with tenant_context(business):
        conversation = Conversation.objects.create(customer_number="+13125550191", business_number=BUSINESS_NUMBER)
        message = message_queue_outbound(conversation=conversation, body="I can come at 3pm.", kind="human")
    delivery = Delivery.objects.get(cause_type="message", cause_id=str(message.pk))
    return delivery, conversation


def test_the_detail_shows_the_text_its_cause_and_every_attempt(owner, alpha):
    delivery, conversation = _message_delivery(alpha)
    services.attempt_record(
        delivery=delivery,
        started_at=timezone.now(),
        outcome=DeliveryAttempt.Outcome.PERMANENT,
        provider_status="400",
        provider_answer="400 30006 Landline or unreachable carrier",
        error="Landline or unreachable carrier",
    )
    _set(delivery, status=Delivery.Status.FAILED, last_error="Landline", last_error_code="30006")
    page = owner.get(f"/deliveries/{delivery.pk}/").content.decode()
    assert "I can come at 3pm." in page and "Staff reply" in page and "+13125550191" in page
    assert f'href="/inbox/{conversation.pk}/"' in page and "Open the conversation" in page
    assert "Permanent failure" in page and "400 30006 Landline or unreachable carrier" in page
    assert "The number is a landline or cannot receive texts." in page
    assert 'id="retry-form"' in page and "Retry" in page


def test_the_detail_of_a_webhook_shows_its_event(owner, alpha):
    with tenant_context(alpha):
        endpoint, _secret = services.webhook_endpoint_create(business=alpha, url="https://hooks.alpha.test/in")
        delivery = services.webhook_endpoint_test(endpoint=endpoint)
    page = owner.get(f"/deliveries/{delivery.pk}/").content.decode()
    assert "Test event" in page and "webhook.test" in page and "https://hooks.alpha.test/in" in page
    assert 'id="retry-form"' not in page  # Queued: nothing to retry.


def test_a_dead_delivery_says_why_in_plain_words(owner, alpha):
    dead = _dead(alpha)
    page = owner.get(f"/deliveries/{dead.pk}/").content.decode()
    assert "We tried 1 time without success and stopped. Last error: Twilio answered 503." in page
    assert '<span class="badge badge-dead" id="delivery-status">Dead letter</span>' in page


def test_the_owner_retries_a_dead_delivery(owner, alpha):
    dead = _dead(alpha)
    response = owner.post(f"/deliveries/{dead.pk}/retry")
    assert response.status_code == 302 and response["Location"] == f"/deliveries/{dead.pk}/"
    dead.refresh_from_db()
    assert dead.status == Delivery.Status.QUEUED and dead.max_attempts > dead.attempts
    page = owner.get(response["Location"]).content.decode()
    assert "Queued again: it will be sent in a moment." in page and 'id="retry-form"' not in page


def test_the_retry_answers_htmx_with_the_detail_and_its_message(owner, alpha):
    dead = _dead(alpha)
    response = owner.post(f"/deliveries/{dead.pk}/retry", HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and page.lstrip().startswith('<div id="delivery-detail"')
    assert "Queued again: it will be sent in a moment." in page and 'badge-queued" id="delivery-status"' in page
    assert page.count("Queued again") == 1


def test_retrying_what_is_not_failed_explains_and_changes_nothing(owner, alpha):
    sent = _set(_sms(alpha), status=Delivery.Status.SENT)
    page = owner.post(f"/deliveries/{sent.pk}/retry", follow=True).content.decode()
    assert "Only failed or dead deliveries can be retried." in page and "flash-error" in page
    sent.refresh_from_db()
    assert sent.status == Delivery.Status.SENT


def test_the_retry_needs_a_post(owner, alpha):
    assert owner.get(f"/deliveries/{_dead(alpha).pk}/retry").status_code == 405


def test_staff_see_deliveries_but_cannot_retry(client, bob, alpha):
    dead = _dead(alpha, to="+13125550174")
    _login(client, bob)
    assert "+13125550174" in client.get("/deliveries/").content.decode()
    page = client.get(f"/deliveries/{dead.pk}/").content.decode()
    assert "Twilio answered 503." in page and 'id="retry-form"' not in page
    assert client.post(f"/deliveries/{dead.pk}/retry").status_code == 403
    dead.refresh_from_db()
    assert dead.status == Delivery.Status.DEAD


def test_a_technician_has_no_deliveries_page(client, alpha):
    technician = user_create(
        email="tess@alpha.test", password=PASSWORD, business=alpha, role=Role.TECHNICIAN, first_name="Tess"
    )
    _login(client, technician)
    assert client.get("/deliveries/").status_code == 403
    assert b'href="/deliveries/"' not in client.get("/calls/").content


def test_another_business_never_sees_them(client, charlie, alpha, beta):
    dead = _dead(alpha, to="+13125550175")
    own = _sms(beta, to="+17735550176")
    _login(client, charlie)
    page = client.get("/deliveries/").content.decode()
    assert _rows(page) == [str(own.pk)] and "+13125550175" not in page
    assert 'id="count-dead">0<' in page
    assert client.get(f"/deliveries/{dead.pk}/").status_code == 404
    assert client.post(f"/deliveries/{dead.pk}/retry").status_code == 404
    dead.refresh_from_db()
    assert dead.status == Delivery.Status.DEAD


def test_the_pages_need_a_sign_in(client, alpha):
    dead = _dead(alpha)
    for path in ("/deliveries/", f"/deliveries/{dead.pk}/", "/settings/webhooks/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path
    assert client.post(f"/deliveries/{dead.pk}/retry").status_code == 302
    dead.refresh_from_db()
    assert dead.status == Delivery.Status.DEAD


# --- webhooks in settings -----------------------------------------------------------------------------


def _endpoint(business) -> WebhookEndpoint:
    return WebhookEndpoint.objects.filter(business=business).get()


def test_adding_an_endpoint_shows_its_secret_once(owner, alpha):
    response = owner.post(
        "/settings/webhooks/",
        {
            "action": "create",
            "url": "https://hooks.alpha.test/nmc",
            "description": "Our CRM",
            "event_types": ["emergency.detected"],
        },
    )
    page = response.content.decode()
    secret = re.search(r'id="new-secret">(whsec_[^<]+)<', page).group(1)
    assert "It will not be shown again." in page
    endpoint = _endpoint(alpha)
    assert endpoint.url == "https://hooks.alpha.test/nmc" and endpoint.event_types == ["emergency.detected"]
    assert endpoint.secret_prefix == secret[:12] and secret not in endpoint.secret_encrypted
    again = owner.get("/settings/webhooks/").content.decode()
    assert secret not in again and f"{endpoint.secret_prefix}…" in again
    assert "Our CRM" in again and "Emergency detected" in again


def test_a_bad_endpoint_is_shown_again_with_a_plain_message(owner, alpha):
    response = owner.post(
        "/settings/webhooks/",
        {"action": "create", "url": "hooks.alpha.test", "description": "Typed once", "event_types": ["webhook.test"]},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter the full address of your endpoint, starting with https://." in page
    assert 'value="hooks.alpha.test"' in page and 'value="Typed once"' in page
    assert 'value="webhook.test" checked' in page
    assert 'id="new-secret"' not in page and not WebhookEndpoint.objects.filter(business=alpha).exists()


def test_an_unknown_event_type_is_refused(owner, alpha):
    response = owner.post(
        "/settings/webhooks/", {"action": "create", "url": "https://hooks.alpha.test/x", "event_types": ["everything"]}
    )
    assert "Choose the events from the list." in response.content.decode()
    assert not WebhookEndpoint.objects.filter(business=alpha).exists()


def test_rotate_disable_enable_test_and_delete(owner, alpha):
    with tenant_context(alpha):
        endpoint, first_secret = services.webhook_endpoint_create(business=alpha, url="https://hooks.alpha.test/in")
    rotated = owner.post("/settings/webhooks/", {"action": "rotate", "id": endpoint.pk}).content.decode()
    secret = re.search(r'id="new-secret">(whsec_[^<]+)<', rotated).group(1)
    assert secret != first_secret and "It will not be shown again." in rotated
    assert _endpoint(alpha).secret_prefix == secret[:12]

    page = owner.post("/settings/webhooks/", {"action": "disable", "id": endpoint.pk}, follow=True).content.decode()
    assert "Endpoint disabled." in page and not _endpoint(alpha).is_active
    page = owner.post("/settings/webhooks/", {"action": "test", "id": endpoint.pk}, follow=True).content.decode()
    assert "Enable the endpoint before sending it a test event." in page
    assert not Delivery.objects.filter(purpose="webhook_test", business=alpha).exists()
    owner.post("/settings/webhooks/", {"action": "enable", "id": endpoint.pk})
    assert _endpoint(alpha).is_active

    page = owner.post("/settings/webhooks/", {"action": "test", "id": endpoint.pk}, follow=True).content.decode()
    assert "Test event queued" in page
    test = Delivery.objects.get(purpose="webhook_test", business=alpha)
    assert test.recipient == "https://hooks.alpha.test/in" and test.payload["event"] == "webhook.test"

    page = owner.post("/settings/webhooks/", {"action": "delete", "id": endpoint.pk}, follow=True).content.decode()
    assert "Endpoint deleted." in page and not WebhookEndpoint.objects.filter(business=alpha).exists()


def test_webhooks_are_for_owners_and_admins(client, bob, alpha):
    with tenant_context(alpha):
        endpoint, _secret = services.webhook_endpoint_create(business=alpha, url="https://hooks.alpha.test/in")
    _login(client, bob)
    page = client.get("/settings/webhooks/").content.decode()
    assert "Only the owner or an admin can manage webhooks." in page and "hooks.alpha.test" not in page
    for action in ("create", "rotate", "disable", "delete", "test"):
        response = client.post("/settings/webhooks/", {"action": action, "id": endpoint.pk, "url": "https://x.test"})
        assert response.status_code == 403, action
    assert _endpoint(alpha).is_active and WebhookEndpoint.objects.filter(business=alpha).count() == 1


def test_another_business_cannot_touch_the_endpoints(client, charlie, alpha):
    with tenant_context(alpha):
        endpoint, _secret = services.webhook_endpoint_create(business=alpha, url="https://hooks.alpha.test/in")
    _login(client, charlie)
    assert "hooks.alpha.test" not in client.get("/settings/webhooks/").content.decode()
    for action in ("rotate", "disable", "delete", "test"):
        assert client.post("/settings/webhooks/", {"action": action, "id": endpoint.pk}).status_code == 404, action
    assert _endpoint(alpha).is_active and _endpoint(alpha).secret_prefix == endpoint.secret_prefix


def test_webhooks_is_a_settings_section(owner):
    page = owner.get("/settings/").content.decode()
    assert 'href="/settings/webhooks/"' in page


def test_the_spanish_page(client, alice, alpha):
    _set(_sms(alpha), hold_reason=Delivery.Hold.QUOTA)
    alice.language = "es"
    alice.save(update_fields=["language"])
    signed_in = _login(client, alice)
    page = signed_in.get("/deliveries/").content.decode()
    assert "Envíos" in page and "Texto por llamada perdida" in page and "Límite diario de textos alcanzado" in page
    bad = signed_in.get("/deliveries/?date_from=2026-13-45")
    assert bad.status_code == 400 and "no es una fecha" in bad.content.decode()


def test_recent_counts_leave_out_old_finished_rows(owner, alpha):
    old = _dead(alpha)
    _set(old, created_at=timezone.now() - timedelta(days=40))
    _dead(alpha)
    assert 'id="count-dead">1<' in owner.get("/deliveries/").content.decode()
