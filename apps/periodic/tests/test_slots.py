"""A periodic slot is claimed once, whoever asks; old claims go as new ones come. Two real beats
claiming for real: tests/faults/test_beat_once.py."""

from datetime import UTC, datetime, timedelta

import pytest
from celery.schedules import crontab, schedule

from apps.periodic.models import PeriodicSlot
from apps.periodic.scheduler import slot_seconds
from apps.periodic.services import SLOT_RETENTION, periodic_slot_claim

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


def _claim(now: datetime, *, by: str = "beat-a:1", name: str = "outbox-sweep", period: float = 10.0) -> bool:
    return periodic_slot_claim(name=name, period_seconds=period, now=now, claimed_by=by)


def test_the_first_beat_claims_a_slot_and_the_second_does_not():
    assert _claim(NOON + timedelta(seconds=1), by="beat-a:1")
    assert not _claim(NOON + timedelta(seconds=9.999), by="beat-b:2")
    assert not _claim(NOON + timedelta(seconds=3), by="beat-a:1")
    [slot] = PeriodicSlot.objects.all()
    assert (slot.name, slot.slot_start, slot.claimed_by) == ("outbox-sweep", NOON, "beat-a:1")


def test_the_next_slot_and_another_entry_are_claims_of_their_own():
    assert _claim(NOON)
    assert _claim(NOON + timedelta(seconds=10))
    assert _claim(NOON, name="call-status-sweep", period=30.0)
    assert PeriodicSlot.objects.count() == 3


def test_a_claim_deletes_that_entrys_claims_past_the_retention():
    old = NOON - SLOT_RETENTION - timedelta(seconds=10)
    assert _claim(old)
    assert _claim(old, name="lead-idle-sweep", period=600.0)
    assert _claim(NOON - SLOT_RETENTION + timedelta(seconds=10))
    assert _claim(NOON)
    assert sorted(PeriodicSlot.objects.values_list("name", "slot_start")) == [
        ("lead-idle-sweep", datetime.fromtimestamp(old.timestamp() // 600 * 600, UTC)),
        ("outbox-sweep", NOON - SLOT_RETENTION + timedelta(seconds=10)),
        ("outbox-sweep", NOON),
    ]


def test_an_interval_schedule_slots_by_its_interval_and_a_calendar_one_by_the_minute():
    assert slot_seconds(schedule(timedelta(seconds=2.5))) == 2.5
    assert slot_seconds(crontab(minute="*/5")) == 60.0
