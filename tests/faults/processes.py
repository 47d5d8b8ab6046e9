"""Real processes for the fault tests: start a command, wait for a condition or a URL with a
deadline, find and kill a process tree. Nothing here knows the project; the ``processes`` fixture
(tests/faults/conftest.py) stops whatever a test started, also when it fails."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import psutil

T = TypeVar("T")


def wait_until(condition: Callable[[], T], *, timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll ``condition`` until it returns something true, and return that; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes] | None:
    """(status, body), or None when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return None


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not reaped, does not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def tree(pid: int) -> list[psutil.Process]:
    """``pid`` and every living descendant of it (psutil's handles: a pid reused since is not them)."""
    try:
        root = psutil.Process(pid)
        return [member for member in [root, *root.children(recursive=True)] if alive(member.pid)]
    except psutil.NoSuchProcess:
        return []


def child_running(parent: int, *words: str) -> int | None:
    """The pid of ``parent``'s living child whose command line contains every one of ``words``."""
    with contextlib.suppress(psutil.NoSuchProcess):
        for child in psutil.Process(parent).children():
            with contextlib.suppress(psutil.NoSuchProcess):
                command = " ".join(child.cmdline())
                if alive(child.pid) and all(word in command for word in words):
                    return child.pid
    return None


def kill(members: list[psutil.Process]) -> None:
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()


def kill_tree(pid: int) -> None:
    kill(tree(pid))


class Processes:
    """The processes one test started, each in its own session with its output in a log file."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, command: list[str], *, env: dict, cwd: Path) -> subprocess.Popen:
        with open(self.log(name), "ab") as log:
            process = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.started.append(process)
        return process

    def log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def output(self, name: str) -> str:
        return self.log(name).read_text(errors="replace")

    @staticmethod
    def stop(process: subprocess.Popen, *, signum: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Signal ``process`` and wait for it; kill its whole tree if it outlives ``timeout``."""
        if process.poll() is None:
            process.send_signal(signum)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_tree(process.pid)
            return process.wait()

    def stop_all(self) -> None:
        for process in reversed(self.started):
            members = tree(process.pid)
            self.stop(process, timeout=10.0)
            kill(members)  # What it forked and left behind.
