"""``make run`` and ``make test``: bring up the data stores, then the app or the test suite.

Without ``DATABASE_URL`` / ``REDIS_URL`` the embedded PostgreSQL and Redis are started (data under
``.data/``) and stopped again on exit if this process started them. With the variables set, the
given servers are used and left alone.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

from nevermisscall import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _start_stores() -> list:
    """Make sure PostgreSQL and Redis are reachable; return the stop functions for what we started."""
    stops = []
    if not os.environ.get("DATABASE_URL"):
        was_running = (embedded.PG_DIR / "postmaster.pid").exists()
        os.environ["DATABASE_URL"] = embedded.ensure_postgres()
        if not was_running:
            stops.append(embedded.stop_postgres)
    if not os.environ.get("REDIS_URL"):
        was_running = embedded.redis_running()
        os.environ["REDIS_URL"] = embedded.ensure_redis()
        if not was_running:
            stops.append(embedded.stop_redis)
    return stops


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


def run() -> int:
    os.environ.setdefault("APP_ENV", "development")
    port = os.environ.setdefault("PORT", "8000")
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://localhost:{port}")
    stops = _start_stores()
    try:
        _manage("migrate_schemas", "--noinput")
        _manage("collectstatic", "--noinput", "--verbosity", "0")
        _manage("seed_demo")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nevermisscall.settings")
        print(_banner(port), flush=True)
        honcho = [PYTHON, "-m", "honcho", "-f", "Procfile", "start", "web", "worker", "beat"]
        return _run_foreground(honcho)
    finally:
        for stop in stops:
            stop()


def test(pytest_args: list[str]) -> int:
    os.environ["APP_ENV"] = "testing"
    use_embedded_redis = not os.environ.get("REDIS_URL")
    stops = _start_stores()
    if use_embedded_redis:  # Tests get their own Redis database, flushed per session.
        os.environ["REDIS_URL"] = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/1"
    try:
        return _run_foreground([PYTHON, "-m", "pytest", *pytest_args])
    finally:
        for stop in stops:
            stop()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print("usage: python -m nevermisscall.launcher run | test [pytest args]", file=sys.stderr)
        return 2
    if argv[0] == "run":
        return run()
    return test([arg for arg in argv[1:] if arg != "--"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
