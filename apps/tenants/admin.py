from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.tenants import operator
from apps.tenants.demo import DEMO_CATALOGUE, DEMO_PASSWORD
from apps.tenants.models import AdminAuditEntry, ApiCredential, Business, Domain
from apps.tenants.resolvers import ADMIN_BUSINESS_SESSION_KEY
from nevermisscall.errors import DomainError


def _confirmed(model_admin, request, queryset, *, title: str, warning: str):
    """None once staff confirmed (the form below posted back with ``post``); until then the page asking."""
    if request.POST.get("post") == "yes":
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "warning": warning,
        "businesses": queryset,
        "action": request.POST.get("action", ""),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "admin/tenants/business/action_confirmation.html", context)


def _each(model_admin, request, queryset, act, done: str) -> None:
    """Run ``act(business, actor)`` for every selected business; a refusal is reported, not raised."""
    actor = operator.Actor.from_request(request)
    for business in queryset:
        try:
            act(business, actor)
        except DomainError as error:
            model_admin.message_user(request, f"{business}: {error.message}", messages.ERROR)
        else:
            model_admin.message_user(request, done % {"name": business}, messages.SUCCESS)


def _rotate(model_admin, request, queryset, kind: str, label: str) -> None:
    actor = operator.Actor.from_request(request)
    for business in queryset:
        _credential, secret, revoked = operator.business_credential_rotate(business=business, kind=kind, actor=actor)
        model_admin.message_user(
            request,
            _("%(name)s: new %(label)s %(secret)s (shown once; %(revoked)d revoked).")
            % {"name": business, "label": label, "secret": secret, "revoked": revoked},
            messages.WARNING,
        )


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
    change_list_template = "admin/tenants/business/change_list.html"
    actions = [
        "suspend",
        "reactivate",
        "rotate_api_key",
        "rotate_widget_token",
        "request_deletion",
        "cancel_deletion",
    ]

    # The same services as /v1/admin/* (apps/tenants/operator.py), audited with the staff member's
    # e-mail and client IP. Destructive ones ask for confirmation first.

    @admin.action(description=gettext_lazy("Suspend the selected businesses"))
    def suspend(self, request, queryset):
        asking = _confirmed(
            self,
            request,
            queryset,
            title=_("Suspend these businesses?"),
            warning=_("Their webhooks will answer empty, their users cannot sign in and nothing they queue is sent."),
        )
        if asking is not None:
            return asking
        reason = request.POST.get("reason", "")[:500]
        _each(
            self,
            request,
            queryset,
            lambda business, actor: operator.business_suspend(business=business, actor=actor, reason=reason),
            _("%(name)s is suspended."),
        )
        return None

    @admin.action(description=gettext_lazy("Reactivate the selected businesses"))
    def reactivate(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda business, actor: operator.business_reactivate(business=business, actor=actor),
            _("%(name)s is active again."),
        )

    @admin.action(description=gettext_lazy("Rotate the API key of the selected businesses"))
    def rotate_api_key(self, request, queryset):
        asking = _confirmed(
            self,
            request,
            queryset,
            title=_("Rotate these businesses' API keys?"),
            warning=_("Every active API key stops working at once; the new one is shown once."),
        )
        if asking is not None:
            return asking
        _rotate(self, request, queryset, ApiCredential.Kind.API_KEY, _("API key"))
        return None

    @admin.action(description=gettext_lazy("Rotate the widget token of the selected businesses"))
    def rotate_widget_token(self, request, queryset):
        asking = _confirmed(
            self,
            request,
            queryset,
            title=_("Rotate these businesses' widget tokens?"),
            warning=_("Their website widgets stop working until the new token is installed; it is shown once."),
        )
        if asking is not None:
            return asking
        _rotate(self, request, queryset, ApiCredential.Kind.WIDGET_TOKEN, _("widget token"))
        return None

    @admin.action(description=gettext_lazy("Request deletion of the selected businesses"))
    def request_deletion(self, request, queryset):
        asking = _confirmed(
            self,
            request,
            queryset,
            title=_("Request deletion of these businesses?"),
            warning=_("Their data is exported, they are suspended and deleted after the grace period."),
        )
        if asking is not None:
            return asking
        _each(
            self,
            request,
            queryset,
            lambda business, actor: operator.business_deletion_request(business=business, actor=actor),
            _("%(name)s: its data is exported and its deletion scheduled."),
        )
        return None

    @admin.action(description=gettext_lazy("Cancel the deletion of the selected businesses"))
    def cancel_deletion(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda business, actor: operator.business_deletion_cancel(business=business, actor=actor),
            _("%(name)s: its deletion is cancelled (it stays suspended until reactivated)."),
        )

    def seed_demo_view(self, request):
        """Seed the demo businesses (POST, with how many); GET shows what it will do."""
        self._check_staff(request)
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            try:
                count = min(max(int(request.POST.get("count", "1")), 1), len(DEMO_CATALOGUE))
            except ValueError:
                count = 1
            summaries = operator.demo_businesses_seed(actor=operator.Actor.from_request(request), count=count)
            for summary in summaries:
                self.message_user(
                    request,
                    _("%(name)s: %(calls)d calls, %(bookings)d bookings; owner %(email)s, password %(password)s.")
                    % {
                        "name": summary.name,
                        "calls": summary.calls,
                        "bookings": summary.bookings,
                        "email": summary.owner_email,
                        "password": DEMO_PASSWORD,
                    },
                    messages.SUCCESS,
                )
            return redirect("admin:tenants_business_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Seed demo businesses"),
            "catalogue": [name for name, _trade, _number in DEMO_CATALOGUE],
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/tenants/business/seed_demo.html", context)

    def get_urls(self):
        return [
            path("seed-demo/", self.admin_site.admin_view(self.seed_demo_view), name="tenants_business_seed_demo"),
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
