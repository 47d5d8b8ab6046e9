from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.tenants.models import AdminAuditEntry, ApiCredential, Business, Domain
from apps.tenants.resolvers import ADMIN_BUSINESS_SESSION_KEY


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Business)
class BusinessAdmin(admin.ModelAdmin):
    """Businesses; a business's own data (calls, messages, bookings…) is administered by choosing it here."""

    list_display = ["name", "slug", "schema_name", "trade", "status", "onboarding_step", "is_demo", "created_at"]
    list_filter = ["status", "trade", "is_demo", "created_at"]
    search_fields = ["name", "slug", "schema_name", "email", "phone"]
    readonly_fields = ["schema_name", "created_at", "updated_at"]
    inlines = [DomainInline]
    change_form_template = "admin/tenants/business/change_form.html"

    def get_urls(self):
        return [
            path("<uuid:business_id>/administer/", self.admin_site.admin_view(self.administer_view), name="administer"),
            path("leave/", self.admin_site.admin_view(self.leave_view), name="administer_leave"),
            *super().get_urls(),
        ]

    def _check_staff(self, request) -> None:
        if request.user.business_id is not None or not self.has_view_permission(request):
            raise PermissionDenied

    @method_decorator(require_POST)
    def administer_view(self, request, business_id):
        """Show this business's data in the admin until staff leave it (their session remembers)."""
        self._check_staff(request)
        business = get_object_or_404(Business, pk=business_id)
        if business.status != Business.Status.ACTIVE:
            messages.error(request, _("%(name)s is suspended: reactivate it to see its data.") % {"name": business})
            return redirect("admin:tenants_business_change", business.pk)
        request.session[ADMIN_BUSINESS_SESSION_KEY] = str(business.pk)
        messages.success(request, _("You are now administering %(name)s.") % {"name": business})
        return redirect("admin:index")

    @method_decorator(require_POST)
    def leave_view(self, request):
        self._check_staff(request)
        request.session.pop(ADMIN_BUSINESS_SESSION_KEY, None)
        return redirect("admin:tenants_business_changelist")


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    list_filter = ["is_primary"]
    search_fields = ["domain", "tenant__name"]


@admin.register(ApiCredential)
class ApiCredentialAdmin(admin.ModelAdmin):
    list_display = ["name", "business", "kind", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["kind", "revoked_at", "created_at"]
    search_fields = ["name", "prefix", "business__name"]
    readonly_fields = ["secret_hash", "prefix", "created_at", "last_used_at"]


@admin.register(AdminAuditEntry)
class AdminAuditEntryAdmin(admin.ModelAdmin):
    """What platform operators did through the admin API: read-only, nobody edits history."""

    list_display = ["created_at", "actor", "action", "business_name", "ip_address", "request_id"]
    list_filter = ["action", "created_at"]
    search_fields = ["actor", "action", "business_name", "ip_address", "request_id"]
    readonly_fields = [field.name for field in AdminAuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
