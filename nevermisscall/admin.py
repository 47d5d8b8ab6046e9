"""Admin helpers for models that live in tenant schemas."""

from django.contrib import admin, messages
from django.db import connection
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name

# Where staff choose the business whose data the admin shows (the public admin's business list).
BUSINESS_CHOOSER_URL = "admin:tenants_business_changelist"


class TenantModelAdmin(admin.ModelAdmin):
    """Admin for a tenant-schema model: usable once a business's schema is active.

    Staff choose the business on its page in the public admin ("Administer this business's data",
    kept in their session) or reach it through the business's domain. Without one these tables do
    not exist: the model is left off the index and its pages send staff to the business list.
    """

    def _in_tenant_schema(self) -> bool:
        return connection.schema_name != get_public_schema_name()

    def _choose_a_business_first(self, request):
        if self._in_tenant_schema():
            return None
        messages.info(
            request,
            _("%(things)s belong to one business: choose the business first.")
            % {"things": self.model._meta.verbose_name_plural.capitalize()},
        )
        return redirect(BUSINESS_CHOOSER_URL)

    def has_module_permission(self, request):
        return self._in_tenant_schema() and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._in_tenant_schema() and super().has_view_permission(request, obj)

    def changelist_view(self, request, extra_context=None):
        return self._choose_a_business_first(request) or super().changelist_view(request, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        return self._choose_a_business_first(request) or super().add_view(request, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return self._choose_a_business_first(request) or super().change_view(
            request, object_id, form_url, extra_context
        )

    def delete_view(self, request, object_id, extra_context=None):
        return self._choose_a_business_first(request) or super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        return self._choose_a_business_first(request) or super().history_view(request, object_id, extra_context)
