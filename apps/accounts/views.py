"""Dashboard pages about people: the landing page, the team, the password-reset request."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.accounts import selectors, services
from apps.accounts.models import Role, User
from apps.tenants.views import SETTINGS_SECTIONS
from nevermisscall.errors import DomainError
from nevermisscall.views import business_member_required, error_lines


@business_member_required
@require_http_methods(["GET", "POST"])
def team(request):
    can_manage = request.user.has_business_permission("users:manage")
    errors = []
    if request.method == "POST" and can_manage:
        action = request.POST.get("action")
        if action == "add":
            try:
                services.user_create(
                    business=request.tenant,
                    email=request.POST.get("email", ""),
                    password=request.POST.get("password", ""),
                    first_name=request.POST.get("first_name", "")[:100],
                    role=request.POST.get("role")
                    if request.POST.get("role") in {Role.ADMIN, Role.STAFF, Role.TECHNICIAN}
                    else Role.STAFF,
                )
            except DomainError as exc:
                errors = error_lines(exc)
            else:
                messages.success(request, _("Team member added."))
                return redirect("team")
        elif action in {"deactivate", "activate"}:
            member = selectors.user_get_in_business(business=request.tenant, user_id=request.POST.get("id"))
            if member is not None and member.role != Role.OWNER and member.pk != request.user.pk:
                User.objects.filter(pk=member.pk).update(is_active=action == "activate")
                messages.success(request, _("Updated."))
            return redirect("team")
    context = {
        "members": selectors.user_list(business=request.tenant),
        "can_manage": can_manage,
        "errors": errors,
        "roles": [
            (Role.ADMIN, Role.ADMIN.label),
            (Role.STAFF, Role.STAFF.label),
            (Role.TECHNICIAN, Role.TECHNICIAN.label),
        ],
        "sections": SETTINGS_SECTIONS,
        "section": "team",
        "nav": "settings",
    }
    return render(request, "accounts/team.html", context)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, with the link built from ``PUBLIC_BASE_URL``: Django's own takes the
    request's Host and scheme, so a forged Host (any allowed one, ``*`` outside production) would
    mail the victim a link to the attacker's site carrying a live reset token."""

    def form_valid(self, form):
        base = urlsplit(settings.PUBLIC_BASE_URL)
        self.extra_email_context = {  # Replaces what Django took from the request.
            "base_url": settings.PUBLIC_BASE_URL,
            "protocol": base.scheme,
            "domain": base.netloc,
            "site_name": "NeverMissCall",
        }
        return super().form_valid(form)
