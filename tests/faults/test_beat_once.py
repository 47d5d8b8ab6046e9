"""Two beats, as while a deploy overlaps the old one and the new, send each periodic slot once.

Real processes: a Celery worker and two ``celery beat`` with the project's scheduler (django-celery-
beat's database scheduler, both on the test database), the outbox sweep every second. The second
beat starts while the first runs, as a deploy starts the new one. Every task the worker received is
counted from its log against the slots claimed (apps/periodic): one run per claimed slot, and the
beats did try the same slot (the losing one logs it), so the test cannot pass by never overlapping.
"""

import re
import sys
from collections import Counter

import pytest
import redis
from django.conf import settings

from apps.periodic.models import PeriodicSlot
from conftest import process_env
from tests.faults.processes import wait_until

# The mark sets the test database up (also when this file runs alone); the test reads what the
# processes commit, which its own transaction sees (read committed).
pytestmark = [pytest.mark.django_db, pytest.mark.timeout(90)]

RECEIVED = re.compile(r"Task ([\w.]+)\[([0-9a-f-]{36})\] received")
SKIPPED = "was sent for this slot by another beat"
BEAT = [sys.executable, "-m", "celery", "-A", "nevermisscall", "beat", "--loglevel=INFO"]


@pytest.fixture
def broker_url():
    """A Redis database of its own, so the session's worker (``celery_worker_process``) takes none of these tasks."""
    url = settings.REDIS_URL.rsplit("/", 1)[0] + "/2"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


def _claims() -> Counter:
    return Counter(PeriodicSlot.objects.values_list("name", flat=True))


def _skipped(processes) -> int:
    return sum(processes.output(name).count(SKIPPED) for name in ("beat-old", "beat-new"))


def test_two_beats_send_each_slot_once(processes, beat_state_cleaned, broker_url):
    env = process_env(REDIS_URL=broker_url, DELIVERY_SWEEP_SECONDS="1", LOG_LEVEL="INFO", PYTHONUNBUFFERED="1")
    worker = [sys.executable, "-m", "celery", "-A", "nevermisscall", "worker", "--pool=solo", "--loglevel=INFO"]
    worker += ["--without-mingle", "--without-gossip", "-n", "faults-beat@%h"]
    processes.start("worker", worker, env=env, cwd=settings.BASE_DIR)
    old_beat = processes.start("beat-old", BEAT, env=env, cwd=settings.BASE_DIR)
    wait_until(lambda: _claims()["outbox-sweep"], timeout=30, what="the first beat's first sweep")
    new_beat = processes.start("beat-new", BEAT, env=env, cwd=settings.BASE_DIR)
    wait_until(lambda: _skipped(processes) >= 4, timeout=30, what="both beats to try the same slots")
    for beat in (old_beat, new_beat):
        processes.stop(beat)

    # Every claimed slot's task reaches the worker; then the broker holds nothing more.
    client = redis.Redis.from_url(broker_url)
    wait_until(lambda: not client.llen("celery") and not client.hlen("unacked"), timeout=20, what="the worker to drain")
    client.close()
    claims = _claims()

    received = {task_id: task for task, task_id in RECEIVED.findall(processes.output("worker"))}
    runs = Counter(received.values())
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert runs[entry["task"]] == claims[name], name
    assert claims["outbox-sweep"] >= 3
    assert _skipped(processes) >= 4
