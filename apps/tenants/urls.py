from django.urls import path

from apps.tenants import api

urlpatterns = [
    path("tenants", api.TenantRegisterApi.as_view(), name="tenant-register"),
    path("tenants/<str:tenant_id>", api.TenantDetailApi.as_view(), name="tenant-detail"),
    path("tenants/<str:tenant_id>/onboarding", api.TenantOnboardingApi.as_view(), name="tenant-onboarding"),
    path("config/<str:tenant_id>", api.ConfigApi.as_view(), name="config"),
    path("config/<str:tenant_id>/reset", api.ConfigResetApi.as_view(), name="config-reset"),
    path("api/keys", api.CredentialListApi.as_view(), name="credential-list"),
    path("api/keys/<str:credential_id>", api.CredentialDetailApi.as_view(), name="credential-detail"),
    path("api/keys/<str:credential_id>/rotate", api.CredentialRotateApi.as_view(), name="credential-rotate"),
    path("internal/health", api.InternalHealthApi.as_view(), name="internal-health"),
    path("internal/tenants/validate", api.InternalTenantValidateApi.as_view(), name="internal-tenant-validate"),
    path("internal/tenants/<str:tenant_id>", api.InternalTenantApi.as_view(), name="internal-tenant"),
    path("internal/tenants/<str:tenant_id>/users", api.InternalTenantUsersApi.as_view(), name="internal-tenant-users"),
    path("internal/config/<str:tenant_id>", api.InternalConfigApi.as_view(), name="internal-config"),
    path(
        "internal/config/<str:tenant_id>/create-defaults",
        api.InternalConfigDefaultsApi.as_view(),
        name="internal-config-defaults",
    ),
    path("internal/users/<str:user_id>", api.InternalUserApi.as_view(), name="internal-user"),
    path("internal/users/<str:user_id>/validate", api.InternalUserValidateApi.as_view(), name="internal-user-validate"),
]
