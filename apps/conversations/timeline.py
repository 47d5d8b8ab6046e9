"""The conversations and messages of a customer's CRM timeline (registered in ``apps.py``)."""

from apps.conversations.models import Conversation, Message
from apps.crm.hooks import TimelineItem, keyset_after


def conversation_items(numbers, limit, cursor) -> list[TimelineItem]:
    rows = keyset_after(
        Conversation.objects.filter(customer_number__in=numbers), field="created_at", kind="conversation", cursor=cursor
    )
    return [
        TimelineItem(
            kind="conversation",
            id=str(c.pk),
            at=c.created_at,
            data={
                "status": c.status,
                "customer_number": c.customer_number,
                "handled_by": c.handled_by,
                "lead_outcome": c.lead_outcome,
                "lead_job_type": c.lead_job_type,
            },
        )
        for c in rows[:limit]
    ]


def message_items(numbers, limit, cursor) -> list[TimelineItem]:
    rows = keyset_after(
        Message.objects.filter(conversation__customer_number__in=numbers),
        field="created_at",
        kind="message",
        cursor=cursor,
    )
    return [
        TimelineItem(
            kind="message",
            id=str(m.pk),
            at=m.created_at,
            data={
                "conversation_id": str(m.conversation_id),
                "direction": m.direction,
                "kind": m.kind,
                "body": m.body,
                "status": m.status,
            },
        )
        for m in rows[:limit]
    ]
