"""Django admin for platform staff (public and per-business), and Spanish pages."""

import pytest

from apps.accounts.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, people):
    User.objects.create_superuser(email="ops@nevermisscall.test", password=PASSWORD)
    assert client.login(username="ops@nevermisscall.test", password=PASSWORD)
    return client


def test_admin_lists_and_searches_every_public_model(staff_client, alpha):
    for path in (
        "/admin/tenants/business/?q=alpha",
        "/admin/accounts/user/?role__exact=owner",
        "/admin/tenants/apicredential/?kind__exact=api_key",
        "/admin/tenants/domain/?q=alpha",
    ):
        response = staff_client.get(path)
        assert response.status_code == 200, path
    assert b"Alpha Plumbing" in staff_client.get("/admin/tenants/business/?q=alpha").content


def test_tenant_models_are_administered_through_the_business_domain(staff_client, alpha):
    public_index = staff_client.get("/admin/")
    assert b"business_config" not in public_index.content
    host = alpha.domains.get().domain
    page = staff_client.get("/admin/business_config/businessconfig/", HTTP_HOST=host)
    assert page.status_code == 200
    assert b"Business settings" in page.content


def test_pages_follow_the_browser_and_the_users_language(client, alice):
    assert "Iniciar sesión" in client.get("/login/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    alice.language = "es"
    alice.save(update_fields=["language"])
    assert client.login(username=alice.email, password=PASSWORD)
    assert "Cerrar sesión" in client.get("/settings/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
