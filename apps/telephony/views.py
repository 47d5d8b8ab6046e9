"""Dashboard pages: the calls list and the business's phone numbers."""

import zoneinfo
from datetime import datetime, time

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.telephony import phone_numbers, selectors
from apps.telephony.models import Call, PhoneNumber
from apps.telephony.providers import twilio_numbers
from apps.tenants.views import SETTINGS_SECTIONS
from nevermisscall.errors import DomainError
from nevermisscall.phone import InvalidPhoneNumber, to_e164
from nevermisscall.views import (
    BadQuery,
    business_member_required,
    error_lines,
    paginate,
    query_choice,
    query_date,
    query_without_page,
)


def _call_filters(request, business) -> dict:
    """The list's filters; a value that cannot be used is a BadQuery (the 400 page), never a 500."""
    tz = zoneinfo.ZoneInfo(business.timezone)
    filters = {}
    problems = []
    for name, allowed in (("status", Call.Status.values), ("direction", Call.Direction.values), ("recovered", ["1"])):
        try:
            value = query_choice(request, name, allowed)
        except BadQuery as exc:
            problems += exc.problems
            continue
        if value:
            filters[name] = value
    caller = "".join(ch for ch in request.GET.get("caller", "") if ch.isdigit() or ch == "+")[:20]
    if caller:
        filters["caller"] = caller
    for name, bound in (("date_from", time.min), ("date_to", time.max)):
        try:
            day = query_date(request, name)
        except BadQuery as exc:
            problems += exc.problems
            continue
        if day:
            filters[name] = datetime.combine(day, bound, tzinfo=tz)
    if problems:
        raise BadQuery(problems)
    return filters


@business_member_required
def call_list_page(request):
    page = paginate(request, selectors.call_list(filters=_call_filters(request, request.tenant)))
    context = {
        "page": page,
        "query": query_without_page(request),
        "statuses": Call.Status.choices,
        "directions": Call.Direction.choices,
        "nav": "calls",
        "params": request.GET,
    }
    template = "telephony/_calls_table.html" if request.htmx else "telephony/calls.html"
    return render(request, template, context)


@business_member_required
@require_http_methods(["GET", "POST"])
def phone_numbers_page(request):
    can_manage = request.user.has_business_permission("phone_numbers:manage")
    available, errors = [], []
    if request.method == "POST" and can_manage:
        try:
            if request.POST.get("action") == "search":
                area_code = request.POST.get("area_code", "").strip()
                available = twilio_numbers.search_available(
                    country="US",
                    area_code=int(area_code) if area_code.isdigit() and len(area_code) == 3 else None,
                    contains="".join(ch for ch in request.POST.get("contains", "") if ch.isalnum())[:10],
                    flags={},
                    limit=10,
                )
            elif request.POST.get("action") == "provision":
                phone_numbers.phone_number_provision(phone_number=to_e164(request.POST.get("phone_number", "")))
                messages.success(request, _("Your new number is ready. Calls to it now forward to you."))
                return redirect("phone-numbers")
        except DomainError as exc:
            errors = error_lines(exc)
        except InvalidPhoneNumber:
            errors = [_("That is not a valid phone number.")]
    context = {
        "numbers": selectors.phone_number_list(filters={"status": PhoneNumber.Status.ACTIVE}),
        "available": available,
        "errors": errors,
        "can_manage": can_manage,
        "sections": SETTINGS_SECTIONS,
        "section": "phone-numbers",
        "nav": "settings",
    }
    return render(request, "telephony/phone_numbers.html", context)
