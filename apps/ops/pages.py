"""The operator page for platform staff: health, queues, breakers, dead letters, the live log."""

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseForbidden
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.ops import components, selectors
from apps.ops.services import health_check_run
from apps.ops.views import is_platform_staff


def _staff_page(view):
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_platform_staff(request):
            return HttpResponseForbidden()
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


def _masked(delivery) -> str:
    if delivery.channel == "sms":
        return delivery.recipient[:-4].rstrip("0123456789") + "…" + delivery.recipient[-4:]
    if "@" in delivery.recipient:
        name, _, domain = delivery.recipient.partition("@")
        return f"{name[:1]}…@{domain}"
    return delivery.recipient.split("?")[0][:60]


def _panel_context() -> dict:
    overall, results = health_check_run()
    queues = results.get("queues")
    letters = selectors.dead_letters(limit=20)
    for delivery in letters:
        delivery.masked_recipient = _masked(delivery)
    return {
        "overall": overall,
        "results": [
            {"name": name, "display_name": getattr(components.COMPONENTS.get(name), "display_name", name), "result": r}
            for name, r in results.items()
        ],
        "queues": (queues.details or {}).get("queues", {}) if queues else {},
        "breakers": components.all_breakers(),
        "dead_letters": letters,
    }


@require_GET
@_staff_page
def operator_page(request):
    return render(request, "ops/operator.html", _panel_context())


@require_GET
@_staff_page
def operator_panel(request):
    return render(request, "ops/_panel.html", _panel_context())
