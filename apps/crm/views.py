"""Dashboard pages: customers (list with search, detail with the timeline), appointments (a week
calendar where an appointment is dragged to another hour to reschedule it) and a technician's day."""

import zoneinfo
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.crm import selectors, services
from apps.crm.hooks import TimelineCursor
from apps.crm.models import Appointment, Reschedule
from nevermisscall.errors import Conflict, DomainError
from nevermisscall.views import BadQuery, business_member_required, paginate, query_date, query_without_page

TIMELINE_PAGE = 50
FIRST_HOUR, LAST_HOUR = 7, 19  # The calendar's rows; earlier or later appointments widen it.


def _can(request, permission: str) -> bool:
    return request.user.has_business_permission(permission)


def _require(request, permission: str):
    if not _can(request, permission):
        raise Http404


@business_member_required
def customer_list_page(request):
    _require(request, "customers:write")
    search = request.GET.get("q", "").strip()[:100]
    queryset = selectors.customer_search(query=search) if search else selectors.customer_list()
    queryset = queryset.annotate(
        appointment_count=Count("appointments", filter=~Q(appointments__status=Appointment.Status.CANCELLED))
    )
    context = {
        "page": paginate(request, queryset),
        "query": query_without_page(request),
        "search": search,
        "nav": "customers",
    }
    return render(request, "crm/customers.html", context)


@business_member_required
def customer_detail_page(request, customer_id):
    _require(request, "customers:write")
    customer = selectors.customer_get(customer_id=customer_id)
    if customer is None:
        raise Http404
    cursor = None
    if request.GET.get("cursor"):
        cursor = TimelineCursor.decode(request.GET["cursor"])
        if cursor is None:
            raise BadQuery(_("That page of the timeline does not exist."))
    items, next_cursor = selectors.customer_timeline(customer=customer, limit=TIMELINE_PAGE, cursor=cursor)
    labels = dict(Appointment.Status.choices)
    movers = dict(Reschedule.MovedBy.choices)
    for item in items:
        if item.kind == "appointment":
            item.data["status_label"] = labels.get(item.data["status"], item.data["status"])
        elif item.kind == "reschedule":
            item.data["moved_by_label"] = movers.get(item.data["moved_by"], item.data["moved_by"])
            for name in ("from_start", "to_start"):
                item.data[f"{name}_label"] = _local_label(request, item.data[name]) if item.data[name] else ""
    context = {
        "customer": customer,
        "numbers": selectors.customer_numbers(customer=customer),
        "items": items,
        "next_cursor": next_cursor.encode() if next_cursor else "",
        "nav": "customers",
    }
    return render(request, "crm/customer_detail.html", context)


def _zone(request):
    return zoneinfo.ZoneInfo(request.tenant.timezone)


def _local_label(request, iso: str) -> str:
    """An ISO time written in the business's time zone, as the calendar shows it ("Tue 1 Dec, 9 a.m.")."""
    local = datetime.fromisoformat(iso).astimezone(_zone(request))
    return f"{date_format(local, 'D j M')}, {date_format(local, 'TIME_FORMAT')}"


def _week_context(request, monday):
    tz = _zone(request)
    today = datetime.now(tz).date()
    start = datetime.combine(monday, time.min, tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=tz)
    appointments = list(selectors.appointment_list(start=start, end=end).exclude(status=Appointment.Status.CANCELLED))
    hours = [a.start.astimezone(tz).hour for a in appointments]
    first, last = min([FIRST_HOUR, *hours]), max([LAST_HOUR, *hours])
    dates = [monday + timedelta(days=offset) for offset in range(7)]
    by_slot = {}
    for appointment in appointments:
        local = appointment.start.astimezone(tz)
        by_slot.setdefault((local.date(), local.hour), []).append(appointment)
    rows = [
        {
            "hour": time(hour),
            "slots": [
                {
                    "date": day,
                    "value": f"{day.isoformat()}T{hour:02d}:00",
                    "appointments": by_slot.get((day, hour), []),
                }
                for day in dates
            ],
        }
        for hour in range(first, last + 1)
    ]
    return {
        "days": [{"date": day, "is_today": day == today} for day in dates],
        "rows": rows,
        "monday": monday,
        "previous": monday - timedelta(days=7),
        "next": monday + timedelta(days=7),
        "can_move": _can(request, "appointments:write"),
        "upcoming": selectors.appointment_list(start=datetime.now(tz)).exclude(status=Appointment.Status.CANCELLED)[
            :20
        ],
    }


def _monday(request):
    tz = _zone(request)
    requested = query_date(request, "week") or datetime.now(tz).date()
    if not 1 < requested.year < 9999:  # A week needs its neighbours to exist.
        raise BadQuery(_("There is no week around %(day)s.") % {"day": requested.isoformat()})
    return requested - timedelta(days=requested.weekday())


@business_member_required
def appointment_week_page(request):
    context = _week_context(request, _monday(request))
    context["nav"] = "appointments"
    return render(request, "crm/appointments.html", context)


def _local_start(request, raw: str):
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment.replace(tzinfo=_zone(request)) if moment.tzinfo is None else moment


@business_member_required
@require_POST
def appointment_move(request, appointment_id):
    """Reschedule to the slot it was dropped on (or the time typed without JavaScript); the
    service texts the customer. A taken slot says so and changes nothing."""
    _require(request, "appointments:write")
    appointment = selectors.appointment_get(appointment_id=appointment_id)
    if appointment is None:
        raise Http404
    start = _local_start(request, request.POST.get("start", ""))
    tz = _zone(request)
    notice, level = None, "error"
    if start is None:
        notice = _("Choose a day and time to move the appointment to.")
    else:
        try:
            moved = services.appointment_reschedule(
                appointment_id=appointment.pk, start=start, actor_id=request.user.pk
            )
        except Conflict:
            notice = _("That time is taken by another appointment; nothing was changed.")
        except DomainError as error:
            notice = error.message
        else:
            local = moved.start.astimezone(tz)
            level = "success"
            notice = _("Moved to %(when)s. The customer gets a text with the new time.") % {
                "when": f"{date_format(local, 'D j M')}, {date_format(local, 'TIME_FORMAT')}"
            }
    week_of = (start or appointment.start).astimezone(tz).date()
    if request.headers.get("HX-Request"):
        context = _week_context(request, week_of - timedelta(days=week_of.weekday()))
        context.update(notice=notice, notice_level=level)
        return render(request, "crm/_week.html", context)
    (messages.success if level == "success" else messages.error)(request, notice)
    return redirect(f"{reverse('appointments')}?{urlencode({'week': week_of.isoformat()})}")


@business_member_required
def technician_day_page(request):
    """One day's appointments of one technician, in order: a technician sees their own."""
    tz = _zone(request)
    day = query_date(request, "date") or datetime.now(tz).date()
    if not 1 < day.year < 9999:
        raise BadQuery(_("There is no day %(day)s.") % {"day": day.isoformat()})
    technicians = selectors.technicians(business=request.tenant)
    if request.user.role == "technician":
        technician = request.user
    else:
        _require(request, "appointments:write")
        chosen = request.GET.get("technician", "")
        technician = selectors.technician_get(business=request.tenant, technician_id=chosen) if chosen else None
        if chosen and technician is None:
            raise BadQuery(_("No technician of this business has this id."))
        technician = technician or (technicians[0] if technicians else None)
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    appointments = (
        selectors.appointment_list(start=start, end=end, technician_id=technician.pk).exclude(
            status=Appointment.Status.CANCELLED
        )
        if technician
        else []
    )
    context = {
        "day": day,
        "previous": day - timedelta(days=1),
        "next": day + timedelta(days=1),
        "technician": technician,
        "technicians": technicians if request.user.role != "technician" else [],
        "appointments": appointments,
        "nav": "day",
    }
    return render(request, "crm/technician_day.html", context)


@business_member_required
@require_POST
def customer_merge_page(request, customer_id):
    """Fold another record (found by its phone number, typed in any format) into this customer."""
    _require(request, "customers:write")
    survivor = selectors.customer_get(customer_id=customer_id)
    if survivor is None:
        raise Http404
    raw = request.POST.get("duplicate_phone", "").strip()[:40]
    duplicate = selectors.customer_get_by_phone(phone=raw) if raw else None
    if duplicate is None:
        messages.error(request, _("No customer has the number %(number)s.") % {"number": raw or "—"})
    elif duplicate.pk == survivor.pk:
        messages.error(request, _("That number is already this customer's."))
    elif request.POST.get("confirm") != "yes":
        context = {"customer": survivor, "duplicate": duplicate, "phone": raw, "nav": "customers"}
        return render(request, "crm/customer_merge_confirm.html", context)
    else:
        try:
            services.customer_merge(survivor_id=survivor.pk, duplicate_id=duplicate.pk)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("%(duplicate)s was merged into this customer: every call, text and appointment is here now.")
                % {"duplicate": duplicate.name or duplicate.phone},
            )
    return redirect("customer-detail", customer_id=survivor.pk)
