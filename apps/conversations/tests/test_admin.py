"""The assistant sessions' admin page, through the business's domain."""

import pytest
from django.db import connection

from apps.accounts.models import User
from apps.conversations.models import AssistantSession
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_assistant_session_admin_lists_filters_and_searches(client, people, alpha):
    connection.set_tenant(alpha)
    session = AssistantSession.objects.create(channel="voice", caller_phone="+13125550177", call_sid="CAadminfind")
    AssistantSession.objects.create(channel="web", caller_phone="+13125550178")
    connection.set_schema_to_public()
    User.objects.create_superuser(email="ops-sessions@nevermisscall.test", password=PASSWORD)
    assert client.login(username="ops-sessions@nevermisscall.test", password=PASSWORD)
    host = alpha.domains.get().domain
    page = client.get("/admin/conversations/assistantsession/?channel__exact=voice&q=adminfind", HTTP_HOST=host)
    assert page.status_code == 200
    assert b"+13125550177" in page.content and b"+13125550178" not in page.content
    detail = client.get(f"/admin/conversations/assistantsession/{session.pk}/change/", HTTP_HOST=host)
    assert detail.status_code == 200
