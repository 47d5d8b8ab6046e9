"""Helpers shared by the dashboard views of every app."""

import zoneinfo
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils import timezone as dj_timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from nevermisscall.errors import DomainError, ValidationFailed

PAGE_SIZE = 25


def _business_zone(business):
    try:
        return zoneinfo.ZoneInfo(business.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def business_member_required(view):
    """Signed in as a person of a business (platform staff use the Django admin instead)."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if request.user.business_id is None or getattr(request, "tenant", None) is None:
            return redirect("admin:index")
        # Pages show the business's times in its zone, whoever's browser reads them (live.js formats
        # live events in the same zone). Pages only: the APIs keep their UTC timestamps.
        with dj_timezone.override(_business_zone(request.tenant)):
            return view(request, *args, **kwargs)

    return wrapped


def flatten_errors(detail, prefix="") -> list[str]:
    """DRF error details as readable lines for a form page."""
    if isinstance(detail, dict):
        return [line for key, value in detail.items() for line in flatten_errors(value, f"{prefix}{key}: ")]
    if isinstance(detail, list):
        return [line for value in detail for line in flatten_errors(value, prefix)]
    return [f"{prefix}{detail}"]


def error_lines(error: DomainError) -> list[str]:
    """A service's refusal as readable lines for a form page (per field when it names fields)."""
    if isinstance(error, ValidationFailed) and error.details is not None:
        return flatten_errors(error.details)
    return [error.message]


class BadQuery(BadRequest):
    """A dashboard page's query string cannot be used: ``handler400`` answers the product's HTML
    error page (400) naming each problem, with the navigation and a link to the unfiltered list."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


def query_date(request, name: str):
    """``?name=YYYY-MM-DD`` as a date, None when absent; anything else (``2026-13-45``) is a BadQuery."""
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    try:
        day = parse_date(value)
    except ValueError:  # Well formed but impossible, like 2026-13-45.
        day = None
    if day is None:
        raise BadQuery(_("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": value[:40]})
    return day


def query_choice(request, name: str, allowed, *, default=None, label: str | None = None):
    """``?name=`` when it is one of ``allowed``, ``default`` when absent; an unknown value is a BadQuery."""
    value = request.GET.get(name, "")
    if not value:
        return default
    if value not in allowed:
        raise BadQuery(_("There is no %(name)s “%(value)s”.") % {"name": label or name, "value": value[:40]})
    return value


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    """One page of ``queryset`` for a list page (``?page=``). A page that is not a positive whole
    number is a BadQuery; a page past the end shows the last (a list can shrink under a link)."""
    raw = request.GET.get("page", "").strip()
    if raw and (not raw.isdigit() or int(raw) < 1 or len(raw) > 9):
        raise BadQuery(_("“%(value)s” is not a page number.") % {"value": raw[:40]})
    return Paginator(queryset, per_page).get_page(raw or 1)


def query_without_page(request) -> str:
    """The current filters as a query string, for pagination links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


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
