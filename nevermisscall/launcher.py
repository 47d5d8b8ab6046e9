"""``make run`` and ``make test``: bring up the data stores, then the app or the test suite.

Without ``DATABASE_URL`` / ``REDIS_URL`` the embedded PostgreSQL and Redis are started (data under
``.data/``) and stopped again on exit if this process started them. With the variables set, the
given servers are used and left alone.

``run`` migrates, seeds the demo and then serves: the Procfile's web, worker and beat under the
supervisor (nevermisscall/supervisor.py), which restarts any of them that dies, and the embedded
stores it started. ``serve [names]`` does only the last step.
"""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from nevermisscall import embedded
from nevermisscall.supervisor import Command, Daemon, Supervisor, colour, procfile_commands

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SERVED = ["web", "worker", "beat"]
STORES = {
    "DATABASE_URL": Daemon(
        "postgres", ensure=embedded.ensure_postgres, alive=embedded.postgres_running, stop=embedded.stop_postgres
    ),
    "REDIS_URL": Daemon("redis", ensure=embedded.ensure_redis, alive=embedded.redis_running, stop=embedded.stop_redis),
}


def _start_stores() -> list[Daemon]:
    """Make sure PostgreSQL and Redis are reachable; return the embedded ones this process started."""
    started = []
    for variable, store in STORES.items():
        if os.environ.get(variable):
            continue
        was_running = store.alive()
        os.environ[variable] = store.ensure()
        if not was_running:
            started.append(store)
    return started


def _manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, check=True)


def _banner(port: str) -> str:
    url = f"http://localhost:{port}"
    return "\n".join(
        [
            "",
            "NeverMissCall is starting (web + websockets on daphne, Celery worker, Celery beat).",
            f"  Dashboard:       {url}/login/",
            f"  API docs:        {url}/docs  (OpenAPI: {url}/api/schema/)",
            f"  Django admin:    {url}/admin/",
            "  Logins:          the demo owner and platform admin printed by seed_demo above",
            "  Stop with Ctrl-C.",
            "",
        ]
    )


def _run_foreground(command: list[str]) -> int:
    """Run ``command``; on Ctrl-C / SIGTERM let it shut down its children, then return its code."""
    process = subprocess.Popen(command, cwd=BASE_DIR)

    def forward(signum, frame):
        process.send_signal(signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return process.wait()


def _supervise(stores: list[Daemon], names: list[str]) -> int:
    """Run the Procfile's ``names`` and watch ``stores`` until Ctrl-C / SIGTERM."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nevermisscall.settings")
    # The Procfile names the programs (python, celery); find them next to this interpreter.
    os.environ["PATH"] = f"{Path(PYTHON).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    _prometheus_directory()
    commands = [
        Command(name, command, cwd=BASE_DIR, colour=colour(index))
        for index, (name, command) in enumerate(procfile_commands(BASE_DIR / "Procfile", names).items())
    ]
    return Supervisor([*stores, *commands]).run()


def _prometheus_directory() -> None:
    """Web, worker and beat count into one directory, emptied at each start, so ``/metrics/prometheus``
    sums them (prometheus_client's multiprocess mode; docs/operations.md "Observability")."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    import psutil

    parent = BASE_DIR / ".data" / "prometheus"
    for stale in parent.glob("*"):  # Left by launchers that are gone (one per launcher: tests run several).
        if not (stale.name.isdigit() and psutil.pid_exists(int(stale.name))):
            shutil.rmtree(stale, ignore_errors=True)
    directory = parent / str(os.getpid())
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def run() -> int:
    os.environ.setdefault("APP_ENV", "development")
    port = os.environ.setdefault("PORT", "8000")
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://localhost:{port}")
    stores = _start_stores()
    try:
        _manage("release")
        _manage("collectstatic", "--noinput", "--verbosity", "0")
        _manage("seed_demo")
        print(_banner(port), flush=True)
        return _supervise(stores, SERVED)
    finally:
        for store in stores:
            store.stop()


def serve(names: list[str]) -> int:
    stores = _start_stores()
    try:
        return _supervise(stores, names or SERVED)
    finally:
        for store in stores:
            store.stop()


def test(pytest_args: list[str]) -> int:
    os.environ["APP_ENV"] = "testing"
    use_embedded_redis = not os.environ.get("REDIS_URL")
    stores = _start_stores()
    if use_embedded_redis:  # Tests get their own Redis database, flushed per session.
        os.environ["REDIS_URL"] = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/1"
    try:
        return _run_foreground([PYTHON, "-m", "pytest", *pytest_args])
    finally:
        for store in stores:
            store.stop()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "serve", "test"}:
        print(
            "usage: python -m nevermisscall.launcher run | serve [web worker beat] | test [pytest args]",
            file=sys.stderr,
        )
        return 2
    if argv[0] == "run":
        return run()
    if argv[0] == "serve":
        return serve(argv[1:])
    return test([arg for arg in argv[1:] if arg != "--"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
