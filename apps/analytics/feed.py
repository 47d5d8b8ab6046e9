"""The stored activity feed: written for every published dashboard event, read by the overview.

``feed_event_record`` is named in ``settings.EVENT_STORE`` and called by
``nevermisscall.events.publish_event`` inside the transaction that raised the event (the project
package imports no app, so the hook is a setting, like ``WEBSOCKET_URLPATTERNS``). It resolves who
the event is about (the conversation's or the customer's name, else the caller ID name), who spoke
and what was said, stores one row and returns those fields so the live event carries them too.
The same statement records the event's metrics (apps/analytics/metrics.py: raw rows and rollups).
"""

import itertools
import json
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.analytics import metrics
from apps.analytics.models import FeedEvent
from apps.conversations.models import Conversation, Message
from apps.crm.models import Customer
from apps.telephony.models import Call
from nevermisscall.ids import parse_uuid

FEED_KEEP_DAYS = 30
PRUNE_EVERY = 200
_writes = itertools.count(1)

# The feed's sentences, one per event type: rendered by the server for stored rows and handed to
# live.js (as JSON in the page) for live ones, so both come from the same translated catalogue.
FEED_TEXT = {
    "incoming_call": _("Incoming call from %(who)s"),
    "call_missed": _("Missed call from %(who)s"),
    "call_answered": _("Answered call from %(who)s"),
    "call_ended": _("Call with %(who)s ended"),
    "new_message": _("%(who)s texted"),
    "message_sent": _("Text sent to %(who)s"),
    "ai_response": _("The assistant replied to %(who)s"),
    "ai_takeover": _("The assistant took the conversation back"),
    "human_takeover": _("%(by)s took over the conversation with %(who)s"),
    "dashboard_update": _("Appointment booked for %(who)s"),
    "system_alert": _("Alert: %(text)s"),
    "service_status": _("Service status changed"),
    "maintenance_mode": _("Maintenance mode"),
}
FEED_TYPES = frozenset(FEED_TEXT)
ACTOR_TEXT = {
    FeedEvent.Actor.CUSTOMER: _("Customer"),
    FeedEvent.Actor.ASSISTANT: _("Assistant"),
    FeedEvent.Actor.STAFF: _("Staff"),
    FeedEvent.Actor.SYSTEM: _("System"),
}
_KIND_ACTOR = {
    Message.Kind.CUSTOMER: FeedEvent.Actor.CUSTOMER,
    Message.Kind.HUMAN: FeedEvent.Actor.STAFF,
}


def _customer_number(payload: dict) -> str:
    if payload.get("direction") == "outbound" and payload.get("to_number"):
        return payload["to_number"]
    return (
        payload.get("from_number")
        or payload.get("customer_number")
        or payload.get("customer_phone")
        or payload.get("caller")
        or ""
    )


# One round trip per event (it runs in the hottest webhooks' transactions): the number (given, else
# the conversation's or the customer's), the name (conversation, CRM customer, latest caller ID) and
# the conversation (given, else the number's latest) are resolved inside the INSERT, and every
# PRUNE_EVERY-th write of a process also deletes what is older than FEED_KEEP_DAYS (with prune
# false the DELETE is a one-time filter: no scan).
_RECORD_SQL = """
WITH pruned AS (
    DELETE FROM {feed} WHERE %(prune)s AND created_at < %(cutoff)s
),
{metrics}
INSERT INTO {feed} (event_type, payload, customer_number, customer_name, actor, actor_name, text,
                    conversation_id, correlation_id, created_at)
SELECT %(event_type)s, %(payload)s::jsonb, left(n.number, 20),
       left(COALESCE(NULLIF(c.customer_name, ''), NULLIF(cu.name, ''), NULLIF(ca.caller_name, ''), ''), 200),
       %(actor)s, %(actor_name)s, %(text)s, c.id, %(correlation_id)s, %(created_at)s
FROM (
    SELECT COALESCE(
        NULLIF(%(number)s, ''),
        (SELECT customer_number FROM {conversation} WHERE id = %(conversation_id)s::uuid),
        (SELECT phone FROM {customer} WHERE id = %(customer_id)s::uuid),
        ''
    ) AS number
) n
LEFT JOIN LATERAL (
    SELECT id, customer_name FROM {conversation}
    WHERE CASE WHEN %(conversation_id)s::uuid IS NULL THEN n.number <> '' AND customer_number = n.number
               ELSE id = %(conversation_id)s::uuid END
    ORDER BY created_at DESC LIMIT 1
) c ON true
LEFT JOIN LATERAL (
    SELECT name FROM {customer}
    WHERE (n.number <> '' AND phone = n.number) OR id = %(customer_id)s::uuid
    ORDER BY id = %(customer_id)s::uuid DESC NULLS LAST LIMIT 1
) cu ON true
LEFT JOIN LATERAL (
    SELECT caller_name FROM {call}
    WHERE n.number <> '' AND from_number = n.number AND caller_name <> ''
    ORDER BY started_at DESC LIMIT 1
) ca ON true
RETURNING id, customer_number, customer_name, conversation_id
"""


def _record_sql() -> str:
    return _RECORD_SQL.format(
        feed=connection.ops.quote_name(FeedEvent._meta.db_table),
        conversation=connection.ops.quote_name(Conversation._meta.db_table),
        customer=connection.ops.quote_name(Customer._meta.db_table),
        call=connection.ops.quote_name(Call._meta.db_table),
        metrics=metrics.metric_ctes(),
    )


def _staff_name(user_id) -> str:
    if not user_id:
        return ""
    user = User.objects.filter(pk=user_id).only("first_name", "last_name", "email").first()
    if user is None:
        return ""
    return f"{user.first_name} {user.last_name}".strip() or user.email


def _actor_and_text(event_type: str, payload: dict) -> tuple[str, str]:
    if event_type in ("new_message", "message_sent", "ai_response"):
        kind = payload.get("kind")
        actor = _KIND_ACTOR.get(kind, FeedEvent.Actor.ASSISTANT)
        if event_type == "new_message" and payload.get("direction") == "inbound":
            actor = FeedEvent.Actor.CUSTOMER
        return actor, str(payload.get("body") or "")[:2000]
    if event_type == "human_takeover":
        return FeedEvent.Actor.STAFF, ""
    if event_type == "system_alert":
        return FeedEvent.Actor.SYSTEM, str(payload.get("message") or payload.get("title") or "")[:2000]
    if event_type in ("incoming_call", "call_missed", "call_answered", "call_ended"):
        return FeedEvent.Actor.CUSTOMER, ""
    return "", ""


def _shown(event_type: str, payload: dict) -> bool:
    if event_type not in FEED_TYPES:
        return False
    if event_type == "dashboard_update":
        return payload.get("entity") == "appointment" and payload.get("action") == "created"
    # The assistant's SMS reply also arrives as ai_response (with what it said): one row, not two.
    return not (event_type == "message_sent" and payload.get("kind") == Message.Kind.AI)


def feed_event_record(event: dict) -> dict:
    """Store ``event`` in the current business's feed; the fields to add to its live payload."""
    event_type = event["type"]
    payload = event.get("payload") or {}
    increments = metrics.metric_increments(event) + metrics.lead_wait_increment(event)
    if not _shown(event_type, payload):
        metrics.metrics_record(increments=increments, at=metrics.event_time(event))
        return {"shown": False}  # live.js leaves it out of the feed too, so a reload shows the same.
    actor, text = _actor_and_text(event_type, payload)
    actor_name = _staff_name(payload.get("user_id")) if actor == FeedEvent.Actor.STAFF else ""
    stamp = parse_datetime(event["metadata"]["timestamp"]) or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _record_sql(),
            {
                "event_type": event_type,
                "payload": json.dumps(payload),
                "number": _customer_number(payload)[:20],
                "conversation_id": parse_uuid(payload.get("conversation_id")),
                "customer_id": parse_uuid(payload.get("customer_id")),
                "actor": actor,
                "actor_name": actor_name[:200],
                "text": text,
                "correlation_id": str(event["metadata"].get("correlation_id") or "")[:64],
                "created_at": stamp,
                "prune": next(_writes) % PRUNE_EVERY == 0,
                "cutoff": stamp - timedelta(days=FEED_KEEP_DAYS),
                **metrics.metric_params(increments, stamp),
            },
        )
        row_id, number, name, conversation_id = cursor.fetchone()
    return {
        "shown": True,
        "feed_id": row_id,
        "customer_name": name,
        "customer_number": number,
        "actor": actor,
        "actor_name": actor_name,
        "text": text,
        "conversation_id": str(conversation_id) if conversation_id else None,
    }


def feed_prune(*, now: datetime | None = None) -> int:
    """Delete what is older than FEED_KEEP_DAYS now (the writes do it every PRUNE_EVERY-th time)."""
    cutoff = (now or timezone.now()) - timedelta(days=FEED_KEEP_DAYS)
    deleted, _by_model = FeedEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def feed_sentence(event_type: str, *, who: str, by: str = "", text: str = "") -> str:
    template = FEED_TEXT.get(event_type)
    if template is None:
        return event_type.replace("_", " ")
    return str(template) % {"who": who, "by": by or ACTOR_TEXT[FeedEvent.Actor.STAFF], "text": text}


def feed_entry(row: FeedEvent) -> dict:
    """A stored row as the overview shows it (the same fields live.js builds for a live event)."""
    who = row.customer_name or row.customer_number or str(_("a caller"))
    return {
        "id": row.id,
        "type": row.event_type,
        "created_at": row.created_at,
        "who": who,
        "number": row.customer_number if row.customer_name else "",
        "actor": str(ACTOR_TEXT[row.actor]) if row.actor else "",
        "text": row.text if row.event_type != "system_alert" else "",
        "sentence": feed_sentence(row.event_type, who=who, by=row.actor_name, text=row.text),
        "conversation_id": str(row.conversation_id) if row.conversation_id else "",
    }


def live_strings() -> dict:
    """Every string live.js shows, in the active language (it hard-codes none)."""
    return {
        "feed": {event_type: str(text) for event_type, text in FEED_TEXT.items()},
        "actors": {actor: str(text) for actor, text in ACTOR_TEXT.items()},
        "a_caller": str(_("a caller")),
        "open_thread": str(_("Open conversation")),
        "status": {
            "connecting": str(_("Connecting…")),
            "live": str(_("Live")),
            "offline": str(_("Offline, retrying…")),
        },
    }
