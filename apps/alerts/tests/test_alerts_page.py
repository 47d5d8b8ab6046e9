"""The dashboard's alerts page: open alerts with acknowledge, snooze and resolve (htmx swaps the
row), in English and Spanish; Charlie's dashboard shows none of Alpha's and cannot act on them."""

from django.urls import reverse
from django_tenants.utils import tenant_context

from apps.alerts import services
from apps.alerts.models import Alert


def raise_one(alpha, title="Missed calls piling up"):
    with tenant_context(alpha):
        return services.alert_raise(fingerprint=f"page:{title}", title=title, source="custom", alert_type="custom")


def test_the_page_lists_open_alerts_and_acts_with_htmx(owner_client, alpha):
    alert = raise_one(alpha)
    page = owner_client.get(reverse("alerts-page"))
    assert page.status_code == 200
    assert b"Missed calls piling up" in page.content and b"Acknowledge" in page.content
    row = owner_client.post(reverse("alerts-page-acknowledge", args=[alert.id]), HTTP_HX_REQUEST="true")
    assert row.status_code == 200 and b"Acknowledged" in row.content and b">Acknowledge<" not in row.content
    row = owner_client.post(reverse("alerts-page-snooze", args=[alert.id]), {"minutes": "60"}, HTTP_HX_REQUEST="true")
    assert row.status_code == 200 and b"Snoozed" in row.content
    assert owner_client.post(reverse("alerts-page-snooze", args=[alert.id]), {"minutes": "7"}).status_code == 404
    done = owner_client.post(reverse("alerts-page-resolve", args=[alert.id]))
    assert done.status_code == 302
    again = owner_client.post(reverse("alerts-page-resolve", args=[alert.id]), HTTP_HX_REQUEST="true")
    assert again.status_code == 409
    with tenant_context(alpha):
        assert Alert.objects.get(pk=alert.pk).state == "resolved"
    assert b"Missed calls piling up" not in owner_client.get(reverse("alerts-page")).content
    assert b"Missed calls piling up" in owner_client.get(reverse("alerts-page"), {"state": "resolved"}).content
    assert owner_client.get(reverse("alerts-page"), {"state": "sleeping"}).status_code == 400


def test_the_page_speaks_spanish(client, alice, alpha):
    from conftest import PASSWORD

    raise_one(alpha)
    alice.language = "es"
    alice.save(update_fields=["language"])
    assert client.login(username=alice.email, password=PASSWORD)
    page = client.get(reverse("alerts-page"))
    assert b"Reconocer" in page.content and b"Posponer" in page.content


def test_charlie_sees_and_touches_nothing_of_alphas(client, charlie, alpha, beta):
    from django.utils import timezone

    from conftest import PASSWORD

    beta.onboarding_completed_at = timezone.now()
    beta.save(update_fields=["onboarding_completed_at"])
    alert = raise_one(alpha, "Alpha only")
    assert client.login(username=charlie.email, password=PASSWORD)
    assert b"Alpha only" not in client.get(reverse("alerts-page")).content
    for name in ("alerts-page-acknowledge", "alerts-page-resolve"):
        assert client.post(reverse(name, args=[alert.id])).status_code == 404
    assert client.post(reverse("alerts-page-snooze", args=[alert.id]), {"minutes": "60"}).status_code == 404
    with tenant_context(alpha):
        assert Alert.objects.get(pk=alert.pk).state == "active"
