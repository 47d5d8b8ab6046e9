"""Businesses (tenants), their domains and their API credentials — all in the public schema."""

import uuid
import zoneinfo

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

from nevermisscall.choices import Trade

TIMEZONE_CHOICES = sorted((tz, tz) for tz in zoneinfo.available_timezones())


class Business(TenantMixin):
    """A customer of the platform. Each one owns a PostgreSQL schema (``schema_name``)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    trade = models.CharField(max_length=20, choices=Trade.choices, default=Trade.PLUMBING)
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES, default="America/New_York")
    phone = models.CharField(max_length=20, blank=True, help_text=_("Main business phone, E.164"))
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    onboarding_step = models.CharField(max_length=40, default="business_details")
    onboarding_completed_steps = models.JSONField(default=list, blank=True)
    onboarding_completed_at = models.DateTimeField(null=True, blank=True)
    is_demo = models.BooleanField(default=False)
    # The tenant migrations its schema is known to carry (apps/tenants/schemas.py fingerprint):
    # ``release`` migrates only businesses whose version differs from the code's.
    schema_version = models.CharField(max_length=64, blank=True, default="")
    # Set by ``release`` when this business's migrations failed (rolled back whole): it is served a
    # maintenance answer until a later release migrates it.
    migration_failed_at = models.DateTimeField(null=True, blank=True)
    migration_error = models.TextField(blank=True, default="")
    suspended_at = models.DateTimeField(null=True, blank=True)
    # Deletion is two-step: requested (data exported, grace period starts), then carried out.
    deletion_requested_at = models.DateTimeField(null=True, blank=True)
    deletion_due_at = models.DateTimeField(null=True, blank=True)
    deletion_export = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        verbose_name_plural = "businesses"
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def onboarding_completed(self) -> bool:
        return self.onboarding_completed_at is not None

    @property
    def in_maintenance(self) -> bool:
        """Its last migration failed: it is served a maintenance answer, never half-migrated code."""
        return self.migration_failed_at is not None

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """A new schema is a clone of the base schema (apps/tenants/schemas.py), not a migration run."""
        from apps.tenants.schemas import schema_create

        self.schema_version = schema_create(schema_name=self.schema_name, check_if_exists=check_if_exists)
        if self.pk and self.schema_version:
            type(self).objects.filter(pk=self.pk).update(schema_version=self.schema_version)


class AdminAuditEntry(models.Model):
    """One action of a platform operator through the admin API: who, what, when, from where."""

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(db_default=Now(), db_index=True)
    actor = models.CharField(max_length=200, help_text=_("admin-api-key or the staff user's e-mail"))
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=60)
    business = models.ForeignKey(
        Business, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    business_name = models.CharField(max_length=200, blank=True, help_text=_("Kept after a deletion"))
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "admin audit entries"
        indexes = [models.Index(fields=["business", "-created_at"])]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action}"


class Domain(DomainMixin):
    """A hostname that selects its business (e.g. ``acme.nevermisscall.app``)."""


class ApiCredential(models.Model):
    """A per-business API key or widget token. Only a SHA-256 digest of the secret is stored."""

    class Kind(models.TextChoices):
        API_KEY = "api_key", _("API key")
        WIDGET_TOKEN = "widget_token", _("Widget token")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="credentials")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text=_("First characters of the secret, to recognise it"))
    secret_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_default=Now())
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["business", "kind"])]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WorkMark(models.Model):
    """A business may have beat-sweep work due from ``at`` on (apps/tenants/fanout.py).

    Written by PostgreSQL triggers on the tenant tables when a row becomes pending (an unapplied
    call outcome, an undecided inbound text, an open lead), so a sweep reads this one table instead
    of probing every schema; rows only ever inserted by the writers, deleted by the sweep that saw
    them once the business has been visited."""

    id = models.BigAutoField(primary_key=True)
    schema_name = models.CharField(max_length=63)
    kind = models.CharField(max_length=20)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["kind", "at"])]

    def __str__(self):
        return f"{self.schema_name} {self.kind} {self.at:%Y-%m-%d %H:%M:%S}"
