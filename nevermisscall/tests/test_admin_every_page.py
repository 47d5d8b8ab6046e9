"""Every admin page of every model, as platform staff use them: the public admin, then one business.

Models that live in business schemas are reached by choosing the business on its admin page; on the
public admin they send staff to the business list instead of failing on a table that is not there.
"""

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from model_bakery import baker

from apps.accounts.models import User
from apps.crm.models import Reschedule
from apps.tenants.resolvers import ADMIN_BUSINESS_SESSION_KEY
from conftest import PASSWORD
from nevermisscall.admin import TenantModelAdmin

pytestmark = pytest.mark.django_db

TENANT_APP_LABELS = {config.label for config in django_apps.get_app_configs() if config.name in settings.TENANT_APPS}


def _is_tenant_model(model) -> bool:
    return model._meta.app_label in TENANT_APP_LABELS


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def staff(people):
    return User.objects.create_superuser(email="walker@nevermisscall.test", password=PASSWORD)


@pytest.fixture
def staff_client(client, staff):
    assert client.login(username=staff.email, password=PASSWORD)
    return client


def _periodic_task():
    every_ten_seconds = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.SECONDS)
    return PeriodicTask.objects.create(name="walk", task="outbox.sweep", interval=every_ten_seconds)


# Models whose rows model_bakery cannot make alone (a moved reschedule needs its times: a request).
MAKERS = {PeriodicTask: _periodic_task, Reschedule: lambda: baker.make(Reschedule, status="requested")}


def _one_of_each(models) -> dict:
    """A row of every model (made where the fixtures have none) in the active schema."""
    return {
        model: model._default_manager.first() or MAKERS.get(model, lambda m=model: baker.make(m))() for model in models
    }


def _walk(client, staff, model, row) -> None:
    """The list (and a search), the add form, the row's change, history and delete-confirmation
    pages: 200 each, or 403 where the model's admin allows no adding or deleting; never a 500."""
    request = RequestFactory().get("/admin/")
    request.user = staff
    model_admin = admin.site._registry[model]
    allowed = {
        "add": model_admin.has_add_permission(request),
        "delete": model_admin.has_delete_permission(request, row),
    }
    pages = [(_url(model, "changelist"), 200), (_url(model, "changelist") + "?q=a", 200)]
    pages.append((_url(model, "add"), 200 if allowed["add"] else 403))
    pages += [(_url(model, view, row.pk), 200) for view in ("change", "history")]
    pages.append((_url(model, "delete", row.pk), 200 if allowed["delete"] else 403))
    for url, status in pages:
        assert client.get(url).status_code == status, url


def test_every_tenant_model_is_administered_as_one(people):
    tenant_models = [model for model in admin.site._registry if _is_tenant_model(model)]
    assert tenant_models
    for model in tenant_models:
        assert isinstance(admin.site._registry[model], TenantModelAdmin), model


def test_every_public_page_answers_and_business_pages_send_staff_to_choose(staff_client, staff, alpha):
    public_models = [model for model in admin.site._registry if not _is_tenant_model(model)]
    for model, row in _one_of_each(public_models).items():
        _walk(staff_client, staff, model, row)
    for model in admin.site._registry:
        if _is_tenant_model(model):
            response = staff_client.get(_url(model, "changelist"))
            assert response.status_code == 302, model
            assert response["Location"] == reverse("admin:tenants_business_changelist")
    assert (
        "choose the business first" in staff_client.get(reverse("admin:tenants_business_changelist")).content.decode()
    )


def test_staff_choose_a_business_and_every_page_of_its_data_answers(staff_client, staff, alpha):
    page = staff_client.get(reverse("admin:tenants_business_change", args=[alpha.pk])).content.decode()
    assert "Administer this business's data" in page
    assert staff_client.get(reverse("admin:administer", args=[alpha.pk])).status_code == 405
    response = staff_client.post(reverse("admin:administer", args=[alpha.pk]))
    assert response.status_code == 302 and staff_client.session[ADMIN_BUSINESS_SESSION_KEY] == str(alpha.pk)
    index = staff_client.get(reverse("admin:index")).content.decode()
    assert "Showing the data of <strong>Alpha" in index and "/admin/telephony/call/" in index

    connection.set_tenant(alpha)
    rows = _one_of_each([model for model in admin.site._registry if _is_tenant_model(model)])
    connection.set_schema_to_public()
    for model, row in rows.items():
        _walk(staff_client, staff, model, row)
    for model in admin.site._registry:  # The platform's pages stay reachable while a business is chosen.
        if not _is_tenant_model(model):
            assert staff_client.get(_url(model, "changelist")).status_code == 200, model

    staff_client.post(reverse("admin:administer_leave"))
    assert ADMIN_BUSINESS_SESSION_KEY not in staff_client.session
    assert staff_client.get(_url(next(iter(rows)), "changelist")).status_code == 302


def test_a_business_user_cannot_choose_a_business_in_the_admin(client, alice, beta):
    alice.is_staff = True  # Even a business user wrongly marked staff.
    alice.save(update_fields=["is_staff"])
    assert client.login(username=alice.email, password=PASSWORD)
    assert client.post(reverse("admin:administer", args=[beta.pk])).status_code == 403
    assert ADMIN_BUSINESS_SESSION_KEY not in client.session
