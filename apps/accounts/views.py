"""Dashboard pages about people: the landing page and the team."""

from django.contrib import messages
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
