"""The beat scheduler (``CELERY_BEAT_SCHEDULER``): django-celery-beat's, sending every entry at most
once per slot across all the beats that run, as two do while a deploy overlaps them.

The claim is made where the task is sent, so it covers every entry (``CELERY_BEAT_SCHEDULE`` and
any made in the admin) in one place; the task itself is untouched, so a run redelivered after a
worker died still runs, and calling a task by hand is never skipped.
"""

import logging
import os
import socket

from celery.schedules import schedule
from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from django_celery_beat.schedulers import DatabaseScheduler

from apps.periodic.services import periodic_slot_claim

logger = logging.getLogger(__name__)

# Crontab, solar and clocked schedules fire at most once a minute.
COARSE_SLOT_SECONDS = 60.0


def slot_seconds(entry_schedule) -> float:
    """The slot of an entry: its interval, or a minute for the calendar-based schedules."""
    if isinstance(entry_schedule, schedule):
        return entry_schedule.run_every.total_seconds()
    return COARSE_SLOT_SECONDS


class OncePerSlotScheduler(DatabaseScheduler):
    def __init__(self, *args, **kwargs):
        self.claimed_by = f"{socket.gethostname()}:{os.getpid()}"
        super().__init__(*args, **kwargs)

    def apply_entry(self, entry, producer=None):
        try:
            close_old_connections()  # As django-celery-beat does: a connection broken since is replaced.
            claimed = periodic_slot_claim(
                name=entry.name,
                period_seconds=slot_seconds(entry.schedule),
                now=timezone.now(),
                claimed_by=self.claimed_by,
            )
        except DatabaseError:
            logger.exception("could not claim this slot of %s; not sending it", entry.name)
            return
        if not claimed:
            logger.info("Scheduler: %s was sent for this slot by another beat", entry.name)
            return
        super().apply_entry(entry, producer=producer)
