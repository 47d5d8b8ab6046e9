"""Reads of the beat's claimed slots (the operations page and beat's health check)."""

from datetime import datetime

from apps.periodic.models import PeriodicSlot


def periodic_last_claims(*, names) -> dict[str, tuple[datetime, str]]:
    """Per schedule entry: when a beat last claimed (so sent) it, and which beat (host:pid).
    One primary-key range read per entry (the table is pruned to a day, but has no claimed_at index)."""
    found = {}
    for name in names:
        row = (
            PeriodicSlot.objects.filter(name=name)
            .order_by("-slot_start")
            .values_list("claimed_at", "claimed_by")
            .first()
        )
        if row is not None:
            found[name] = row
    return found
