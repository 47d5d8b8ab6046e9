import pytest

from tests.faults.processes import Processes


@pytest.fixture
def processes(tmp_path):
    """Start real processes (``processes.start(name, command, env=…, cwd=…)``); all stopped afterwards."""
    started = Processes(tmp_path)
    yield started
    started.stop_all()
