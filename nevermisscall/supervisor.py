"""``make run``'s process supervisor: every process it runs is restarted when it dies, the rest keep serving.

honcho (used before) ends everything when one child exits. Here each Procfile command runs in its
own process group with its output prefixed by its name; one that exits is restarted after a backoff
that doubles with each exit in the last minute, and one that keeps dying (``max_exits`` in
``window`` seconds) stops the lot with a non-zero code: it is broken, not unlucky. The embedded
stores are daemons, watched by probing them and restarted by their ``ensure`` function, which keeps
their address. SIGINT / SIGTERM stop every process group (SIGTERM, then SIGKILL after a grace
period). docs/operations.md has the production equivalent.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_OUTPUT_LOCK = threading.Lock()
_COLOURS = ("36", "33", "32", "35", "34", "31")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _emit(name: str, colour: str, line: bytes) -> None:
    prefix = f"{time.strftime('%H:%M:%S')} {name:<8} | "
    if sys.stdout.isatty():
        prefix = f"\033[{colour}m{prefix}\033[0m"
    with _OUTPUT_LOCK:
        sys.stdout.buffer.write(prefix.encode() + line.rstrip(b"\n") + b"\n")
        sys.stdout.buffer.flush()


def _system(message: str) -> None:
    _emit("system", "0", message.encode())


def colour(index: int) -> str:
    """The ANSI colour of the ``index``-th process's output prefix on a terminal."""
    return _COLOURS[index % len(_COLOURS)]


def procfile_commands(path: Path, names: list[str]) -> dict[str, str]:
    """The Procfile's command for each of ``names``, in the Procfile's order."""
    entries = dict(re.findall(r"^([\w-]+):\s*(.+)$", path.read_text(), flags=re.MULTILINE))
    unknown = set(names) - set(entries)
    if unknown:
        raise SystemExit(f"not in {path.name}: {', '.join(sorted(unknown))}")
    return {name: command for name, command in entries.items() if name in names}


@dataclass
class Command:
    """A shell command line (``exec``-ed, so the process is the program itself) in its own process group."""

    name: str
    command: str
    cwd: Path
    colour: str = "0"
    process: subprocess.Popen | None = field(default=None, init=False)

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(  # noqa: S602 (a Procfile line is a shell command)
            f"exec {self.command}",
            shell=True,
            cwd=self.cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=self._relay, args=(self.process.stdout,), daemon=True).start()
        _system(f"{self.name} started (pid {self.process.pid})")

    def _relay(self, stream) -> None:
        with stream:
            for line in iter(stream.readline, b""):
                _emit(self.name, self.colour, line)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, signum: int) -> None:
        """Signal the whole group: what the program forked (a Celery pool) goes with it, and nothing it
        left behind when it died outlives it."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signum)

    def describe_exit(self) -> str:
        return f"{self.name} exited with code {self.process.returncode if self.process else None}"


@dataclass
class Daemon:
    """A server that detaches itself (the embedded stores): probed with ``alive``, brought back with
    ``ensure`` (which returns its URL), stopped by ``stop``."""

    name: str
    ensure: Callable[[], str]
    alive: Callable[[], bool]
    stop: Callable[[], None]

    def start(self) -> None:
        self.ensure()
        _system(f"{self.name} running")

    def running(self) -> bool:
        return self.alive()

    def signal_group(self, signum: int) -> None:
        """Stopped by whoever started it (the launcher), after the commands that use it."""

    def describe_exit(self) -> str:
        return f"{self.name} is not answering"


class Supervisor:
    """Keep ``programs`` running until SIGINT / SIGTERM (returns 0) or one of them crash-loops (returns 1)."""

    def __init__(
        self,
        programs: list[Command | Daemon],
        *,
        max_exits: int = 5,
        window: float = 60.0,
        first_delay: float = 0.5,
        max_delay: float = 8.0,
        grace: float = 10.0,
        poll: float = 0.2,
    ):
        self.programs = programs
        self.max_exits, self.window = max_exits, window
        self.first_delay, self.max_delay = first_delay, max_delay
        self.grace, self.poll = grace, poll
        self._stop = threading.Event()
        self._exits: dict[str, deque[float]] = {program.name: deque() for program in programs}
        self._restart_at: dict[str, float] = {}

    def run(self) -> int:
        previous = {signum: signal.signal(signum, lambda *_: self._stop.set()) for signum in STOP_SIGNALS}
        code = 0
        try:
            for program in self.programs:
                self._start(program)
            while not self._stop.wait(self.poll) and code == 0:
                code = self._check()
        finally:
            self._stop_commands()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return code

    def _start(self, program: Command | Daemon) -> None:
        try:
            program.start()
        except Exception as exc:  # A store that cannot start yet; the next check backs off and retries.
            _system(f"{program.name} could not start: {exc}")

    def _check(self) -> int:
        now = time.monotonic()
        for program in self.programs:
            if program.name in self._restart_at:
                if now >= self._restart_at[program.name]:
                    del self._restart_at[program.name]
                    self._start(program)
                continue
            if program.running():
                continue
            program.signal_group(signal.SIGKILL)
            exits = self._exits[program.name]
            exits.append(now)
            while exits and exits[0] < now - self.window:
                exits.popleft()
            if len(exits) >= self.max_exits:
                message = f"{program.describe_exit()}, {len(exits)} times in {self.window:.0f} s: stopping everything"
                _system(message)
                return 1
            delay = min(self.max_delay, self.first_delay * 2 ** (len(exits) - 1))
            _system(f"{program.describe_exit()}; restarting in {delay:g} s")
            self._restart_at[program.name] = now + delay
        return 0

    def _stop_commands(self) -> None:
        commands = [program for program in self.programs if isinstance(program, Command)]
        for command in commands:
            command.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for command in commands:
            if command.process is None:
                continue
            try:
                command.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _system(f"{command.name} did not stop in {self.grace:g} s; killing it")
            command.signal_group(signal.SIGKILL)
            command.process.wait()
