import pytest
from django.conf import settings

from tests.faults.processes import Processes


@pytest.fixture
def processes(tmp_path):
    """Start real processes (``processes.start(name, command, env=…, cwd=…)``); all stopped afterwards."""
    started = Processes(tmp_path)
    yield started
    started.stop_all()


@pytest.fixture(scope="module")
def beat_state_cleaned(django_db_setup, django_db_blocker):
    """No periodic slots claimed or beat schedule state from before, and none left for the rest of the
    session by the beats a test starts: cleaned outside the test's transaction (rolled back), as the
    processes' rows are committed."""
    from django_celery_beat.models import PeriodicTask

    from apps.periodic.models import PeriodicSlot

    def clean():
        PeriodicSlot.objects.all().delete()
        PeriodicTask.objects.filter(name__in=settings.CELERY_BEAT_SCHEDULE).delete()

    with django_db_blocker.unblock():
        clean()
        yield
        clean()
