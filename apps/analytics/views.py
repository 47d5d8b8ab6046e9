"""The overview page: today's figures, a 14-day chart and the live activity feed."""

from django.shortcuts import redirect, render

from apps.analytics import selectors
from nevermisscall.views import business_member_required


def _overview_context(business) -> dict:
    return {
        "kpis": selectors.overview_kpis(business=business),
        "chart": selectors.chart_bars(selectors.calls_by_day(business=business)),
    }


@business_member_required
def overview(request):
    business = request.tenant
    if not business.onboarding_completed and request.user.has_business_permission("config:write"):
        return redirect("onboarding")
    context = {"business": business, "nav": "overview", **_overview_context(business)}
    return render(request, "dashboard/overview.html", context)


@business_member_required
def overview_figures(request):
    """The KPI and chart partial, re-fetched by htmx when a call or booking event arrives."""
    return render(request, "dashboard/_figures.html", _overview_context(request.tenant))
