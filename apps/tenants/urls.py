from django.urls import path

from apps.tenants import admin_api, api

urlpatterns = [
    # Seed 002's admin API (apps/tenants/admin_api.py). The literal paths come before the id ones.
    path("v1/admin/businesses", admin_api.AdminBusinessesApi.as_view(), name="admin-businesses"),
    path("v1/admin/businesses/usage", admin_api.AdminUsageApi.as_view(), name="admin-usage"),
    path("v1/admin/businesses/usage.csv", admin_api.AdminUsageCsvApi.as_view(), name="admin-usage-csv"),
    path("v1/admin/businesses/<str:business_id>", admin_api.AdminBusinessDetailApi.as_view(), name="admin-business"),
    path(
        "v1/admin/businesses/<str:business_id>/suspend",
        admin_api.AdminBusinessSuspendApi.as_view(),
        name="admin-business-suspend",
    ),
    path(
        "v1/admin/businesses/<str:business_id>/reactivate",
        admin_api.AdminBusinessReactivateApi.as_view(),
        name="admin-business-reactivate",
    ),
    path(
        "v1/admin/businesses/<str:business_id>/rotate-key",
        admin_api.AdminRotateKeyApi.as_view(),
        name="admin-rotate-key",
    ),
    path(
        "v1/admin/businesses/<str:business_id>/rotate-widget-token",
        admin_api.AdminRotateWidgetTokenApi.as_view(),
        name="admin-rotate-widget-token",
    ),
    path(
        "v1/admin/businesses/<str:business_id>/deletion",
        admin_api.AdminBusinessDeletionApi.as_view(),
        name="admin-business-deletion",
    ),
    path("v1/admin/demo-tenants", admin_api.AdminDemoTenantsApi.as_view(), name="admin-demo-tenants"),
    path("v1/admin/twilio/health", admin_api.AdminTwilioHealthApi.as_view(), name="admin-twilio-health"),
    path("v1/admin/audit", admin_api.AdminAuditApi.as_view(), name="admin-audit"),
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
