"""The alerts page of the dashboard: open alerts first, then the rest; acknowledge, snooze and
resolve with htmx (the row is swapped in place) or a plain form post (back to the page)."""

from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.alerts import selectors, services
from apps.alerts.models import Alert
from nevermisscall.errors import Conflict, DomainError
from nevermisscall.views import business_member_required, error_lines, paginate, query_choice, query_without_page

SNOOZES = {
    "60": gettext_lazy("1 hour"),
    "240": gettext_lazy("4 hours"),
    "1440": gettext_lazy("1 day"),
}


def _actor(request) -> str:
    return request.user.email


@business_member_required
def alert_list_page(request):
    state = query_choice(request, "state", Alert.State.values, label=_("state"))
    alerts = selectors.alert_list(state=state, open_only=state is None and request.GET.get("all") != "1")
    page = paginate(request, alerts.select_related("rule"))
    context = {
        "nav": "alerts",
        "page": page,
        "query": query_without_page(request),
        "state": state,
        "states": Alert.State.choices,
        "snoozes": SNOOZES,
        "statistics": selectors.alert_statistics(since=timezone.now() - timedelta(days=30)),
        "rules": selectors.alert_rule_list(),
    }
    return render(request, "alerts/alerts.html", context)


def _alert_or_404(alert_id) -> Alert:
    alert = selectors.alert_get(alert_id=alert_id)
    if alert is None:
        raise Http404
    return alert


def _answer(request, alert: Alert, done: str):
    if request.htmx:
        alert.refresh_from_db()
        return render(request, "alerts/_alert_row.html", {"alert": alert, "snoozes": SNOOZES})
    messages.success(request, done)
    return redirect("alerts-page")


def _refused(request, alert: Alert, error: DomainError):
    if request.htmx:
        alert.refresh_from_db()
        context = {"alert": alert, "snoozes": SNOOZES, "errors": error_lines(error)}
        return render(request, "alerts/_alert_row.html", context, status=409 if isinstance(error, Conflict) else 400)
    for line in error_lines(error):
        messages.error(request, line)
    return redirect("alerts-page")


@require_POST
@business_member_required
def alert_acknowledge_action(request, alert_id):
    alert = _alert_or_404(alert_id)
    try:
        services.alert_acknowledge(alert=alert, actor=_actor(request))
    except DomainError as error:
        return _refused(request, alert, error)
    return _answer(request, alert, _("Alert acknowledged: nobody else will be notified."))


@require_POST
@business_member_required
def alert_snooze_action(request, alert_id):
    alert = _alert_or_404(alert_id)
    minutes = request.POST.get("minutes", "")
    if minutes not in SNOOZES:
        raise Http404
    try:
        services.alert_snooze(
            alert=alert, until=timezone.now() + timedelta(minutes=int(minutes)), actor=_actor(request)
        )
    except DomainError as error:
        return _refused(request, alert, error)
    return _answer(request, alert, _("Alert snoozed."))


@require_POST
@business_member_required
def alert_resolve_action(request, alert_id):
    alert = _alert_or_404(alert_id)
    try:
        services.alert_resolve_manually(alert=alert, actor=_actor(request))
    except DomainError as error:
        return _refused(request, alert, error)
    return _answer(request, alert, _("Alert resolved."))
