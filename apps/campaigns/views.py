"""Dashboard pages: campaigns (run history, next run, pause per campaign) and the recovery queue."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.accounts.models import DIGEST_ROLES
from apps.campaigns import selectors, services
from apps.campaigns.models import CampaignRun, CampaignSettings, Kind
from nevermisscall.views import business_member_required


def _schedule_seconds(kind: str) -> float | None:
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        if entry.get("task") == "campaigns.fan_out" and list(entry.get("args") or []) == [kind]:
            return float(entry["schedule"])
    return None


@business_member_required
def campaigns_page(request):
    campaign_settings = selectors.campaign_settings_get()
    runs = list(selectors.campaign_runs_recent(limit=30))
    now = timezone.now()
    last_beat = {}
    for run in runs:
        if run.trigger == CampaignRun.Trigger.BEAT:
            last_beat.setdefault(run.kind, run.started_at)
    rows = []
    for kind, label in Kind.choices:
        # Opt-in: the call summary below, the digest on each owner's and manager's profile.
        if kind in (Kind.CALL_SUMMARY, Kind.DIGEST):
            continue
        seconds = _schedule_seconds(kind)
        last = last_beat.get(kind)
        next_run = None
        if seconds and not campaign_settings.paused(kind):
            next_run = max(now, last + timedelta(seconds=seconds)) if last else now + timedelta(seconds=seconds)
        rows.append(
            {
                "kind": kind,
                "label": label,
                "paused": campaign_settings.paused(kind),
                "field": CampaignSettings.PAUSE_FIELDS[kind],
                "every_minutes": int(seconds // 60) if seconds else None,
                "next_run": next_run,
            }
        )
    context = {
        "campaigns": rows,
        "call_summary_enabled": campaign_settings.call_summary_enabled,
        "digest_allowed": request.user.role in DIGEST_ROLES,
        "runs": runs,
        "can_manage": request.user.has_business_permission("config:write"),
        "nav": "campaigns",
    }
    return render(request, "campaigns/campaigns.html", context)


@business_member_required
@require_POST
def campaign_pause_toggle(request):
    """Pause or resume one campaign of the business (owners and admins)."""
    if not request.user.has_business_permission("config:write"):
        raise PermissionDenied
    kind = request.POST.get("kind", "")
    if kind not in Kind.values:
        messages.error(request, _("There is no such campaign."))
        return redirect("campaigns")
    paused = request.POST.get("paused") == "1"
    services.campaign_settings_update(data={CampaignSettings.PAUSE_FIELDS[kind]: paused})
    messages.success(request, _("Paused.") if paused else _("Resumed."))
    return redirect("campaigns")


@business_member_required
@require_POST
def owner_texts_update(request):
    """Turn the owner's text after each handled missed call on or off (owners and admins)."""
    if not request.user.has_business_permission("config:write"):
        raise PermissionDenied
    value = request.POST.get("call_summary_enabled", "0")
    if value not in ("0", "1"):
        messages.error(request, _("That setting could not be saved."))
        return redirect("campaigns")
    services.campaign_settings_update(data={"call_summary_enabled": value == "1"})
    messages.success(request, _("Saved."))
    return redirect("campaigns")


@business_member_required
def recovery_page(request):
    campaign_settings = selectors.campaign_settings_get()
    context = {
        "items": selectors.recovery_queue(now=timezone.now()),
        "target": campaign_settings.recovery_target_minutes,
        "nav": "recovery",
    }
    return render(request, "campaigns/recovery.html", context)
