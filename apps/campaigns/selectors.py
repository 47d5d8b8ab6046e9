"""What each campaign would send now: one SQL template per kind, run in one business's schema for
its run, or as ``EXISTS`` branches of one ``UNION ALL`` statement across every active business's
schema to find the businesses with anything due (the beat's fan-out skips the rest without a
query of their own).

Every template returns the same columns: ``subject_id`` (what makes the text once-only),
``appointment_id``, ``phone``, ``language``, ``name``, ``starts_at``, ``opted_out``.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import connection

from apps.accounts.models import DIGEST_ROLES, User
from apps.campaigns import hours
from apps.campaigns.models import CampaignMessage, CampaignRun, CampaignSettings, Kind
from apps.conversations.models import Conversation, Message, OptOut
from apps.crm.models import Appointment, Customer
from apps.telephony.models import Call
from apps.tenants.config.models import BusinessConfig
from apps.tenants.models import Business


def _tables(schema: str | None) -> dict:
    quote = connection.ops.quote_name
    prefix = f"{quote(schema)}." if schema else ""
    models = {
        "appointment": Appointment,
        "customer": Customer,
        "conversation": Conversation,
        "message": Message,
        "opt_out": OptOut,
        "config": BusinessConfig,
        "settings": CampaignSettings,
        "sent": CampaignMessage,
        "call": Call,
    }
    return {name: prefix + quote(model._meta.db_table) for name, model in models.items()}


_OPTED_OUT = "EXISTS(SELECT 1 FROM {opt_out} o WHERE o.phone_number = {phone} AND o.opted_out)"
_NOT_PAUSED = "(%(ignore_pause)s OR NOT EXISTS(SELECT 1 FROM {settings} p WHERE p.id = 1 AND p.{pause}))"
_SETTING = "COALESCE((SELECT p.{field} FROM {settings} p WHERE p.id = 1), {default})"

# Appointments starting within the business's reminder_hours (or the caller's hours_ahead) that
# were not reminded. The window is absolute time, so a DST change moves nothing.
_REMINDER = """
    SELECT a.id::text AS subject_id, a.id AS appointment_id, c.phone, c.language, c.name, a.start AS starts_at,
           {opted_out} AS opted_out
    FROM {appointment} a JOIN {customer} c ON c.id = a.customer_id
    WHERE a.status IN ('scheduled', 'confirmed') AND a.start > %(now)s
      AND a.start <= %(now)s + make_interval(hours => COALESCE(%(hours)s,
            (SELECT reminder_hours FROM {config} WHERE id = 1), 24))
      AND NOT EXISTS(SELECT 1 FROM {sent} m WHERE m.kind = 'reminder' AND m.subject_id = a.id::text)
      AND {not_paused}
"""

# Conversations in which the customer wrote, nothing was booked and no outcome closes the lead,
# quiet for the business's follow-up delay (and not for longer than followup_max_age_days), whose
# customer has no appointment ahead.
_FOLLOWUP = """
    SELECT v.id::text AS subject_id, NULL::uuid AS appointment_id, v.customer_number AS phone,
           COALESCE(c.language, 'en') AS language, COALESCE(NULLIF(v.customer_name, ''), c.name, '') AS name,
           NULL::timestamptz AS starts_at, {opted_out} AS opted_out
    FROM {conversation} v LEFT JOIN {customer} c ON c.phone = v.customer_number
    WHERE v.appointment_id IS NULL
      AND v.lead_outcome IN ('', 'abandoned', 'price_only')
      AND v.handled_by = 'ai'
      AND v.last_message_at <= %(now)s - make_interval(hours => {delay})
      AND v.last_message_at > %(now)s - make_interval(days => {max_age})
      AND EXISTS(SELECT 1 FROM {message} i WHERE i.conversation_id = v.id AND i.direction = 'inbound'
                 AND i.kind = 'customer')
      AND NOT EXISTS(SELECT 1 FROM {appointment} f JOIN {customer} fc ON fc.id = f.customer_id
                     WHERE fc.phone = v.customer_number AND f.start > %(now)s
                       AND f.status IN ('scheduled', 'confirmed'))
      AND NOT EXISTS(SELECT 1 FROM {sent} m WHERE m.kind = 'followup' AND m.subject_id = v.id::text)
      AND {not_paused}
"""

# Customers whose last completed visit ended min_days_since_last_visit ago or more, with nothing
# booked ahead: one text per last visit.
_RETENTION = """
    SELECT x.customer_id::text || ':' || x.last_id::text AS subject_id, x.last_id AS appointment_id, c.phone,
           c.language, c.name, x.last_end AS starts_at, {opted_out} AS opted_out
    FROM (SELECT DISTINCT ON (a.customer_id) a.customer_id, a.id AS last_id, a."end" AS last_end
          FROM {appointment} a WHERE a.status = 'completed' ORDER BY a.customer_id, a."end" DESC) x
    JOIN {customer} c ON c.id = x.customer_id
    WHERE x.last_end <= %(now)s - make_interval(days => {min_days})
      AND NOT EXISTS(SELECT 1 FROM {appointment} f WHERE f.customer_id = x.customer_id AND f.start > %(now)s
                     AND f.status IN ('scheduled', 'confirmed'))
      AND NOT EXISTS(SELECT 1 FROM {sent} m WHERE m.kind = 'retention'
                     AND m.subject_id = x.customer_id::text || ':' || x.last_id::text)
      AND {not_paused}
"""

# Appointments completed at least review_delay_hours ago (within a week), when the business has a
# review link.
_REVIEW = """
    SELECT a.id::text AS subject_id, a.id AS appointment_id, c.phone, c.language, c.name, a."end" AS starts_at,
           {opted_out} AS opted_out
    FROM {appointment} a JOIN {customer} c ON c.id = a.customer_id
    WHERE a.status = 'completed'
      AND a."end" <= %(now)s - make_interval(hours => {review_delay})
      AND a."end" > %(now)s - interval '7 days'
      AND EXISTS(SELECT 1 FROM {settings} p WHERE p.id = 1 AND p.review_link <> '')
      AND NOT EXISTS(SELECT 1 FROM {sent} m WHERE m.kind = 'review' AND m.subject_id = a.id::text)
      AND {not_paused}
"""

# The recovery queue: conversations the customer wrote in that ended (resolved, or quiet with an
# abandoned / price-only outcome) with no booking, no decline and no answer from a person.
_IN_RECOVERY = """
    v.appointment_id IS NULL
      AND v.lead_outcome IN ('', 'abandoned', 'price_only')
      AND (v.status <> 'active' OR v.lead_outcome <> '')
      AND EXISTS(SELECT 1 FROM {message} i WHERE i.conversation_id = v.id AND i.direction = 'inbound'
                 AND i.kind = 'customer')
      AND NOT EXISTS(SELECT 1 FROM {message} h WHERE h.conversation_id = v.id AND h.kind = 'human')
"""

# Over the business's response target: the owner is texted once per conversation.
_RECOVERY = """
    SELECT v.id::text AS subject_id, NULL::uuid AS appointment_id, cfg.forwarding_number AS phone,
           'en' AS language, COALESCE(NULLIF(v.customer_name, ''), v.customer_number) AS name,
           v.last_message_at AS starts_at, FALSE AS opted_out
    FROM {conversation} v CROSS JOIN {config} cfg
    WHERE cfg.id = 1 AND cfg.forwarding_number <> ''
      AND {in_recovery}
      AND v.last_message_at <= %(now)s - make_interval(mins => {target})
      AND v.last_message_at > %(now)s - interval '7 days'
      AND NOT EXISTS(SELECT 1 FROM {sent} m WHERE m.kind = 'recovery' AND m.subject_id = v.id::text)
      AND {not_paused}
"""

# A missed call whose conversation the assistant's handling ended (its lead outcome is set when it
# books, declines, hands off, or the conversation goes idle: apps/conversations/leads.py) within the
# last day: the owner, when they asked for it, gets one line about it. Spam is not worth a text.
_CALL_SUMMARY = """
    SELECT v.id::text AS subject_id, v.appointment_id, cfg.forwarding_number AS phone,
           cfg.language AS language, COALESCE(NULLIF(v.customer_name, ''), v.customer_number) AS name,
           a.start AS starts_at, FALSE AS opted_out
    FROM {conversation} v CROSS JOIN {config} cfg LEFT JOIN {appointment} a ON a.id = v.appointment_id
    WHERE cfg.id = 1 AND cfg.forwarding_number <> ''
      AND v.lead_outcome NOT IN ('', 'spam')
      AND COALESCE(v.lead_updated_at, v.last_message_at) > %(now)s - interval '1 day'
      AND EXISTS(SELECT 1 FROM {call} k WHERE k.conversation_id = v.id AND k.status = 'missed')
      AND NOT EXISTS(SELECT 1 FROM {sent} m WHERE m.kind = 'call_summary' AND m.subject_id = v.id::text)
      AND EXISTS(SELECT 1 FROM {settings} p WHERE p.id = 1 AND p.call_summary_enabled)
"""

# The daily digest, per owner or manager who chose one (accounts.User.digest_channel, their hour):
# once per person per local day (the subject is "<user id>:<the business's local date>"), at or
# after their local hour. The hour and the date are read in the business's time zone by PostgreSQL
# (``AT TIME ZONE``), so a DST change moves the send to the same wall-clock hour. The recipient is
# their own phone (sms) or their e-mail (email), in their language; ``name`` carries the channel;
# ``starts_at`` is the local midnight that starts the digest's day (the figures cover midnight to
# the send). Users and businesses are public tables, read in the same statement.
_DIGEST = """
    SELECT u.id::text || ':' || to_char(d.local_now, 'YYYY-MM-DD') AS subject_id, NULL::uuid AS appointment_id,
           CASE WHEN u.digest_channel = 'email' THEN u.email ELSE u.phone END AS phone,
           u.language AS language, u.digest_channel AS name,
           date_trunc('day', d.local_now) AT TIME ZONE b.timezone AS starts_at, FALSE AS opted_out
    FROM {business} b JOIN {user} u ON u.business_id = b.id
    CROSS JOIN LATERAL (SELECT %(now)s::timestamptz AT TIME ZONE b.timezone AS local_now) d
    WHERE b.schema_name = {schema_literal}
      AND u.is_active AND u.role IN ({digest_roles})
      AND u.digest_channel IN ('sms', 'email')
      AND EXTRACT(HOUR FROM d.local_now) >= u.digest_hour
      AND (CASE WHEN u.digest_channel = 'email' THEN u.email ELSE u.phone END) <> ''
      AND NOT EXISTS(SELECT 1 FROM {sent} m WHERE m.kind = 'digest'
                     AND m.subject_id = u.id::text || ':' || to_char(d.local_now, 'YYYY-MM-DD'))
"""

_TEMPLATES = {
    Kind.REMINDER: _REMINDER,
    Kind.FOLLOWUP: _FOLLOWUP,
    Kind.RETENTION: _RETENTION,
    Kind.REVIEW: _REVIEW,
    Kind.RECOVERY: _RECOVERY,
    Kind.CALL_SUMMARY: _CALL_SUMMARY,
    Kind.DIGEST: _DIGEST,
}


def candidates_sql(kind: str, *, schema: str | None = None) -> str:
    quote = connection.ops.quote_name
    tables = _tables(schema)
    settings = tables["settings"]
    phone = "v.customer_number" if kind == Kind.FOLLOWUP else "c.phone"
    expressions = {
        "opted_out": _OPTED_OUT.format(phone=phone, **tables),
        "not_paused": _NOT_PAUSED.format(settings=settings, pause=CampaignSettings.PAUSE_FIELDS.get(kind, "")),
        "delay": _SETTING.format(field="followup_delay_hours", settings=settings, default=24),
        "max_age": _SETTING.format(field="followup_max_age_days", settings=settings, default=7),
        "min_days": _SETTING.format(field="min_days_since_last_visit", settings=settings, default=180),
        "review_delay": _SETTING.format(field="review_delay_hours", settings=settings, default=2),
        "target": _SETTING.format(field="recovery_target_minutes", settings=settings, default=15),
        "in_recovery": _IN_RECOVERY.format(**tables),
        "business": f"{quote('public')}.{quote(Business._meta.db_table)}",
        "user": f"{quote('public')}.{quote(User._meta.db_table)}",
        "digest_roles": ", ".join(f"'{role}'" for role in DIGEST_ROLES),
        # Schema names are identifiers from our own table ([a-z0-9_]); quoted as a literal anyway.
        "schema_literal": "'" + (schema or connection.schema_name).replace("'", "''") + "'",
    }
    return _TEMPLATES[kind].format(**tables, **expressions)


@dataclass(frozen=True)
class Candidate:
    subject_id: str
    appointment_id: object
    phone: str
    language: str
    name: str
    starts_at: datetime | None
    opted_out: bool


def campaign_candidates(
    *, kind: str, now: datetime, hours: int | None = None, ignore_pause: bool = False, limit: int | None = None
) -> list[Candidate]:
    """What ``kind`` would send now in the current business, oldest subject first."""
    sql = candidates_sql(kind) + " ORDER BY starts_at NULLS LAST, subject_id"
    params = {"now": now, "hours": hours, "ignore_pause": ignore_pause}
    if limit is not None:
        sql += " LIMIT %(limit)s"
        params["limit"] = limit
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [Candidate(*row) for row in cursor.fetchall()]


def schemas_with_due(*, kind: str, schemas: list[str], now: datetime) -> list[str]:
    """Of ``schemas``, those with something ``kind`` would send now: one statement, a ``UNION ALL``
    of an ``EXISTS`` per schema (each an index probe when nothing is due)."""
    if not schemas:
        return []
    branches = [
        f"SELECT %(schema_{index})s AS schema WHERE EXISTS({candidates_sql(kind, schema=schema)})"
        for index, schema in enumerate(schemas)
    ]
    params = {"now": now, "hours": None, "ignore_pause": False}
    params.update({f"schema_{index}": schema for index, schema in enumerate(schemas)})
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class DigestFigures:
    calls: int
    missed: int
    recovered: int
    booked: int
    booked_value: str  # Decimal as text: the e-mail's context is JSON.
    waiting: int


def digest_figures(*, since: datetime, until: datetime) -> DigestFigures:
    """The owner's digest for ``[since, until)`` in the current business, in one statement: calls,
    missed calls, missed calls recovered by text (the caller wrote back in the call's
    conversation), appointments booked (not cancelled) and their estimated value, and the leads
    waiting in the recovery queue now (the recovery queue's own condition, last 30 days)."""
    tables = _tables(None)
    sql = f"""
        SELECT
          (SELECT count(*) FROM {tables["call"]} k WHERE k.started_at >= %(since)s AND k.started_at < %(until)s),
          (SELECT count(*) FROM {tables["call"]} k WHERE k.started_at >= %(since)s AND k.started_at < %(until)s
             AND k.status = 'missed'),
          (SELECT count(*) FROM {tables["call"]} k WHERE k.started_at >= %(since)s AND k.started_at < %(until)s
             AND k.status = 'missed' AND EXISTS(SELECT 1 FROM {tables["message"]} i
               WHERE i.conversation_id = k.conversation_id AND i.direction = 'inbound' AND i.kind = 'customer')),
          b.booked, b.value,
          (SELECT count(*) FROM {tables["conversation"]} v
             WHERE {_IN_RECOVERY.format(**tables)} AND v.last_message_at <= %(until)s
               AND v.last_message_at > %(until)s - interval '30 days')
        FROM (SELECT count(*) AS booked, COALESCE(sum(a.estimated_value), 0) AS value
              FROM {tables["appointment"]} a
              WHERE a.created_at >= %(since)s AND a.created_at < %(until)s AND a.status <> 'cancelled') b
    """  # noqa: S608  (table names from the models; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"since": since, "until": until})
        calls, missed, recovered, booked, value, waiting = cursor.fetchone()
    return DigestFigures(calls, missed, recovered, booked, f"{value:.2f}", waiting)


@dataclass(frozen=True)
class CallLead:
    customer_number: str
    job_label: str
    intent: str
    outcome: str


def call_leads(*, conversation_ids: list[str]) -> dict[str, CallLead]:
    """What the owner's call summaries say of each conversation: one query."""
    rows = Conversation.objects.filter(id__in=conversation_ids).values_list(
        "id", "customer_number", "lead_job_label", "lead_intent", "lead_outcome"
    )
    return {str(row[0]): CallLead(*row[1:]) for row in rows}


def campaign_settings_get() -> CampaignSettings:
    """The business's campaign settings (the defaults when never saved; not written)."""
    return CampaignSettings.objects.filter(pk=1).first() or CampaignSettings()


@dataclass(frozen=True)
class RecoveryItem:
    conversation_id: object
    customer_number: str
    customer_name: str
    job_label: str
    lead_outcome: str
    ended_at: datetime
    waiting_minutes: int
    over_target: bool
    owner_alerted: bool


def recovery_queue(*, now: datetime, limit: int = 100) -> list[RecoveryItem]:
    """The conversations nobody booked, declined or answered, oldest first, with how long each has
    waited in business hours against the business's response target: one statement for the queue
    (with the target and the business's hours), the minutes counted by ``hours.business_minutes``."""
    tables = _tables(None)
    target = _SETTING.format(field="recovery_target_minutes", settings=tables["settings"], default=15)
    sql = f"""
        SELECT v.id, v.customer_number, v.customer_name, v.lead_job_label, v.lead_outcome, v.last_message_at,
               EXISTS(SELECT 1 FROM {tables["sent"]} m WHERE m.kind = 'recovery' AND m.subject_id = v.id::text),
               {target}, (SELECT business_hours FROM {tables["config"]} WHERE id = 1)
        FROM {tables["conversation"]} v
        WHERE {_IN_RECOVERY.format(**tables)} AND v.last_message_at > %(now)s - interval '30 days'
        ORDER BY v.last_message_at LIMIT %(limit)s
    """  # noqa: S608  (table names from the models; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"now": now, "limit": limit})
        rows = cursor.fetchall()
    tz = ZoneInfo(connection.tenant.timezone)
    items = []
    for *lead, ended_at, alerted, target_minutes, business_hours in rows:
        hours_config = json.loads(business_hours) if isinstance(business_hours, str) else (business_hours or {})
        waiting = hours.business_minutes(ended_at, now, business_hours=hours_config, tz=tz)
        items.append(RecoveryItem(*lead, ended_at, waiting, waiting >= target_minutes, alerted))
    return items


def recovery_due(*, candidates: list[Candidate], now: datetime, target_minutes: int) -> list[Candidate]:
    """Of the recovery candidates (over the target by the wall clock), those whose wait inside the
    business's opening hours has reached it too."""
    if not candidates:
        return []
    business_hours = BusinessConfig.objects.filter(pk=1).values_list("business_hours", flat=True).first() or {}
    tz = ZoneInfo(connection.tenant.timezone)
    return [
        candidate
        for candidate in candidates
        if hours.business_minutes(candidate.starts_at, now, business_hours=business_hours, tz=tz) >= target_minutes
    ]


def campaign_runs_recent(*, limit: int = 50):
    return CampaignRun.objects.all()[:limit]


def reminder_pending_for(*, phone: str, now: datetime) -> CampaignMessage | None:
    """The latest reminder texted to ``phone`` whose appointment is still ahead and active: what a
    "C", "R" or "X" from that number answers. One answered R is no longer pending: the assistant is
    offering new times, and the customer's "sí" answers its offer, not the reminder."""
    upcoming = Appointment.objects.filter(
        status__in=[Appointment.Status.SCHEDULED, Appointment.Status.CONFIRMED], start__gt=now
    ).values("id")
    return (
        CampaignMessage.objects.filter(
            kind=Kind.REMINDER, phone=phone, status=CampaignMessage.Status.QUEUED, appointment_id__in=upcoming
        )
        .exclude(answer=CampaignMessage.Answer.RESCHEDULE)
        .order_by("-created_at")
        .first()
    )
