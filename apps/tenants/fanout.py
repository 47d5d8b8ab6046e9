"""Beat fan-outs that skip idle businesses cheaply.

A sweep that looked into every schema for due work would cost, every cycle, a round trip and a
``SET search_path`` per business — or, asked in one statement, the planning of one probe per schema:
1,000 businesses, 1,000 looks, nearly all finding nothing. Instead the writers mark their business:
PostgreSQL triggers on the tenant tables (``public.nmc_work_mark()``, migrations ``tenants`` 0003,
``telephony`` 0004, ``conversations`` 0010) insert a ``WorkMark`` (schema, kind, the row's time) in
the writer's own transaction whenever a row becomes pending. A sweep reads the marks due
(``businesses_marked``: one indexed query, as long as the work due), visits only those businesses,
and then replaces the marks it saw by one for the earliest work still pending there, if any
(``business_marks_replace``; none when a mark as early is there already), so unfinished work is
visited again and finished work never.

Marks are only inserted by writers and deleted by id by the sweep that read them: a mark committed
while a sweep runs is not among the ids it saw, so it survives for the next cycle — no lock, no race.
"""

from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name

from apps.tenants.models import Business, WorkMark

CALL_STATUS = "call_status"
INBOUND = "inbound"
LEAD_IDLE = "lead_idle"


def serving_businesses():
    """Businesses whose work runs: active, and not in maintenance after a failed migration."""
    return Business.objects.exclude(schema_name=get_public_schema_name()).filter(
        status=Business.Status.ACTIVE, migration_failed_at__isnull=True
    )


def businesses_marked(*, kind: str, due_by) -> list[tuple[Business, list[int]]]:
    """The serving businesses with a ``kind`` mark due by ``due_by``, each with the ids of those marks.

    A suspended business's marks stay for when it is reactivated; the marks of a schema that is no
    business (deleted) are dropped."""
    connection.set_schema_to_public()
    marks: dict[str, list[int]] = {}
    for mark_id, schema_name in WorkMark.objects.filter(kind=kind, at__lte=due_by).values_list("id", "schema_name"):
        marks.setdefault(schema_name, []).append(mark_id)
    if not marks:
        return []
    businesses = {business.schema_name: business for business in Business.objects.filter(schema_name__in=marks)}
    orphaned = [mark_id for schema_name, ids in marks.items() if schema_name not in businesses for mark_id in ids]
    if orphaned:
        WorkMark.objects.filter(id__in=orphaned).delete()
    serving = set(serving_businesses().filter(schema_name__in=businesses).values_list("schema_name", flat=True))
    return [(businesses[name], marks[name]) for name in sorted(serving)]


@transaction.atomic
def business_marks_replace(*, business: Business, kind: str, seen: list[int], next_at) -> None:
    """After a sweep's visit: the marks it saw are done; ``next_at`` (the time of the earliest
    ``kind`` work still pending in the business, or None) is when it is due a visit again."""
    WorkMark.objects.filter(id__in=seen).delete()
    marks = WorkMark.objects.filter(schema_name=business.schema_name, kind=kind)
    if next_at is not None and not marks.filter(at__lte=next_at).exists():
        WorkMark.objects.create(schema_name=business.schema_name, kind=kind, at=next_at)
