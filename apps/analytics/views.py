"""The overview page: the money figure, the period's figures, the chart and the stored live feed."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.analytics import charts, selectors
from apps.analytics.feed import feed_entry
from nevermisscall.envelope import error_json_response
from nevermisscall.errors import ErrorCode
from nevermisscall.views import (
    BadQuery,
    business_member_required,
    paginate,
    query_choice,
    query_date,
    query_without_page,
)

PERIOD_LABELS = {"today": gettext_lazy("Today"), "7d": gettext_lazy("Last 7 days"), "30d": gettext_lazy("Last 30 days")}


def _period(request) -> str:
    return query_choice(request, "period", selectors.PERIODS, default="today", label=_("period"))


def _overview_context(request, period: str) -> dict:
    business = request.tenant
    first, last, start, end = selectors.period_bounds(business=business, period=period)
    chart_days = max(selectors.CHART_DAYS, selectors.PERIODS[period])
    return {
        "period": period,
        "periods": [(key, str(label)) for key, label in PERIOD_LABELS.items()],
        "period_label": PERIOD_LABELS[period],
        "date_from": first.isoformat(),
        "date_to": last.isoformat(),
        "kpis": selectors.overview_kpis(business=business, start=start, end=end),
        "money": selectors.money_recovered(business=business),
        "chart": selectors.chart_bars(
            selectors.calls_by_day(business=business, days=chart_days), bar_width=16 if chart_days <= 14 else 8
        ),
        "chart_days": chart_days,
    }


@business_member_required
def overview(request):
    business = request.tenant
    if not business.onboarding_completed and request.user.has_business_permission("config:write"):
        return redirect("onboarding")
    context = {
        "business": business,
        "nav": "overview",
        "feed": [feed_entry(row) for row in selectors.feed_recent()],
        **_overview_context(request, _period(request)),
    }
    return render(request, "dashboard/overview.html", context)


@business_member_required
def overview_figures(request):
    """The KPI and chart partial, re-fetched by htmx when a call or booking event arrives."""
    return render(request, "dashboard/_figures.html", _overview_context(request, _period(request)))


@business_member_required
def booking_list_page(request):
    """Bookings made in a date range (the overview's Booked and money cards link here)."""
    business = request.tenant
    first, last, start, end = selectors.period_bounds(business=business, period="today")
    day_from, day_to = query_date(request, "date_from") or first, query_date(request, "date_to") or last
    if not (1 < day_from.year < 9999 and 1 < day_to.year < 9999):
        raise BadQuery(_("Those dates are out of range."))
    if day_from > day_to:
        raise BadQuery(_("The “from” date is after the “to” date."))
    bounds_from = selectors.day_bounds(day=day_from, business=business)[0]
    bounds_to = selectors.day_bounds(day=day_to, business=business)[1]
    from_missed_call = query_choice(request, "source", ["missed_call"]) == "missed_call"
    page = paginate(
        request, selectors.booking_list(start=bounds_from, end=bounds_to, from_missed_call=from_missed_call)
    )
    context = {
        "page": page,
        "query": query_without_page(request),
        "date_from": day_from,
        "date_to": day_to,
        "from_missed_call": from_missed_call,
        "nav": "overview",
    }
    return render(request, "dashboard/bookings.html", context)


RANGE_LABELS = {
    "today": gettext_lazy("Today"),
    "7d": gettext_lazy("Last 7 days"),
    "30d": gettext_lazy("Last 30 days"),
    "90d": gettext_lazy("Last 90 days"),
}


# The words analytics.js puts on the charts (it contains none of its own).
CHART_TEXT = {
    "calls": gettext_lazy("Calls"),
    "missed": gettext_lazy("Missed"),
    "recovered": gettext_lazy("Recovered by text"),
    "booked": gettext_lazy("Jobs booked"),
    "revenue": gettext_lazy("Estimated value ($)"),
    "response_time": gettext_lazy("Reply time (s)"),
    "no_replies": gettext_lazy("no replies"),
}


def _analytics_reader(request) -> None:
    if not request.user.has_business_permission("analytics:read"):
        raise PermissionDenied


@business_member_required
def analytics_page(request):
    """The charts page: the browser draws them (static/js/analytics.js, Chart.js) from ``analytics_data``."""
    _analytics_reader(request)
    range_key = query_choice(request, "range", charts.RANGES, default="7d", label=_("range"))
    context = {
        "nav": "analytics",
        "range": range_key,
        "ranges": [(key, str(label)) for key, label in RANGE_LABELS.items()],
        "chart_text": {key: str(label) for key, label in CHART_TEXT.items()},
    }
    return render(request, "dashboard/analytics.html", context)


@business_member_required
def analytics_data(request):
    """``/analytics/data?range=today|7d|30d|90d``: the page's series as JSON (three queries)."""
    _analytics_reader(request)
    range_key = request.GET.get("range") or "7d"
    if range_key not in charts.RANGES:
        message = _("There is no range “%(value)s”; use one of %(choices)s.") % {
            "value": range_key[:40],
            "choices": ", ".join(charts.RANGES),
        }
        return error_json_response(request, 400, ErrorCode.VALIDATION_FAILED, message)
    return JsonResponse(charts.chart_series(business=request.tenant, range_key=range_key))


_SERVICE_WORKER = Path(settings.BASE_DIR) / "static" / "js" / "sw.js"


def service_worker(request):
    """``/sw.js``: a service worker controls only paths under its own, so it is served from the root."""
    response = HttpResponse(_SERVICE_WORKER.read_bytes(), content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response
