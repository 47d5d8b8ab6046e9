"""``X-API-Key`` authentication for integrators: the key acts for its business, not for a person."""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from apps.tenants.models import ApiCredential

API_KEY_PERMISSIONS = [
    "calls:read",
    "conversations:write",
    "customers:write",
    "appointments:write",
    "analytics:read",
    "jobs:write",
]


class ApiKeyPrincipal:
    """The request.user of an API-key request."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    role = "service"

    def __init__(self, credential: ApiCredential):
        self.credential = credential
        self.pk = self.id = None
        self.business_id = credential.business_id
        self.business = credential.business
        self.email = ""
        self.permissions = list(API_KEY_PERMISSIONS)

    def has_business_permission(self, permission: str) -> bool:
        return permission in self.permissions

    def __str__(self):
        return f"api-key:{self.credential.prefix}"


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        if not request.headers.get("X-API-Key"):
            return None
        credential = getattr(request, "nmc_credential", None)
        tenant = getattr(request, "tenant", None)
        if credential is None or credential.kind != ApiCredential.Kind.API_KEY:
            raise exceptions.AuthenticationFailed("The API key is not valid.", code="token_invalid")
        if tenant is None or tenant.id != credential.business_id:
            raise exceptions.AuthenticationFailed("The API key does not belong to this business.")
        return ApiKeyPrincipal(credential), credential

    def authenticate_header(self, request):
        return "X-API-Key"
