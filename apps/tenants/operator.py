"""The platform operator's writes on businesses (admin API ``/v1/admin/*``): suspend, reactivate,
rotate credentials, two-step deletion; each one written to the audit log with who, what, when and
from where (``AdminAuditEntry``)."""

import gzip
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.apps import apps as django_apps
from django.conf import settings
from django.core import serializers as django_serializers
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.accounts.models import User
from apps.tenants.models import AdminAuditEntry, ApiCredential, Business
from apps.tenants.selectors import business_cache_clear
from apps.tenants.services import credential_create
from nevermisscall.clientip import request_client_ip
from nevermisscall.errors import Conflict


@dataclass(frozen=True)
class Actor:
    """Who acts: ``admin-api-key`` or a platform staff member, and from where."""

    label: str
    user_id: int | None = None
    ip_address: str | None = None
    user_agent: str = ""
    request_id: str = ""

    @classmethod
    def from_request(cls, request) -> "Actor":
        user = getattr(request, "user", None)
        is_person = isinstance(user, User) and user.is_authenticated
        return cls(
            label=user.email if is_person else "admin-api-key",
            user_id=user.pk if is_person else None,
            ip_address=request_client_ip(request) or None,
            user_agent=request.headers.get("User-Agent", "")[:300],
            request_id=getattr(request, "request_id", "") or request.headers.get("X-Request-ID", "")[:64],
        )


def audit_record(*, actor: Actor, action: str, business: Business | None = None, details: dict | None = None):
    return AdminAuditEntry.objects.create(
        actor=actor.label,
        actor_user_id=actor.user_id,
        action=action,
        business=business,
        business_name=business.name if business is not None else "",
        ip_address=actor.ip_address,
        user_agent=actor.user_agent,
        request_id=actor.request_id,
        details=details or {},
    )


@transaction.atomic
def business_suspend(*, business: Business, actor: Actor, reason: str = "") -> Business:
    """Its webhooks answer empty TwiML and send nothing, its users cannot sign in, its queued
    texts are never sent; nothing is deleted."""
    locked = Business.objects.select_for_update().get(pk=business.pk)
    if locked.status != Business.Status.SUSPENDED:
        locked.status = Business.Status.SUSPENDED
        locked.suspended_at = timezone.now()
        locked.save(update_fields=["status", "suspended_at", "updated_at"])
    audit_record(actor=actor, action="business.suspend", business=locked, details={"reason": reason})
    business_cache_clear(locked)
    return locked


@transaction.atomic
def business_reactivate(*, business: Business, actor: Actor) -> Business:
    locked = Business.objects.select_for_update().get(pk=business.pk)
    if locked.deletion_requested_at is not None:
        raise Conflict("The business is scheduled for deletion: cancel the deletion first.")
    if locked.status != Business.Status.ACTIVE:
        locked.status = Business.Status.ACTIVE
        locked.suspended_at = None
        locked.save(update_fields=["status", "suspended_at", "updated_at"])
    audit_record(actor=actor, action="business.reactivate", business=locked)
    business_cache_clear(locked)
    return locked


CREDENTIAL_NAMES = {ApiCredential.Kind.API_KEY: "Default API key", ApiCredential.Kind.WIDGET_TOKEN: "Website widget"}


@transaction.atomic
def business_credential_rotate(*, business: Business, kind: str, actor: Actor) -> tuple[ApiCredential, str, int]:
    """Revoke every active credential of ``kind`` (they stop working at once: credentials are
    looked up in the database on every request, never cached) and issue one new one, whose secret
    is returned this once. Returns (credential, secret, how many were revoked)."""
    now = timezone.now()
    revoked = ApiCredential.objects.filter(business=business, kind=kind, revoked_at__isnull=True).update(revoked_at=now)
    credential, secret = credential_create(business=business, kind=kind, name=CREDENTIAL_NAMES[kind])
    audit_record(
        actor=actor,
        action=f"business.rotate_{'key' if kind == ApiCredential.Kind.API_KEY else 'widget_token'}",
        business=business,
        details={"revoked": revoked, "new_prefix": credential.prefix},
    )
    return credential, secret, revoked


def demo_businesses_seed(*, actor: Actor, count: int, calls_per_day: int = 3) -> list:
    """Seed the first ``count`` demo businesses (idempotent) and audit it."""
    from apps.tenants.demo import demo_catalogue_seed

    summaries = demo_catalogue_seed(count=count, calls_per_day=calls_per_day)
    audit_record(actor=actor, action="demo.seed", details={"businesses": [summary.name for summary in summaries]})
    return summaries


def _export_path(business: Business) -> Path:
    folder = Path(settings.BUSINESS_EXPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{business.schema_name}-{timezone.now():%Y%m%dT%H%M%S}.json.gz"


def business_export(*, business: Business) -> Path:
    """Everything the business owns, as Django's JSON serialization in one gzip file: its public
    rows (business, domains, users, credentials' metadata) and every model of its schema."""
    path = _export_path(business)
    tenant_models = [
        model
        for app_config in django_apps.get_app_configs()
        if app_config.name in settings.TENANT_APPS
        for model in app_config.get_models()
    ]
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write('{"business": ')
        handle.write(django_serializers.serialize("json", [business]))
        handle.write(', "domains": ' + django_serializers.serialize("json", business.domains.all()))
        users = User.objects.filter(business=business)
        handle.write(
            ', "users": '
            + django_serializers.serialize(
                "json", users, fields=("email", "first_name", "last_name", "role", "phone", "date_joined")
            )
        )
        handle.write(', "tenant": {')
        with schema_context(business.schema_name):
            for index, model in enumerate(tenant_models):
                label = f"{model._meta.app_label}.{model._meta.model_name}"
                rows = django_serializers.serialize(
                    "json", model.objects.all().order_by("pk").iterator(chunk_size=2000)
                )
                handle.write(("," if index else "") + json.dumps(label) + ": " + rows)
        handle.write("}}")
    return path


def business_deletion_request(*, business: Business, actor: Actor) -> Business:
    """Step one: export its data to a file, suspend it and start the grace period. Nothing is deleted."""
    if business.deletion_requested_at is not None:
        raise Conflict("A deletion of this business is already scheduled.")
    path = business_export(business=business)
    with transaction.atomic():
        locked = Business.objects.select_for_update().get(pk=business.pk)
        now = timezone.now()
        locked.status = Business.Status.SUSPENDED
        locked.suspended_at = locked.suspended_at or now
        locked.deletion_requested_at = now
        locked.deletion_due_at = now + timedelta(days=settings.BUSINESS_DELETION_GRACE_DAYS)
        locked.deletion_export = str(path)
        locked.save(
            update_fields=[
                "status",
                "suspended_at",
                "deletion_requested_at",
                "deletion_due_at",
                "deletion_export",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            action="business.deletion_request",
            business=locked,
            details={"export": str(path), "due_at": locked.deletion_due_at.isoformat()},
        )
    business_cache_clear(locked)
    return locked


@transaction.atomic
def business_deletion_cancel(*, business: Business, actor: Actor) -> Business:
    locked = Business.objects.select_for_update().get(pk=business.pk)
    if locked.deletion_requested_at is None:
        raise Conflict("No deletion of this business is scheduled.")
    locked.deletion_requested_at = locked.deletion_due_at = None
    locked.save(update_fields=["deletion_requested_at", "deletion_due_at", "updated_at"])
    audit_record(actor=actor, action="business.deletion_cancel", business=locked)
    return locked


@transaction.atomic
def business_delete(*, business: Business, actor: Actor, now=None) -> dict:
    """Step two, only once the grace period is over: the schema, its users and the business go."""
    now = now or timezone.now()
    locked = Business.objects.select_for_update().get(pk=business.pk)
    if locked.deletion_due_at is None:
        raise Conflict("Request the deletion first (it exports the data and starts the grace period).")
    if now < locked.deletion_due_at:
        raise Conflict(f"The grace period ends at {locked.deletion_due_at.isoformat()}.")
    summary = {
        "id": str(locked.pk),
        "name": locked.name,
        "schema": locked.schema_name,
        "export": locked.deletion_export,
    }
    audit_record(actor=actor, action="business.delete", business=locked, details=summary)
    business_cache_clear(locked)
    User.objects.filter(business=locked).delete()
    schema = locked.schema_name
    locked.delete(force_drop=False)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return summary
