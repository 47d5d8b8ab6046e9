"""The CRM and AI-usage admin pages, through the business's domain, with their filters and search."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from apps.accounts.models import User
from apps.crm.services import appointment_book, customer_get_or_create_by_phone
from apps.dispatch.models import AiUsage
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_tenant_admin_pages_list_filter_and_search(client, people, alpha):
    connection.set_tenant(alpha)
    customer, _ = customer_get_or_create_by_phone(phone="+13125550121", name="Admin Findme")
    appointment_book(
        customer=customer,
        start=datetime(2026, 12, 2, 15, tzinfo=UTC),
        end=datetime(2026, 12, 2, 16, tzinfo=UTC),
        job_type="drain_cleaning",
    )
    AiUsage.objects.create(engine="openai", model="gpt-4o-mini", error="timeout", fallback_used=True)
    connection.set_schema_to_public()
    User.objects.create_superuser(email="ops@nevermisscall.test", password=PASSWORD)
    assert client.login(username="ops@nevermisscall.test", password=PASSWORD)
    host = alpha.domains.get().domain
    for path, needle in (
        ("/admin/crm/customer/?q=findme", b"Admin Findme"),
        ("/admin/crm/appointment/?status__exact=scheduled&is_emergency__exact=0", b"drain_cleaning"),
        ("/admin/crm/appointment/?q=5550121", b"drain_cleaning"),
        ("/admin/dispatch/aiusage/?fallback_used__exact=1&q=timeout", b"gpt-4o-mini"),
    ):
        page = client.get(path, HTTP_HOST=host)
        assert page.status_code == 200, path
        assert needle in page.content, path
