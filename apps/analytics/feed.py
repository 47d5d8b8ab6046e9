"""The stored activity feed: written for every published dashboard event, read by the overview.

``feed_event_record`` is named in ``settings.EVENT_STORE`` and called by
``nevermisscall.events.publish_event`` inside the transaction that raised the event (the project
package imports no app, so the hook is a setting, like ``WEBSOCKET_URLPATTERNS``). It resolves who
the event is about (the conversation's or the customer's name, else the caller ID name), who spoke
and what was said, stores one row and returns those fields so the live event carries them too.
"""

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.analytics.models import FeedEvent
from apps.conversations.models import Conversation, Message
from apps.crm.models import Customer
from apps.telephony.models import Call

FEED_KEEP_DAYS = 30
# Every PRUNE_EVERY-th row written deletes what is older than FEED_KEEP_DAYS: one indexed range
# delete now and then, no beat task, no per-write cost.
PRUNE_EVERY = 200

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


def _resolve_name(*, number: str, conversation_id, customer_id=None) -> tuple[str, str, str | None]:
    """The customer's name (conversation, CRM, caller ID), number, and the conversation of the event."""
    name = ""
    if customer_id:
        row = Customer.objects.filter(pk=customer_id).values_list("name", "phone").first()
        if row:
            name, number = row[0], number or row[1]
    if conversation_id and not number:
        number = Conversation.objects.filter(pk=conversation_id).values_list("customer_number", flat=True).first() or ""
    if conversation_id and not name:
        row = Conversation.objects.filter(pk=conversation_id).values_list("customer_name", flat=True).first()
        name = row or ""
    if not name and number:
        name = Customer.objects.filter(phone=number).values_list("name", flat=True).first() or ""
    if not name and number:
        name = (
            Call.objects.filter(from_number=number)
            .exclude(caller_name="")
            .order_by("-started_at")
            .values_list("caller_name", flat=True)
            .first()
            or ""
        )
    if not conversation_id and number:
        conversation_id = (
            Conversation.objects.filter(customer_number=number)
            .order_by("-created_at")
            .values_list("id", flat=True)
            .first()
        )
    return name, number, (str(conversation_id) if conversation_id else None)


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


def feed_event_record(event: dict) -> dict:
    """Store ``event`` in the current business's feed; the fields to add to its live payload."""
    event_type = event["type"]
    payload = event.get("payload") or {}
    if event_type not in FEED_TYPES:
        return {}
    if event_type == "dashboard_update" and not (
        payload.get("entity") == "appointment" and payload.get("action") == "created"
    ):
        return {}
    number = _customer_number(payload)
    name, number, conversation_id = _resolve_name(
        number=number, conversation_id=payload.get("conversation_id"), customer_id=payload.get("customer_id")
    )
    actor, text = _actor_and_text(event_type, payload)
    actor_name = _staff_name(payload.get("user_id")) if actor == FeedEvent.Actor.STAFF else ""
    stamp = parse_datetime(event["metadata"]["timestamp"]) or timezone.now()
    row = FeedEvent.objects.create(
        event_type=event_type,
        payload=payload,
        customer_number=number[:20],
        customer_name=name[:200],
        actor=actor,
        actor_name=actor_name,
        text=text,
        conversation_id=conversation_id,
        correlation_id=str(event["metadata"].get("correlation_id") or "")[:64],
        created_at=stamp,
    )
    if row.id % PRUNE_EVERY == 0:
        feed_prune()
    return {
        "feed_id": row.id,
        "customer_name": name,
        "customer_number": number,
        "actor": actor,
        "actor_name": actor_name,
        "text": text,
        "conversation_id": conversation_id,
    }


def feed_prune(*, now: datetime | None = None) -> int:
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
        "emergency": str(_("Emergency")),
    }
