"""Reads of conversations, messages and opt-outs (the current schema's)."""

import json
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from apps.conversations.models import Conversation, ConversationNote, ConversationRead, Message, OptOut, QuickReply
from nevermisscall.ids import parse_uuid

# The speakers of the engine's history (``conversation_history``).
ROLE_OF_KIND = {
    Message.Kind.CUSTOMER: "customer",
    Message.Kind.AI: "assistant",
    Message.Kind.AUTO_REPLY: "business",
    Message.Kind.HUMAN: "business",
}


def opt_out_rows(*, phone_number: str) -> QuerySet:
    """Non-empty when ``phone_number`` replied STOP to this business."""
    return OptOut.objects.filter(phone_number=phone_number, opted_out=True)


def is_opted_out(*, phone_number: str) -> bool:
    return opt_out_rows(phone_number=phone_number).exists()


def conversation_history_sql(*, conversation_id: str, created_at: str, message_id: str) -> str:
    """A scalar subquery: the rows of ``conversation_history`` (kind, body, proposed slot of every
    message before the one given, oldest first) as one JSON array, so that the statement that
    claims the message reads them too; the arguments are SQL expressions."""
    table = connection.ops.quote_name(Message._meta.db_table)
    return (
        "(SELECT coalesce(json_agg(json_build_array(earlier.kind, earlier.body, earlier.proposed_slot)"  # noqa: S608
        f" ORDER BY earlier.created_at), '[]') FROM {table} earlier WHERE earlier.conversation_id = {conversation_id}"
        f" AND earlier.created_at <= {created_at} AND earlier.id <> {message_id})"
    )


def conversation_history(rows) -> list[dict]:
    """The dispatch engine's history from the rows of ``conversation_history_sql`` (a JSON array, or
    its text): every message before the current one, oldest first, with the slot each assistant
    reply proposed (keyword replies such as HELP are not part of the dialogue)."""
    if isinstance(rows, str):
        rows = json.loads(rows)
    history = []
    for kind, body, proposed_slot in rows:
        role = ROLE_OF_KIND.get(kind)
        if role is None:
            continue
        entry = {"role": role, "content": body}
        if role == "assistant":
            entry["proposed_slot"] = proposed_slot
        history.append(entry)
    return history


def conversation_is_open(conversation: Conversation, *, now: datetime | None = None) -> bool:
    """Active and not dormant: a message within ``CONVERSATION_IDLE_HOURS``."""
    if conversation.status != Conversation.Status.ACTIVE or conversation.last_message_at is None:
        return False
    now = now or timezone.now()
    return conversation.last_message_at >= now - timedelta(hours=settings.CONVERSATION_IDLE_HOURS)


def auto_reply_history(*, phone_number: str) -> tuple[bool, datetime | None]:
    """Whether ``phone_number`` opted out, and when it last got a missed-call text: one round trip,
    because it runs on every missed call."""
    opted_out = OptOut.objects.filter(phone_number=phone_number, opted_out=True).values("id")[:1]
    last_auto_reply = (
        Message.objects.filter(to_number=phone_number, kind=Message.Kind.AUTO_REPLY)
        .exclude(status=Message.Status.CANCELED)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    opted_sql, opted_params = opted_out.query.sql_with_params()
    last_sql, last_params = last_auto_reply.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS({opted_sql}), ({last_sql})", [*opted_params, *last_params])
        opted, last = cursor.fetchone()
    return bool(opted), last


def conversation_list(*, filters: dict) -> QuerySet[Conversation]:
    queryset = Conversation.objects.annotate(message_count=Count("messages"))
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("handled_by"):
        queryset = queryset.filter(handled_by=filters["handled_by"])
    if filters.get("customer_number"):
        queryset = queryset.filter(customer_number__contains=filters["customer_number"])
    if filters.get("date_from"):
        queryset = queryset.filter(created_at__gte=filters["date_from"])
    if filters.get("date_to"):
        queryset = queryset.filter(created_at__lt=filters["date_to"])
    if filters.get("lead_outcome"):
        queryset = queryset.filter(lead_outcome=filters["lead_outcome"])
    if filters.get("lead_urgency"):
        queryset = queryset.filter(lead_urgency=filters["lead_urgency"])
    return queryset.order_by("-created_at", "-id")


def conversation_get(*, conversation_id) -> Conversation | None:
    pk = parse_uuid(conversation_id)
    if pk is None:
        return None
    return Conversation.objects.annotate(message_count=Count("messages")).filter(pk=pk).first()


def message_conversation_id(*, message_id) -> uuid.UUID | None:
    """The conversation of a message (the cause of its delivery), or None."""
    pk = parse_uuid(message_id)
    return Message.objects.filter(pk=pk).values_list("conversation_id", flat=True).first() if pk else None


def message_list(*, conversation: Conversation, filters: dict | None = None) -> QuerySet[Message]:
    filters = filters or {}
    queryset = Message.objects.filter(conversation=conversation)
    if filters.get("direction"):
        queryset = queryset.filter(direction=filters["direction"])
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    return queryset.order_by("created_at", "id").prefetch_related("status_events")


def inbound_unhandled(*, older_than_seconds: int, within_hours: int, limit: int = 500) -> list:
    """Ids of inbound messages the engine never decided on (lost hand-off), oldest first; none older
    than ``within_hours`` (a conversation idle that long is over)."""
    now = timezone.now()
    return list(
        Message.objects.filter(
            direction=Message.Direction.INBOUND,
            handled_at__isnull=True,
            created_at__lt=now - timedelta(seconds=older_than_seconds),
            created_at__gte=now - timedelta(hours=within_hours),
        )
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )


def inbound_unhandled_since(*, within_hours: int):
    """When the oldest inbound message the engine has not decided on arrived, among those not older
    than ``within_hours`` (None: none)."""
    return Message.objects.filter(
        direction=Message.Direction.INBOUND,
        handled_at__isnull=True,
        created_at__gte=timezone.now() - timedelta(hours=within_hours),
    ).aggregate(at=Min("created_at"))["at"]


def open_leads_quiet_since():
    """The last message of the quietest active conversation without a lead outcome (None: none)."""
    return Conversation.objects.filter(status=Conversation.Status.ACTIVE, lead_outcome="").aggregate(
        at=Min("last_message_at")
    )["at"]


# --- the inbox ------------------------------------------------------------------------------------

INBOX_FILTERS = ("active", "resolved", "needs_you", "mine", "unassigned")


def inbox_list(*, user, view: str = "active") -> QuerySet[Conversation]:
    """The inbox of ``user``: conversations that need a person first (newest alarm first), then by
    the latest message; each with its last message (preview, who wrote it) and ``unread`` for this
    user (a message after their last read, or never read). One statement, whatever the page size."""
    last = Message.objects.filter(conversation=OuterRef("pk")).order_by("-created_at", "-id")
    read_at = ConversationRead.objects.filter(conversation=OuterRef("pk"), user_id=user.pk).values("read_at")[:1]
    queryset = Conversation.objects.annotate(
        last_body=Subquery(last.values("body")[:1]),
        last_kind=Subquery(last.values("kind")[:1]),
        last_direction=Subquery(last.values("direction")[:1]),
        read_at=Subquery(read_at),
    ).annotate(
        unread=Q(last_message_at__isnull=False) & (Q(read_at__isnull=True) | Q(last_message_at__gt=F("read_at"))),
    )
    if view == "resolved":
        queryset = queryset.filter(status=Conversation.Status.RESOLVED)
    elif view == "all":
        pass
    else:
        queryset = queryset.filter(status=Conversation.Status.ACTIVE)
    if view == "needs_you":
        queryset = queryset.filter(needs_you_at__isnull=False)
    elif view == "mine":
        queryset = queryset.filter(assigned_to=user.pk)
    elif view == "unassigned":
        queryset = queryset.filter(assigned_to__isnull=True)
    return queryset.order_by(
        F("needs_you_at").desc(nulls_last=True), F("last_message_at").desc(nulls_last=True), "-created_at"
    )


def needs_you_list(*, limit: int = 5) -> list[Conversation]:
    """Open conversations waiting for a person, latest alarm first (the pinned banner)."""
    return list(
        Conversation.objects.filter(status=Conversation.Status.ACTIVE, needs_you_at__isnull=False).order_by(
            "-needs_you_at"
        )[:limit]
    )


def conversation_unread_count(*, user) -> int:
    """The Inbox tab's badge for ``user``: open conversations with a message they have not read,
    or that need a person (a "Needs you" thread counts even once read, until someone acts)."""
    read_since_last = ConversationRead.objects.filter(
        conversation=OuterRef("pk"), user_id=user.pk, read_at__gte=OuterRef("last_message_at")
    )
    unread = Q(last_message_at__isnull=False) & ~Exists(read_since_last)
    return (
        Conversation.objects.filter(status=Conversation.Status.ACTIVE)
        .filter(unread | Q(needs_you_at__isnull=False))
        .count()
    )


def conversation_timeline(*, conversation: Conversation) -> list:
    """Messages and internal notes of the thread, oldest first (notes have ``is_note``)."""
    messages = list(Message.objects.filter(conversation=conversation).order_by("created_at", "id"))
    notes = list(ConversationNote.objects.filter(conversation=conversation).order_by("created_at"))
    for note in notes:
        note.is_note = True
    return sorted([*messages, *notes], key=lambda item: item.created_at)


def note_list(*, conversation: Conversation) -> QuerySet[ConversationNote]:
    return ConversationNote.objects.filter(conversation=conversation).order_by("created_at")


def quick_reply_list() -> QuerySet[QuickReply]:
    return QuickReply.objects.order_by("position", "id")


def teammate_list(*, business) -> list:
    """The people of ``business`` a conversation can be assigned to (public schema)."""
    from apps.accounts.models import User

    return list(User.objects.filter(business=business, is_active=True).order_by("first_name", "email"))


def customer_panel(*, conversation: Conversation) -> dict:
    """The customer side panel: the CRM customer (name, address), the appointment the assistant
    booked or the customer's next one, and their latest calls."""
    from apps.conversations.hooks import hooks
    from apps.crm.models import Appointment
    from apps.crm.selectors import customer_get_by_phone

    customer = customer_get_by_phone(phone=conversation.customer_number)  # Numbers merged in too.
    appointment = None
    if conversation.appointment_id:
        appointment = Appointment.objects.filter(pk=conversation.appointment_id).first()
    if appointment is None and customer is not None:
        appointment = (
            Appointment.objects.filter(
                customer=customer,
                status__in=[Appointment.Status.SCHEDULED, Appointment.Status.CONFIRMED],
                end__gt=timezone.now(),
            )
            .order_by("start")
            .first()
        )
    return {
        "customer": customer,
        "name": conversation.customer_name or (customer.name if customer else ""),
        "address": conversation.lead_address or (customer.address if customer else ""),
        "appointment": appointment,
        "calls": hooks.recent_calls(conversation.customer_number, 5),
    }
