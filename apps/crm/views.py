"""Dashboard pages: customers and appointments (a list and a week calendar)."""

import zoneinfo
from datetime import datetime, time, timedelta

from django.db.models import Count, Q
from django.shortcuts import render
from django.utils.translation import gettext as _

from apps.crm import selectors
from apps.crm.models import Appointment, Customer
from nevermisscall.views import BadQuery, business_member_required, paginate, query_date, query_without_page


@business_member_required
def customer_list_page(request):
    search = request.GET.get("q", "").strip()[:100]
    queryset = Customer.objects.annotate(
        appointment_count=Count("appointments", filter=~Q(appointments__status=Appointment.Status.CANCELLED))
    ).order_by("-created_at")
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(phone__contains=search) | Q(email__icontains=search))
    context = {
        "page": paginate(request, queryset),
        "query": query_without_page(request),
        "search": search,
        "nav": "customers",
    }
    return render(request, "crm/customers.html", context)


@business_member_required
def appointment_week_page(request):
    tz = zoneinfo.ZoneInfo(request.tenant.timezone)
    today = datetime.now(tz).date()
    requested = query_date(request, "week") or today
    if not 1 < requested.year < 9999:  # A week needs its neighbours to exist.
        raise BadQuery(_("There is no week around %(day)s.") % {"day": requested.isoformat()})
    monday = requested - timedelta(days=requested.weekday())
    start = datetime.combine(monday, time.min, tzinfo=tz)
    end = start + timedelta(days=7)
    appointments = list(selectors.appointment_list(start=start, end=end))
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        days.append(
            {
                "date": day,
                "is_today": day == today,
                "appointments": [a for a in appointments if a.start.astimezone(tz).date() == day],
            }
        )
    context = {
        "days": days,
        "monday": monday,
        "previous": monday - timedelta(days=7),
        "next": monday + timedelta(days=7),
        "upcoming": selectors.appointment_list(start=datetime.now(tz)).exclude(status=Appointment.Status.CANCELLED)[
            :20
        ],
        "nav": "appointments",
    }
    return render(request, "crm/appointments.html", context)
