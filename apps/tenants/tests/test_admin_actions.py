"""The Django admin's business actions for platform staff: the same services as /v1/admin/*, the
same audit entries (the staff member's e-mail, the client's IP), a confirmation step for the
destructive ones, and a new secret shown once through the messages framework."""

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.tenants.models import AdminAuditEntry, ApiCredential, Business
from apps.tenants.services import credential_create
from conftest import PASSWORD

CHANGELIST = reverse("admin:tenants_business_changelist")


@pytest.fixture
def staff_client(client, people, db):
    staff = User.objects.create_superuser(email="ops@nevermisscall.test", password=PASSWORD)
    assert client.login(username=staff.email, password=PASSWORD)
    client.staff = staff
    return client


def _act(client, action: str, business, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(business.pk)], **extra}
    return client.post(CHANGELIST, data, REMOTE_ADDR="198.51.100.7")


def _last_audit(business, action: str) -> AdminAuditEntry:
    return AdminAuditEntry.objects.filter(business=business, action=action).latest("id")


def test_suspend_asks_first_then_suspends_and_audits_who_and_where(staff_client, alpha):
    asking = _act(staff_client, "suspend", alpha)
    assert asking.status_code == 200 and alpha.name.encode() in asking.content
    assert b'name="post" value="yes"' in asking.content
    assert Business.objects.get(pk=alpha.pk).status == Business.Status.ACTIVE  # Nothing done yet.

    done = _act(staff_client, "suspend", alpha, post="yes", reason="unpaid invoice")
    assert done.status_code == 302
    assert Business.objects.get(pk=alpha.pk).status == Business.Status.SUSPENDED
    entry = _last_audit(alpha, "business.suspend")
    assert (entry.actor, entry.actor_user_id, entry.ip_address) == (
        "ops@nevermisscall.test",
        staff_client.staff.pk,
        "198.51.100.7",
    )
    assert entry.details == {"reason": "unpaid invoice"}

    _act(staff_client, "reactivate", alpha)  # Not destructive: no confirmation.
    assert Business.objects.get(pk=alpha.pk).status == Business.Status.ACTIVE
    assert _last_audit(alpha, "business.reactivate").actor == "ops@nevermisscall.test"


def test_rotating_the_api_key_shows_the_new_one_once_and_the_old_one_stops(staff_client, alpha):
    _, old_key = credential_create(business=alpha, kind=ApiCredential.Kind.API_KEY, name="Integrator")
    assert _act(staff_client, "rotate_api_key", alpha).status_code == 200  # The confirmation page.
    assert APIClient(HTTP_X_API_KEY=old_key).get("/api/calls").status_code == 200

    done = _act(staff_client, "rotate_api_key", alpha, post="yes")
    assert done.status_code == 302
    shown = staff_client.get(done["Location"]).content.decode()
    (new_key,) = re.findall(rf"{re.escape(alpha.name)}: new API key (nmc_[\w-]+)", shown)
    assert APIClient(HTTP_X_API_KEY=old_key).get("/api/calls").status_code == 401
    assert APIClient(HTTP_X_API_KEY=new_key).get("/api/calls").status_code == 200
    assert _last_audit(alpha, "business.rotate_key").ip_address == "198.51.100.7"
    # Shown once: the next page carries no secret.
    assert new_key not in staff_client.get(CHANGELIST).content.decode()


def test_rotating_the_widget_token_revokes_the_old_ones(staff_client, alpha):
    _act(staff_client, "rotate_widget_token", alpha, post="yes")
    active = ApiCredential.objects.filter(business=alpha, kind=ApiCredential.Kind.WIDGET_TOKEN, revoked_at=None)
    assert active.count() == 1
    assert _last_audit(alpha, "business.rotate_widget_token").actor == "ops@nevermisscall.test"


def test_deletion_is_requested_after_confirmation_and_can_be_cancelled(staff_client, beta, settings, tmp_path):
    settings.BUSINESS_EXPORT_DIR = str(tmp_path)
    assert _act(staff_client, "request_deletion", beta).status_code == 200
    assert Business.objects.get(pk=beta.pk).deletion_requested_at is None

    _act(staff_client, "request_deletion", beta, post="yes")
    requested = Business.objects.get(pk=beta.pk)
    assert requested.status == Business.Status.SUSPENDED and requested.deletion_due_at is not None
    assert list(tmp_path.iterdir())  # Exported first.

    refused = _act(staff_client, "reactivate", beta)  # The service refuses while a deletion is scheduled.
    assert "cancel the deletion first" in " ".join(str(m) for m in get_messages(refused.wsgi_request))
    _act(staff_client, "cancel_deletion", beta)
    assert Business.objects.get(pk=beta.pk).deletion_requested_at is None
    assert _last_audit(beta, "business.deletion_cancel").ip_address == "198.51.100.7"


def test_seed_demo_from_the_admin_is_audited(staff_client):
    url = reverse("admin:tenants_business_seed_demo")
    assert url.encode() in staff_client.get(CHANGELIST).content
    assert staff_client.get(url).status_code == 200
    done = staff_client.post(url, {"count": "1"}, REMOTE_ADDR="198.51.100.7")
    assert done.status_code == 302
    business = Business.objects.get(is_demo=True, name="Demo Plumbing Co")
    entry = AdminAuditEntry.objects.filter(action="demo.seed").latest("id")
    assert entry.details == {"businesses": [business.name]} and entry.actor == "ops@nevermisscall.test"


def test_business_users_cannot_use_the_actions(client, alice, alpha):
    client.force_login(alice)
    answer = client.post(CHANGELIST, {"action": "suspend", ACTION_CHECKBOX_NAME: [str(alpha.pk)], "post": "yes"})
    assert answer.status_code == 302 and "/login/" in answer["Location"]
    assert Business.objects.get(pk=alpha.pk).status == Business.Status.ACTIVE
