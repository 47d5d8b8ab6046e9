"""One row per periodic slot that a beat sent: its primary key lets only one beat send it."""

from django.db import models
from django.db.models.functions import Now


class PeriodicSlot(models.Model):
    pk = models.CompositePrimaryKey("name", "slot_start")
    # The beat schedule entry's name (``outbox-sweep``): two entries may run one task with other arguments.
    name = models.CharField(max_length=200)
    # The start of the slot, floor(now / period) * period, so every beat computes the same one.
    slot_start = models.DateTimeField()
    claimed_at = models.DateTimeField(db_default=Now())
    claimed_by = models.CharField(max_length=200, help_text="the beat that sent it: host:pid")

    def __str__(self):
        return f"{self.name} @ {self.slot_start:%Y-%m-%d %H:%M:%S.%f}"
