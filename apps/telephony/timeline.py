"""The calls of a customer's CRM timeline (registered in ``apps.py``)."""

from django.db.models import Q

from apps.crm.hooks import TimelineItem, keyset_after
from apps.telephony.models import Call


def call_items(numbers, limit, cursor) -> list[TimelineItem]:
    calls = Call.objects.filter(
        Q(from_number__in=numbers) | Q(direction=Call.Direction.OUTBOUND, to_number__in=numbers)
    )
    return [
        TimelineItem(
            kind="call",
            id=str(c.pk),
            at=c.started_at,
            data={
                "direction": c.direction,
                "status": c.status,
                "missed_reason": c.missed_reason,
                "duration": c.duration,
                "from_number": c.from_number,
                "conversation_id": str(c.conversation_id) if c.conversation_id else None,
            },
        )
        for c in keyset_after(calls, field="started_at", kind="call", cursor=cursor)[:limit]
    ]
