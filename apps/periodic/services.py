"""Claiming a periodic slot: the first beat to claim it sends the task, any other beat does nothing."""

import math
from datetime import UTC, datetime, timedelta

from apps.periodic.models import PeriodicSlot
from nevermisscall.db import execute_one, insert_sql

# Claims older than this are deleted as new ones are made (one indexed range per claim).
SLOT_RETENTION = timedelta(days=1)


def periodic_slot_claim(*, name: str, period_seconds: float, now: datetime, claimed_by: str) -> bool:
    """Claim the slot of ``now`` for the schedule entry ``name``; False if another beat has it.

    One ``INSERT … ON CONFLICT DO NOTHING`` on the primary key (name, slot start): the database decides
    between beats claiming at the same moment, and a lost race logs no error in PostgreSQL."""
    start = math.floor(now.timestamp() / period_seconds) * period_seconds
    slot = PeriodicSlot(name=name, slot_start=datetime.fromtimestamp(start, UTC), claimed_by=claimed_by)
    statement, params = insert_sql([slot])
    if execute_one(f"{statement} ON CONFLICT DO NOTHING RETURNING 1", params) is None:
        return False
    PeriodicSlot.objects.filter(name=name, slot_start__lt=now - SLOT_RETENTION).delete()
    return True
