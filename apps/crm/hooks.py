"""What the CRM needs from the apps above it, registered from their ``AppConfig.ready`` so that the
dependencies keep pointing one way (telephony → conversations → dispatch → crm: they import crm,
never the reverse).

- ``timeline sources``: ``source(numbers, limit, cursor) -> list[TimelineItem]``, the customer's
  rows of one kind (conversations: ``conversation`` and ``message``; telephony: ``call``), newest
  first, at most ``limit``, strictly past ``cursor`` (use ``keyset_after``). One query each.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q

from nevermisscall.ids import parse_uuid


@dataclass(frozen=True)
class TimelineItem:
    kind: str
    id: str
    at: datetime
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TimelineCursor:
    """A position in the order (time desc, kind desc, id desc)."""

    at: datetime
    kind: str
    id: str

    def encode(self) -> str:
        return f"{self.at.isoformat()}~{self.kind}~{self.id}"

    @classmethod
    def decode(cls, raw: str) -> "TimelineCursor | None":
        try:
            at, kind, pk = raw.split("~")
            moment = datetime.fromisoformat(at)
        except ValueError:
            return None
        if not kind or parse_uuid(pk) is None or moment.tzinfo is None:
            return None
        return cls(at=moment, kind=kind, id=str(parse_uuid(pk)))


def keyset_after(queryset, *, field: str, kind: str, cursor: TimelineCursor | None):
    """``queryset`` ordered newest first and cut to the rows after ``cursor``."""
    ordered = queryset.order_by(f"-{field}", "-id")
    if cursor is None:
        return ordered
    if kind < cursor.kind:
        return ordered.filter(**{f"{field}__lte": cursor.at})
    if kind > cursor.kind:
        return ordered.filter(**{f"{field}__lt": cursor.at})
    return ordered.filter(Q(**{f"{field}__lt": cursor.at}) | Q(**{field: cursor.at, "id__lt": cursor.id}))


TimelineSource = Callable[[list[str], int, TimelineCursor | None], list[TimelineItem]]
_timeline_sources: dict[str, TimelineSource] = {}


def register_timeline_source(kind: str, source: TimelineSource) -> None:
    _timeline_sources[kind] = source


def timeline_sources() -> dict[str, TimelineSource]:
    return dict(_timeline_sources)
