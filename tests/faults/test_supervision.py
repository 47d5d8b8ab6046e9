"""``make run``'s supervisor (nevermisscall/supervisor.py) with real processes: what dies comes back,
the rest keep serving, and Ctrl-C stops everything it started.

The launcher runs as ``make run`` runs it, minus the migrations and the demo seed (``serve``: two
minutes on a fresh database here): against the test database, or with its own embedded PostgreSQL
in a data directory of its own; its Redis is always its own.
"""

import json
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

import psutil
import pytest
from django.conf import settings

from conftest import free_port, process_env
from nevermisscall.supervisor import Command, Supervisor
from tests.faults.processes import alive, child_running, http_get, kill, tree, wait_until

pytestmark = pytest.mark.timeout(120)

LAUNCHER = [sys.executable, "-m", "nevermisscall.launcher", "serve"]
# The web process, by its command line (daphne, started through nevermisscall.server).
WEB = "nevermisscall.asgi:application"


@pytest.fixture
def data_dir(processes):
    """An ``NMC_DATA_DIR`` under .data/ (a short path: PostgreSQL's socket lives in it). Afterwards,
    once ``processes`` has stopped the launcher, the stores it left there if a test failed before
    stopping it are killed, and the directory goes."""
    parent = Path(settings.BASE_DIR) / ".data"
    parent.mkdir(exist_ok=True)  # A fresh clone has none until something stores data there.
    path = Path(tempfile.mkdtemp(prefix="faults-", dir=parent))
    yield path
    processes.stop_all()
    kill([process for process in _stores(path).values() if process is not None])
    shutil.rmtree(path, ignore_errors=True)


def _stores(data_dir: Path) -> dict[str, psutil.Process | None]:
    """The embedded servers running from ``data_dir``, by name."""
    found = {}
    for name, pid_file in (
        ("postgres", data_dir / "pg" / "postmaster.pid"),
        ("redis", data_dir / "redis" / "redis.pid"),
    ):
        try:
            process = psutil.Process(int(pid_file.read_text().split()[0]))
            # Redis runs in its directory, PostgreSQL names its own: not a process that took a stale pid.
            ours = str(data_dir) in f"{process.cwd()} {' '.join(process.cmdline())}"
            found[name] = process if alive(process.pid) and ours else None
        except (OSError, ValueError, IndexError, psutil.NoSuchProcess):
            found[name] = None
    return found


def _kill_and_wait_for_restart(data_dir: Path, store: str) -> psutil.Process:
    old = _stores(data_dir)[store]
    assert old is not None
    old.kill()
    return wait_until(
        lambda: (new := _stores(data_dir)[store]) is not None and new.pid != old.pid and new,
        timeout=30,
        what=f"{store} restarted",
    )


def _launcher_env(data_dir: Path, *, own_postgres: bool) -> tuple[dict, str]:
    port = str(free_port())
    env = process_env(NMC_DATA_DIR=str(data_dir), PORT=port, CELERY_CONCURRENCY="1", PYTHONUNBUFFERED="1")
    for variable in ("REDIS_URL", *(("DATABASE_URL",) if own_postgres else ())):
        env.pop(variable)
    return env, f"http://127.0.0.1:{port}"


def _health(base_url: str) -> dict:
    answer = http_get(f"{base_url}/health/detailed", timeout=10)
    return json.loads(answer[1])["checks"] if answer else {}


class Prober(threading.Thread):
    """GETs a URL back to back until stopped; keeps the failures."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.answers, self.failures = url, 0, []
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.05):
            answer = http_get(self.url, timeout=5)
            if answer and answer[0] == 200:
                self.answers += 1
            else:
                self.failures.append(answer)

    def stop(self) -> None:
        self.done.set()
        self.join()


def _stop_launcher(processes, launcher, started: list[psutil.Process], base_url: str) -> None:
    """Ctrl-C: the launcher exits cleanly and nothing it started is left running."""
    assert processes.stop(launcher, signum=signal.SIGINT, timeout=60) == 0
    assert [process for process in started if alive(process.pid)] == []
    assert http_get(f"{base_url}/healthz", timeout=1) is None


@pytest.mark.django_db  # The launcher serves the test database.
def test_a_killed_worker_and_redis_come_back_while_web_keeps_serving(processes, data_dir, beat_state_cleaned):
    env, base_url = _launcher_env(data_dir, own_postgres=False)
    launcher = processes.start("launcher", LAUNCHER, env=env, cwd=settings.BASE_DIR)
    wait_until(lambda: http_get(f"{base_url}/healthz"), timeout=60, what="web")
    wait_until(lambda: _health(base_url).get("celery", {}).get("status") == "healthy", timeout=60, what="the worker")
    web, beat = (child_running(launcher.pid, *words) for words in ([WEB], ["celery", "beat"]))
    worker = child_running(launcher.pid, "celery", "worker")
    assert None not in (web, beat, worker)

    prober = Prober(f"{base_url}/healthz")
    prober.start()
    psutil.Process(worker).kill()  # The worker's main process, as in the incident.
    restarted = wait_until(
        lambda: (pid := child_running(launcher.pid, "celery", "worker")) not in (None, worker) and pid,
        timeout=30,
        what="a new worker",
    )
    wait_until(
        lambda: _health(base_url).get("celery", {}).get("status") == "healthy", timeout=60, what="the new worker"
    )

    redis_port = (data_dir / "redis" / "port").read_text()
    _kill_and_wait_for_restart(data_dir, "redis")
    assert (data_dir / "redis" / "port").read_text() == redis_port
    # Web and the worker find it again where they left it: the broker answers the worker's ping.
    wait_until(
        lambda: (
            {name: _health(base_url).get(name, {}).get("status") for name in ("redis", "celery")}
            == {"redis": "healthy", "celery": "healthy"}
        ),
        timeout=60,
        what="web and the worker back on Redis",
    )
    prober.stop()

    assert prober.failures == [] and prober.answers > 10
    assert child_running(launcher.pid, WEB) == web and child_running(launcher.pid, "celery", "beat") == beat
    started = [*tree(launcher.pid)[1:], _stores(data_dir)["redis"]]
    assert restarted in [process.pid for process in started]
    _stop_launcher(processes, launcher, started, base_url)


def test_a_killed_postgres_comes_back_on_its_socket(processes, data_dir):
    env, base_url = _launcher_env(data_dir, own_postgres=True)
    launcher = processes.start("launcher", [*LAUNCHER, "web"], env=env, cwd=settings.BASE_DIR)
    wait_until(lambda: (http_get(f"{base_url}/readyz") or (0,))[0] == 200, timeout=60, what="web on its database")
    web = child_running(launcher.pid, WEB)
    assert web is not None
    postmaster = (data_dir / "pg" / "postmaster.pid").read_text().splitlines()

    _kill_and_wait_for_restart(data_dir, "postgres")
    wait_until(lambda: (http_get(f"{base_url}/readyz") or (0,))[0] == 200, timeout=30, what="web back on its database")
    restarted = (data_dir / "pg" / "postmaster.pid").read_text().splitlines()
    assert restarted[3:5] == postmaster[3:5]  # Port and socket directory: what DATABASE_URL names.

    assert child_running(launcher.pid, WEB) == web
    started = [*tree(launcher.pid)[1:], *filter(None, _stores(data_dir).values())]
    _stop_launcher(processes, launcher, started, base_url)


def test_a_command_that_keeps_dying_stops_the_supervisor(tmp_path):
    """Broken, not unlucky: after ``max_exits`` exits within the window it gives up (code 1)."""
    runs = tmp_path / "runs"
    flaky = Command("flaky", f"echo run >> {runs}; exit 3", cwd=tmp_path)
    steady = Command("steady", "sleep 60", cwd=tmp_path)
    supervisor = Supervisor([flaky, steady], max_exits=3, first_delay=0.05, poll=0.02, grace=5)

    assert supervisor.run() == 1
    assert runs.read_text().count("run") == 3
    assert steady.process.returncode == -signal.SIGTERM
