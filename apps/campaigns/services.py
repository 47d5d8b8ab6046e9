"""Campaign runs: select what is due in the current business, then for each candidate insert its
``CampaignMessage`` (unique per kind and subject) and its outbox delivery in one transaction, so a
text is queued at most once whatever runs twice, and every one queued is recorded.

Reminders are transactional (sent at once, never after the appointment starts); retention texts
and review requests are marketing, so the outbox policy applies its consent and quiet-hours rules
(held until 08:00 in the recipient's time zone). A follow-up answers the lead's own inquiry and is
transactional (docs/campaigns.md). The owner's recovery alert is an ``owner_alert``.
"""

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.campaigns import selectors, texts
from apps.campaigns.models import CampaignMessage, CampaignRun, CampaignSettings, Kind
from apps.outbox import services as outbox
from apps.outbox.models import Delivery
from nevermisscall.errors import BusinessRuleViolation, ValidationFailed

logger = logging.getLogger(__name__)

MARKETING_KINDS = (Kind.RETENTION, Kind.REVIEW)
CAUSES = {
    Kind.REMINDER: "appointment",
    Kind.REVIEW: "appointment",
    Kind.FOLLOWUP: "conversation",
    Kind.RECOVERY: "conversation",
}
# The owner's alert is the outbox's owner_alert (never held by the daily quota; a failure puts the
# conversation in "Needs you").
PURPOSES = {Kind.RECOVERY: "owner_alert"}

SETTINGS_FIELDS = (
    "reminders_paused",
    "followups_paused",
    "retention_paused",
    "reviews_paused",
    "followup_delay_hours",
    "followup_max_age_days",
    "min_days_since_last_visit",
    "review_link",
    "review_delay_hours",
    "recovery_alerts_paused",
    "recovery_target_minutes",
)


def _business():
    return connection.tenant


def campaign_settings_update(*, data: dict) -> CampaignSettings:
    """Store the given settings (already validated by the caller's serializer)."""
    unknown = set(data) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown settings: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        settings, _ = CampaignSettings.objects.select_for_update().get_or_create(pk=1)
        for field, value in data.items():
            setattr(settings, field, value)
        settings.save()
    return settings


def _queue_one(*, kind: str, candidate, run: CampaignRun, settings: CampaignSettings, now: datetime) -> str:
    """``sent``, ``failed`` or ``skipped:<reason>`` for one candidate, in its own transaction."""
    business = _business()
    try:
        with transaction.atomic():
            message = CampaignMessage.objects.create(
                kind=kind,
                subject_id=candidate.subject_id,
                run=run,
                appointment_id=candidate.appointment_id,
                phone=candidate.phone,
            )
            if candidate.opted_out:
                return _skip(message, "opted_out")
            body = texts.campaign_text(
                kind=kind,
                business=business,
                language=candidate.language,
                name=candidate.name,
                when=candidate.starts_at,
                review_link=settings.review_link,
                minutes=int((now - candidate.starts_at).total_seconds() // 60) if kind == Kind.RECOVERY else 0,
            )
            if kind in (Kind.REMINDER, Kind.REVIEW):
                cause_id = candidate.appointment_id
            else:  # The conversation of a follow-up; the customer of a retention text ("<customer>:<visit>").
                cause_id = candidate.subject_id.split(":", 1)[0]
            try:
                delivery = outbox.delivery_queue_sms(
                    to=candidate.phone,
                    body=body,
                    purpose=PURPOSES.get(kind, f"campaign_{kind}"),
                    idempotency_key=f"campaign:{kind}:{business.id}:{candidate.subject_id}",
                    kind=Delivery.Kind.MARKETING if kind in MARKETING_KINDS else Delivery.Kind.TRANSACTIONAL,
                    cause=(CAUSES.get(kind, "customer"), cause_id),
                    # A reminder that arrives after the appointment started is worse than none.
                    expires_at=candidate.starts_at if kind == Kind.REMINDER else None,
                )
            except BusinessRuleViolation as exc:
                reason = "no_consent" if "consent" in str(exc) else "opted_out"
                return _skip(message, reason)
            message.delivery_id = delivery.id
            message.save(update_fields=["delivery_id"])
    except IntegrityError:
        return "skipped:already_sent"  # Another run (a second beat, a redelivered task) has it.
    except ValidationFailed:
        logger.exception("campaign %s: the text for %s could not be built", kind, candidate.subject_id)
        return "failed"
    return "sent"


def _skip(message: CampaignMessage, reason: str) -> str:
    message.status, message.skip_reason = CampaignMessage.Status.SKIPPED, reason
    message.save(update_fields=["status", "skip_reason"])
    return f"skipped:{reason}"


def campaign_run(
    *,
    kind: str,
    trigger: str = CampaignRun.Trigger.BEAT,
    hours: int | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CampaignRun:
    """Run campaign ``kind`` in the current business and record it (a ``CampaignRun`` row whose
    counts are saved as it goes, so the dashboard shows a run in progress). A paused campaign is
    skipped by the schedule; a run asked for by the API or the command goes ahead."""
    if kind not in Kind.values:
        raise ValidationFailed(f"Unknown campaign {kind!r}.")
    now = now or timezone.now()
    settings = selectors.campaign_settings_get()
    run = CampaignRun.objects.create(kind=kind, trigger=trigger)
    if trigger == CampaignRun.Trigger.BEAT and settings.paused(kind):
        run.finished_at = timezone.now()
        run.skipped_reasons = {"paused": 1}
        run.save(update_fields=["finished_at", "skipped_reasons"])
        return run
    candidates = selectors.campaign_candidates(
        kind=kind, now=now, hours=hours, ignore_pause=trigger != CampaignRun.Trigger.BEAT
    )
    run.selected = len(candidates)
    run.save(update_fields=["selected"])
    reasons: Counter = Counter()
    for index, candidate in enumerate(candidates, start=1):
        outcome = _queue_one(kind=kind, candidate=candidate, run=run, settings=settings, now=now)
        if outcome == "sent":
            run.sent += 1
        elif outcome == "failed":
            run.failed += 1
        else:
            run.skipped += 1
            reasons[outcome.split(":", 1)[1]] += 1
        if progress is not None:
            progress(index, len(candidates))
        if index % 100 == 0:  # The dashboard's live view of a long run.
            run.skipped_reasons = dict(reasons)
            run.save(update_fields=["sent", "failed", "skipped", "skipped_reasons"])
    run.skipped_reasons = dict(reasons)
    run.finished_at = timezone.now()
    run.save(update_fields=["sent", "failed", "skipped", "skipped_reasons", "finished_at"])
    logger.info(
        "campaign %s in %s: %d selected, %d sent, %d skipped, %d failed",
        kind,
        connection.schema_name,
        run.selected,
        run.sent,
        run.skipped,
        run.failed,
    )
    return run
