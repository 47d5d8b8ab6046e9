"""``x-service-key`` as a DRF authentication, for endpoints that internal callers share with users.

Views opt in by listing ``ServiceKeyAuthentication``; it is not a default, so the key never opens
a user endpoint by accident. The tenant comes from ``X-Business-ID`` (``from_service_key`` resolver).
"""

import hmac

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

SERVICE_PERMISSIONS = ["calls:read", "conversations:write", "customers:write", "appointments:write"]


def service_key_is_valid(provided: str | None) -> bool:
    return bool(provided) and hmac.compare_digest(provided.encode(), settings.INTERNAL_SERVICE_KEY.encode())


class ServicePrincipal:
    """The request.user of a service-key request, acting for the business named by X-Business-ID."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    role = "service"

    def __init__(self, business=None):
        self.pk = self.id = None
        self.business = business
        self.business_id = business.id if business is not None else None
        self.email = ""
        self.permissions = list(SERVICE_PERMISSIONS)

    def has_business_permission(self, permission: str) -> bool:
        return permission in self.permissions

    def __str__(self):
        return "service"


class ServiceKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        provided = request.headers.get("x-service-key")
        if not provided:
            return None
        if not service_key_is_valid(provided):
            raise exceptions.AuthenticationFailed("The service key is not valid.", code="token_invalid")
        tenant = getattr(request, "tenant", None)
        if tenant is None:
            raise exceptions.AuthenticationFailed("A service call must name its business in X-Business-ID.")
        return ServicePrincipal(tenant), None

    def authenticate_header(self, request):
        return "x-service-key"
