"""Admin helpers for models that live in tenant schemas."""

from django.contrib import admin
from django.db import connection
from django_tenants.utils import get_public_schema_name


class TenantModelAdmin(admin.ModelAdmin):
    """Admin for a tenant-schema model: shown only when a business's schema is active.

    Platform staff reach a business's data through its domain (``<slug>.<TENANT_BASE_DOMAIN>/admin/``);
    on the public host these tables do not exist, so the pages are hidden instead of failing.
    """

    def _in_tenant_schema(self) -> bool:
        return connection.schema_name != get_public_schema_name()

    def has_module_permission(self, request):
        return self._in_tenant_schema() and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._in_tenant_schema() and super().has_view_permission(request, obj)
