"""The outbox on the public admin site: lists, filters, search, the read-only attempts, the retry
action, and webhook secrets that never show."""

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.conversations.models import Conversation, Message
from apps.conversations.services import message_queue_outbound
from apps.outbox import services
from apps.outbox.models import Delivery, DeliveryAttempt, SmsConsent
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, people):
    User.objects.create_superuser(email="ops-outbox@nevermisscall.test", password=PASSWORD)
    assert client.login(username="ops-outbox@nevermisscall.test", password=PASSWORD)
    return client


def _sms(business, *, to: str, status: str = Delivery.Status.QUEUED, **fields) -> Delivery:
    with tenant_context(business):
        delivery = services.delivery_queue_sms(
            to=to, body="Sorry we missed you", purpose="auto_reply", sender="+13125550111", **fields
        )
    Delivery.objects.filter(pk=delivery.pk).update(status=status)
    delivery.refresh_from_db()
    return delivery


def test_every_outbox_model_is_listed_on_the_public_admin(staff_client, alpha):
    with tenant_context(alpha):
        services.webhook_endpoint_create(business=alpha, url="https://hooks.alpha.test/admin")
    SmsConsent.objects.create(business=alpha, phone_number="+13125550161", source="web_form")
    delivery = _sms(alpha, to="+13125550162")
    services.attempt_record(
        delivery=delivery, started_at=timezone.now(), outcome=DeliveryAttempt.Outcome.SENT, provider_status="201"
    )
    index = staff_client.get("/admin/").content.decode()
    for path in ("delivery", "deliveryattempt", "webhookendpoint", "smsconsent"):
        assert f'href="/admin/outbox/{path}/"' in index, path
        assert staff_client.get(f"/admin/outbox/{path}/").status_code == 200, path
    assert "+13125550161" in staff_client.get("/admin/outbox/smsconsent/?q=5550161").content.decode()
    assert "+13125550162" in staff_client.get("/admin/outbox/delivery/").content.decode()


def test_the_delivery_changelist_filters_and_searches(staff_client, alpha, beta):
    dead = _sms(alpha, to="+13125550163", status=Delivery.Status.DEAD, idempotency_key="admin-find-me")
    Delivery.objects.filter(pk=dead.pk).update(provider_ref="SMadminref42")
    _sms(alpha, to="+13125550170", cause=("appointment", "appt-admin-4242"))
    _sms(beta, to="+17735550164")
    held = _sms(alpha, to="+13125550165")
    Delivery.objects.filter(pk=held.pk).update(hold_reason=Delivery.Hold.QUOTA)
    for query, shown, hidden in (
        ("status__exact=dead", "+13125550163", "+17735550164"),
        (f"business__id__exact={beta.pk}", "+17735550164", "+13125550163"),
        ("hold_reason__exact=quota", "+13125550165", "+13125550163"),
        ("channel__exact=sms&purpose__exact=auto_reply&kind__exact=transactional", "+13125550163", "nothing"),
        ("q=admin-find-me", "+13125550163", "+13125550165"),
        ("q=5550164", "+17735550164", "+13125550163"),
        ("q=SMadminref42", "+13125550163", "+13125550165"),
        ("q=appt-admin-4242", "+13125550170", "+13125550163"),
        (f"created_at__year={timezone.now().year}&status__exact=dead", "+13125550163", "+13125550170"),
    ):
        page = staff_client.get(f"/admin/outbox/delivery/?{query}")
        assert page.status_code == 200, query
        content = page.content.decode()
        assert shown in content and hidden not in content, query


def test_the_delivery_page_is_read_only_with_its_attempts(staff_client, alpha):
    delivery = _sms(alpha, to="+13125550166", status=Delivery.Status.FAILED)
    services.attempt_record(
        delivery=delivery,
        started_at=timezone.now(),
        outcome=DeliveryAttempt.Outcome.PERMANENT,
        provider_status="400",
        provider_answer="21211 invalid To",
        error="invalid number",
    )
    page = staff_client.get(f"/admin/outbox/delivery/{delivery.pk}/change/").content.decode()
    assert "21211 invalid To" in page and "Permanent failure" in page
    assert 'name="recipient"' not in page and 'name="status"' not in page  # Nothing to edit.
    assert 'name="attempt_rows-0-outcome"' not in page
    assert staff_client.get("/admin/outbox/delivery/add/").status_code == 403


def test_the_retry_action_requeues_failed_and_dead_and_skips_the_rest(staff_client, alpha, beta):
    with tenant_context(alpha):
        conversation = Conversation.objects.create(customer_number="+13125550167", business_number="+13125550111")
        message = message_queue_outbound(conversation=conversation, body="Can you come today?", kind="human")
        Message.objects.filter(pk=message.pk).update(status=Message.Status.FAILED)  # As the dispatcher left it.
    caused = Delivery.objects.get(cause_type="message", cause_id=str(message.pk))
    Delivery.objects.filter(pk=caused.pk).update(status=Delivery.Status.DEAD)
    failed = _sms(beta, to="+17735550168", status=Delivery.Status.FAILED)
    sent = _sms(alpha, to="+13125550169", status=Delivery.Status.SENT)
    response = staff_client.post(
        "/admin/outbox/delivery/",
        {"action": "retry_deliveries", "_selected_action": [caused.pk, failed.pk, sent.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "2 deliveries queued again; 1 skipped (only failed or dead deliveries can be retried)." in page
    statuses = dict(Delivery.objects.filter(pk__in=[caused.pk, failed.pk, sent.pk]).values_list("pk", "status"))
    assert statuses == {caused.pk: "queued", failed.pk: "queued", sent.pk: "sent"}
    # Run in Alpha's schema: the message was told its delivery is queued again.
    connection.set_tenant(alpha)
    assert Message.objects.get(pk=message.pk).status == Message.Status.QUEUED


def test_a_webhook_secret_never_shows_in_the_admin(staff_client, alpha):
    with tenant_context(alpha):
        endpoint, secret = services.webhook_endpoint_create(business=alpha, url="https://hooks.alpha.test/secret")
    listing = staff_client.get("/admin/outbox/webhookendpoint/?q=hooks.alpha").content.decode()
    assert "https://hooks.alpha.test/secret" in listing and endpoint.secret_prefix in listing
    page = staff_client.get(f"/admin/outbox/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret_prefix in page
    assert secret not in page and endpoint.secret_encrypted not in page and "secret_encrypted" not in page
    assert staff_client.get("/admin/outbox/webhookendpoint/add/").status_code == 403


def test_endpoints_are_switched_off_and_on_through_the_service(staff_client, alpha):
    with tenant_context(alpha):
        endpoint, _secret = services.webhook_endpoint_create(business=alpha, url="https://hooks.alpha.test/off")
    staff_client.post(
        "/admin/outbox/webhookendpoint/", {"action": "disable_endpoints", "_selected_action": [endpoint.pk]}
    )
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at is not None and endpoint.disabled_reason
    staff_client.post(
        "/admin/outbox/webhookendpoint/", {"action": "enable_endpoints", "_selected_action": [endpoint.pk]}
    )
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.disabled_at is None


def test_business_people_cannot_use_the_admin(client, alice):
    assert client.login(username=alice.email, password=PASSWORD)
    response = client.get("/admin/outbox/delivery/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
