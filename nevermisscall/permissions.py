"""DRF permissions shared by every app."""

import hmac

from django.conf import settings
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission


class IsBusinessMember(BasePermission):
    """An authenticated user or API key of the request's business."""

    message = "You must belong to this business."

    def has_permission(self, request, view):
        user = request.user
        tenant = getattr(request, "tenant", None)
        return bool(
            user and user.is_authenticated and tenant is not None and getattr(user, "business_id", None) == tenant.id
        )


def requires(permission: str):
    """``IsBusinessMember`` that also holds ``permission`` (see ``accounts.models.ROLE_PERMISSIONS``)."""

    class HasBusinessPermission(IsBusinessMember):
        message = f"This needs the '{permission}' permission."

        def has_permission(self, request, view):
            return super().has_permission(request, view) and request.user.has_business_permission(permission)

    HasBusinessPermission.__name__ = f"Requires_{permission.replace(':', '_')}"
    return HasBusinessPermission


def _matches(provided: str | None, expected: str) -> bool:
    return bool(provided) and hmac.compare_digest(provided.encode(), expected.encode())


class HasServiceKey(BasePermission):
    """``x-service-key`` for ``/internal/*`` (seed 000)."""

    def has_permission(self, request, view):
        if not _matches(request.headers.get("x-service-key"), settings.INTERNAL_SERVICE_KEY):
            raise NotAuthenticated("A valid x-service-key header is required.")
        return True


class IsPlatformAdmin(BasePermission):
    """Platform staff (admin JWT or session) or ``X-Admin-API-Key``."""

    message = "Platform administrators only."

    def has_permission(self, request, view):
        if _matches(request.headers.get("X-Admin-API-Key"), settings.ADMIN_API_KEY):
            return True
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "is_staff", False) and not user.business_id)
