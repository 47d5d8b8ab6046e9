"""One user model for the whole platform, in the public schema."""

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone as django_timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    STAFF = "staff", _("Staff")
    TECHNICIAN = "technician", _("Technician")


# What each role may do; carried in the JWT's ``permissions`` claim.
ROLE_PERMISSIONS = {
    Role.OWNER: [
        "business:manage",
        "config:write",
        "users:manage",
        "api_keys:manage",
        "phone_numbers:manage",
        "calls:read",
        "conversations:write",
        "customers:write",
        "appointments:write",
        "analytics:read",
        "analytics:write",
        "alerts:manage",
        "deliveries:read",
        "deliveries:manage",
    ],
    Role.ADMIN: [
        "config:write",
        "users:manage",
        "api_keys:manage",
        "phone_numbers:manage",
        "calls:read",
        "conversations:write",
        "customers:write",
        "appointments:write",
        "analytics:read",
        "analytics:write",
        "alerts:manage",
        "deliveries:read",
        "deliveries:manage",
    ],
    Role.STAFF: [
        "calls:read",
        "conversations:write",
        "customers:write",
        "appointments:write",
        "analytics:read",
        "deliveries:read",
    ],
    Role.TECHNICIAN: ["appointments:read", "jobs:write"],
}
PLATFORM_PERMISSIONS = ["platform:admin"]


class UserStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    BUSY = "busy", _("Busy")
    OFFLINE = "offline", _("Offline")


class DigestChannel(models.TextChoices):
    """How a person gets the business's daily digest (apps/campaigns): owners and managers choose."""

    OFF = "off", _("Off")
    SMS = "sms", _("Text message")
    EMAIL = "email", _("Email")


# Who may receive the daily digest.
DIGEST_ROLES = (Role.OWNER, Role.ADMIN)


def default_preferences() -> dict:
    return {
        "notifications": {"email": True, "sms": True, "push": False, "missed_call": True, "emergency": True},
        "dashboard": {"theme": "light", "sound": True, "default_view": "overview"},
    }


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **fields):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True, business=None)
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. Business users have a business and a role; platform staff have neither."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    timezone = models.CharField(max_length=64, blank=True)
    language = models.CharField(max_length=5, default="en", choices=[("en", "English"), ("es", "Español")])
    business = models.ForeignKey(
        "tenants.Business", null=True, blank=True, on_delete=models.CASCADE, related_name="users"
    )
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    photo = models.CharField(max_length=255, blank=True, help_text=_("Path of the profile photo under MEDIA_ROOT"))
    preferences = models.JSONField(default=default_preferences, blank=True)
    # Columns, not preferences: the campaigns' SQL selects who is due (docs/campaigns.md).
    digest_channel = models.CharField(
        max_length=5,
        choices=DigestChannel.choices,
        default=DigestChannel.OFF,
        help_text=_("How this person gets the daily digest: their phone (text) or their e-mail"),
    )
    digest_hour = models.PositiveSmallIntegerField(
        default=18, help_text=_("The hour of the day (0-23, the business's time zone) the digest is sent at")
    )
    status = models.CharField(max_length=20, choices=UserStatus.choices, default=UserStatus.OFFLINE)
    status_message = models.CharField(max_length=200, blank=True)
    status_updated_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text=_("Platform staff: may use the Django admin"))
    date_joined = models.DateTimeField(default=django_timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        indexes = [models.Index(fields=["business", "role"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(business__isnull=True) | ~models.Q(role=""),
                name="business_user_has_role",
            ),
            models.CheckConstraint(condition=models.Q(digest_hour__lte=23), name="user_digest_hour"),
            models.CheckConstraint(
                condition=models.Q(digest_channel__in=["off", "sms", "email"]), name="user_digest_channel"
            ),
        ]

    def __str__(self):
        return self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def permissions(self) -> list[str]:
        if self.business_id is None:
            return list(PLATFORM_PERMISSIONS) if self.is_staff else []
        return list(ROLE_PERMISSIONS.get(self.role, []))

    def has_business_permission(self, permission: str) -> bool:
        return permission in self.permissions
