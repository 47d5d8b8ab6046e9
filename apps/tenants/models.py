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
