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

from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import DigestChannel
from apps.campaigns import selectors, texts
from apps.campaigns.models import CampaignMessage, CampaignRun, CampaignSettings, Kind
from apps.outbox import services as outbox
from apps.outbox.models import Delivery
from nevermisscall.db import insert_sql
from nevermisscall.errors import BusinessRuleViolation, ValidationFailed

logger = logging.getLogger(__name__)

MARKETING_KINDS = (Kind.RETENTION, Kind.REVIEW)
CAUSES = {
    Kind.REMINDER: "appointment",
    Kind.REVIEW: "appointment",
    Kind.FOLLOWUP: "conversation",
    Kind.RECOVERY: "conversation",
    Kind.CALL_SUMMARY: "conversation",
    Kind.DIGEST: "digest",
}
# The owner's alert is the outbox's owner_alert (never held by the daily quota; a failure puts the
# conversation in "Needs you").
PURPOSES = {Kind.RECOVERY: "owner_alert", Kind.CALL_SUMMARY: "owner_alert", Kind.DIGEST: "owner_alert"}
# Opted into by the owner: never sent while off, whoever asks for a run. (The digest is opted into
# per person: its candidates are the owners and managers who chose one.)
OPT_IN_KINDS = (Kind.CALL_SUMMARY,)

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
    "call_summary_enabled",
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


CHUNK = 100  # Candidates a transaction: their campaign rows in one INSERT, their deliveries in another.


def _queue_chunk(*, kind: str, chunk: list, run: CampaignRun, settings: CampaignSettings, now: datetime) -> Counter:
    """Queue one chunk of candidates in one transaction: each candidate's ``CampaignMessage`` (with
    its delivery's id, or its skip reason) in one ``INSERT … ON CONFLICT DO NOTHING``, then the
    deliveries of the rows that were inserted. A subject another run inserted first (a second beat,
    a redelivered task) is skipped as ``already_sent``; it waits for that run's commit."""
    business = _business()
    outcomes: Counter = Counter()
    prepared = []  # (message, delivery or None)
    emails = {}  # message id → the digest e-mail to queue once its row is inserted
    leads = selectors.call_leads(conversation_ids=[c.subject_id for c in chunk]) if kind == Kind.CALL_SUMMARY else {}
    digests = {}  # local midnight → the day's figures, shared by the business's recipients
    for candidate in chunk:
        message = CampaignMessage(
            kind=kind,
            subject_id=candidate.subject_id,
            run=run,
            appointment_id=candidate.appointment_id,
            phone=candidate.phone,
            created_at=now,
        )
        delivery = None
        if candidate.opted_out:
            message.status, message.skip_reason = CampaignMessage.Status.SKIPPED, "opted_out"
        else:
            if kind == Kind.DIGEST:
                if candidate.starts_at not in digests:
                    digests[candidate.starts_at] = selectors.digest_figures(since=candidate.starts_at, until=now)
                figures = digests[candidate.starts_at]
                body = texts.digest_text(business=business, language=candidate.language, figures=figures)
            elif kind == Kind.CALL_SUMMARY:
                lead = leads[candidate.subject_id]
                body = texts.call_summary_text(
                    business=business,
                    language=candidate.language,
                    name=candidate.name,
                    job=lead.job_label,
                    outcome=lead.outcome,
                    booked_at=candidate.starts_at,
                )
            else:
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
            elif kind == Kind.DIGEST:  # "<user>:<local date>": whose digest of which day.
                cause_id = candidate.subject_id
            else:  # The conversation of a follow-up; the customer of a retention text ("<customer>:<visit>").
                cause_id = candidate.subject_id.split(":", 1)[0]
            idempotency_key = f"campaign:{kind}:{business.id}:{candidate.subject_id}"
            if kind == Kind.DIGEST and candidate.name == DigestChannel.EMAIL:
                # The e-mail is rendered at send time; the row keeps no phone.
                message.phone = ""
                emails[message.id] = {
                    "to": candidate.phone,
                    "template": "campaigns/email/digest",
                    "context": {
                        "business_name": business.name,
                        "day": candidate.subject_id.split(":", 1)[1],
                        **vars(figures),
                    },
                    "purpose": PURPOSES[kind],
                    "idempotency_key": idempotency_key,
                    "language": texts.language_of(candidate.language),
                    "cause": (CAUSES[kind], cause_id),
                }
                prepared.append((message, None))
                continue
            try:
                delivery = outbox.sms_delivery_build(
                    to=candidate.phone,
                    body=body,
                    purpose=PURPOSES.get(kind, f"campaign_{kind}"),
                    idempotency_key=idempotency_key,
                    kind=Delivery.Kind.MARKETING if kind in MARKETING_KINDS else Delivery.Kind.TRANSACTIONAL,
                    cause=(CAUSES.get(kind, "customer"), cause_id),
                    # A reminder that arrives after the appointment started is worse than none.
                    expires_at=candidate.starts_at if kind == Kind.REMINDER else None,
                    check_opt_out=False,  # Read with the candidate; the send-time policy checks again.
                )
            except BusinessRuleViolation as exc:
                message.status = CampaignMessage.Status.SKIPPED
                message.skip_reason = "no_consent" if "consent" in str(exc) else "opted_out"
            except ValidationFailed:
                logger.exception("campaign %s: the text for %s could not be built", kind, candidate.subject_id)
                outcomes["failed"] += 1
                continue
            if delivery is not None:
                message.delivery_id = delivery.id
        prepared.append((message, delivery))
    if not prepared:
        return outcomes
    with transaction.atomic():
        statement, params = insert_sql([message for message, _ in prepared])
        with connection.cursor() as cursor:
            cursor.execute(f"{statement} ON CONFLICT DO NOTHING RETURNING id", params)
            inserted = {row[0] for row in cursor.fetchall()}
        deliveries = [delivery for message, delivery in prepared if message.id in inserted and delivery is not None]
        if deliveries:
            Delivery.objects.bulk_create(deliveries)
            for delivery in deliveries:
                outbox.delivery_hand_off(delivery)
        for message_id, email in emails.items():
            if message_id in inserted:
                queued = outbox.delivery_queue_email(**email)
                CampaignMessage.objects.filter(id=message_id).update(delivery_id=queued.id)
    for message, delivery in prepared:
        if message.id not in inserted:
            outcomes["skipped:already_sent"] += 1
        elif delivery is None and message.id not in emails:
            outcomes[f"skipped:{message.skip_reason}"] += 1
        else:
            outcomes["sent"] += 1
    return outcomes


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
    # The owner's call summaries and digest are opted into: never sent while off, whoever asks.
    if (trigger == CampaignRun.Trigger.BEAT or kind in OPT_IN_KINDS) and settings.paused(kind):
        run.finished_at = timezone.now()
        run.skipped_reasons = {"paused": 1}
        run.save(update_fields=["finished_at", "skipped_reasons"])
        return run
    candidates = selectors.campaign_candidates(
        kind=kind, now=now, hours=hours, ignore_pause=trigger != CampaignRun.Trigger.BEAT
    )
    if kind == Kind.RECOVERY:  # The wall clock selects; the wait that counts is in business hours.
        candidates = selectors.recovery_due(
            candidates=candidates, now=now, target_minutes=settings.recovery_target_minutes
        )
        if not candidates and trigger == CampaignRun.Trigger.BEAT:
            # Overnight a lead stays over the target by the wall clock and the fan-out names the
            # business every minute; such an empty run is not worth a row in the history.
            run.delete()
            return run
    run.selected = len(candidates)
    run.save(update_fields=["selected"])
    reasons: Counter = Counter()
    for start in range(0, len(candidates), CHUNK):
        outcomes = _queue_chunk(kind=kind, chunk=candidates[start : start + CHUNK], run=run, settings=settings, now=now)
        for outcome, count in outcomes.items():
            if outcome == "sent":
                run.sent += count
            elif outcome == "failed":
                run.failed += count
            else:
                run.skipped += count
                reasons[outcome.split(":", 1)[1]] += count
        if progress is not None:
            progress(min(start + CHUNK, len(candidates)), len(candidates))
        if start + CHUNK < len(candidates):  # The dashboard's live view of a long run.
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
