"""The operator page's system alerts (platform staff, public schema): the open ones, acknowledge and
resolve. The operator page (apps/ops) loads this section by htmx and reloads it on every live
``system_alert`` (``/ws/ops/``); ops imports nothing of alerts."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_tenants.utils import schema_context

from apps.alerts import selectors, services
from apps.alerts.models import Alert
from apps.ops.views import is_platform_staff
from nevermisscall.errors import DomainError
from nevermisscall.views import error_lines

SYSTEM_ALERTS_SHOWN = 50


def _staff_only(view):
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_platform_staff(request):
            return HttpResponseForbidden()
        with schema_context("public"):
            return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


def _section(request, errors=(), status=200):
    alerts = selectors.alert_list(open_only=True).filter(source=Alert.Source.SYSTEM)[:SYSTEM_ALERTS_SHOWN]
    return render(request, "alerts/_system_alerts.html", {"alerts": list(alerts), "errors": errors}, status=status)


@require_GET
@_staff_only
def system_alerts_section(request):
    return _section(request)


def _act(request, alert_id, action, done: str):
    alert = Alert.objects.filter(pk=alert_id, source=Alert.Source.SYSTEM).first()
    if alert is None:
        raise Http404
    try:
        action(alert=alert, actor=request.user.email)
    except DomainError as error:
        if request.htmx:
            return _section(request, errors=error_lines(error), status=409)
        for line in error_lines(error):
            messages.error(request, line)
        return redirect("ops-page")
    if request.htmx:
        return _section(request)
    messages.success(request, done)
    return redirect("ops-page")


@require_POST
@_staff_only
def system_alert_acknowledge(request, alert_id):
    return _act(request, alert_id, services.alert_acknowledge, _("Alert acknowledged: nobody else will be notified."))


@require_POST
@_staff_only
def system_alert_resolve(request, alert_id):
    return _act(request, alert_id, services.alert_resolve_manually, _("Alert resolved."))
