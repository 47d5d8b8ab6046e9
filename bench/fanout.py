"""Live-dashboard fan-out benchmark: ``make bench-fanout`` (or ``python -m bench.fanout``). See README.md.

Starts the stack as ``bench.run`` does (``bench/harness.py``), then for 1, 10 and 100 dashboards of
one business:

1. opens that many ``/ws/dashboard/`` connections at the same moment (first-message JWT auth, so the
   token stays out of URLs and access logs) and counts how many reach ``connection_established``;
2. posts signed missed calls one after another (incoming-call webhook, then the ``no-answer`` status
   webhook) and records, for each, when the status webhook's response arrived (its transaction
   committed before it answered) and when each dashboard received the ``call_missed`` event.

It prints p50/p99 of the delay from the response to (a) each delivery and (b) the last dashboard of
each webhook (the event "reached every dashboard"), plus the same from the moment the request was
sent, which bounds the delay from the commit from above. Figures also go to ``bench/fanout.json``.
"""

import argparse
import asyncio
import json
import os
import sys
import time
import uuid

import websockets

from bench.harness import Stack, log, machine, percentile, save_results
from bench.httpload import Connection

FANOUT = (1, 10, 100)
TARGET_P99_MS = {10: 100.0, 100: 250.0}
EVENT_TIMEOUT = 5.0
TENANT = 0


class Dashboard:
    """One websocket client; ``arrivals`` maps a CallSid to the perf_counter its call_missed came."""

    def __init__(self, url: str, token: str):
        self.url, self.token = url, token
        self.arrivals: dict[str, float] = {}
        self.socket = None
        self.reader: asyncio.Task | None = None

    async def connect(self) -> float:
        started = time.perf_counter()
        self.socket = await websockets.connect(self.url, open_timeout=10, max_queue=None)
        await self.socket.send(json.dumps({"type": "auth", "token": self.token}))
        while True:
            event = json.loads(await asyncio.wait_for(self.socket.recv(), 10))
            if event.get("type") == "connection_established":
                break
        elapsed = time.perf_counter() - started
        self.reader = asyncio.create_task(self.read())
        return elapsed

    async def read(self) -> None:
        try:
            async for raw in self.socket:
                now = time.perf_counter()
                event = json.loads(raw)
                if event.get("type") == "call_missed":
                    self.arrivals.setdefault(event["payload"]["call_sid"], now)
        except websockets.ConnectionClosed:
            return

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self.reader is not None:
            await self.reader


class Fanout(Stack):
    def __init__(self, args):
        super().__init__()
        self.args = args
        self.caller_seq = 0
        self.results: dict = {}

    async def missed_call(self, http: Connection, index: int) -> tuple[str, float, float]:
        """Post one missed call; (CallSid, status request sent, status response received)."""
        numbers = self.numbers_by_tenant[TENANT]
        call_sid, to = "CA" + uuid.uuid4().hex, numbers[index % len(numbers)]
        self.caller_seq += 1
        caller = f"+1872{(os.getpid() * 1000 + self.caller_seq) % 10_000_000:07d}"
        params = self.call_params(call_sid, caller, to)
        status, _ = await http.request(*self.signed("/webhooks/twilio/call", {**params, "CallStatus": "ringing"}))
        if status != 200:
            raise RuntimeError(f"incoming-call webhook answered {status}")
        missed = {
            **params,
            "CallStatus": "in-progress",
            "DialCallDuration": "0",
            "DialCallSid": "CA" + uuid.uuid4().hex,
            "DialCallStatus": "no-answer",
        }
        request = self.signed(f"/webhooks/twilio/call/status/{call_sid}", missed)
        sent = time.perf_counter()
        status, _ = await http.request(*request)
        answered = time.perf_counter()
        if status != 200:
            raise RuntimeError(f"status webhook answered {status}")
        return call_sid, sent, answered

    async def measure(self, size: int, token: str) -> None:
        url = f"ws://127.0.0.1:{self.port}/ws/dashboard/"
        dashboards = [Dashboard(url, token) for _ in range(size)]
        outcomes = await asyncio.gather(*(dashboard.connect() for dashboard in dashboards), return_exceptions=True)
        connected = [
            d for d, outcome in zip(dashboards, outcomes, strict=True) if not isinstance(outcome, BaseException)
        ]
        failures = [repr(outcome) for outcome in outcomes if isinstance(outcome, BaseException)]
        handshakes = [outcome * 1000 for outcome in outcomes if not isinstance(outcome, BaseException)]
        log(
            f"  {size:3d} dashboards connecting at once: {len(connected)} connected, {len(failures)} failed"
            f" (handshake + auth p50 {percentile(handshakes, 50):.0f} ms, max {max(handshakes or [0]):.0f} ms)"
        )
        for failure in sorted(set(failures))[:3]:
            log(f"      failure: {failure}")
        http = await Connection("127.0.0.1", self.port).open()
        await self.missed_call(http, 0)  # Warm-up, not counted.
        await asyncio.sleep(0.5)
        per_delivery, to_last, to_last_from_sent, lost = [], [], [], 0
        for index in range(self.args.count):
            call_sid, sent, answered = await self.missed_call(http, index + 1)
            deadline = time.monotonic() + EVENT_TIMEOUT
            while time.monotonic() < deadline and any(call_sid not in d.arrivals for d in connected):
                await asyncio.sleep(0.002)
            arrivals = [d.arrivals[call_sid] for d in connected if call_sid in d.arrivals]
            lost += len(connected) - len(arrivals)
            per_delivery += [(arrival - answered) * 1000 for arrival in arrivals]
            if arrivals:
                to_last.append((max(arrivals) - answered) * 1000)
                to_last_from_sent.append((max(arrivals) - sent) * 1000)
            await asyncio.sleep(self.args.interval)
        http.close()
        await asyncio.gather(*(dashboard.close() for dashboard in connected))
        self.results[f"dashboards_{size}"] = row = {
            "connected": len(connected),
            "connect_failures": len(failures),
            "handshake_p50_ms": round(percentile(handshakes, 50), 1),
            "handshake_max_ms": round(max(handshakes or [float("nan")]), 1),
            "webhooks": self.args.count,
            "lost_events": lost,
            "delivery_p50_ms": round(percentile(per_delivery, 50), 1),
            "delivery_p99_ms": round(percentile(per_delivery, 99), 1),
            "all_p50_ms": round(percentile(to_last, 50), 1),
            "all_p99_ms": round(percentile(to_last, 99), 1),
            "all_from_sent_p50_ms": round(percentile(to_last_from_sent, 50), 1),
            "all_from_sent_p99_ms": round(percentile(to_last_from_sent, 99), 1),
        }
        log(
            f"  {size:3d} dashboards: every dashboard p50 {row['all_p50_ms']} ms, p99 {row['all_p99_ms']} ms"
            f" after the response; each delivery p50 {row['delivery_p50_ms']} / p99 {row['delivery_p99_ms']} ms;"
            f" lost {lost}"
        )

    async def run(self, token: str) -> None:
        log("measuring …")
        for size in FANOUT:
            await self.measure(size, token)

    def report(self) -> None:
        lines = ["", "=== NeverMissCall dashboard fan-out benchmark ===", machine(), ""]
        lines.append(
            f"{'dashboards':>10s}{'connected':>11s}{'every p50':>11s}{'every p99':>11s}"
            f"{'each p50':>10s}{'each p99':>10s}{'sent→every p99':>16s}{'lost':>6s}"
        )
        for size in FANOUT:
            row = self.results[f"dashboards_{size}"]
            lines.append(
                f"{size:10d}{row['connected']:>6d}/{size:<4d}{row['all_p50_ms']:8.1f} ms{row['all_p99_ms']:8.1f} ms"
                f"{row['delivery_p50_ms']:7.1f} ms{row['delivery_p99_ms']:7.1f} ms{row['all_from_sent_p99_ms']:13.1f} ms"
                f"{row['lost_events']:6d}"
            )
        lines.append("")
        lines.append(
            "delay from the status webhook's response (its commit came before) to the call_missed event; "
            "'every' = the last dashboard of each webhook, 'each' = every delivery"
        )
        verdicts = []
        for size, target in TARGET_P99_MS.items():
            p99 = self.results[f"dashboards_{size}"]["all_p99_ms"]
            verdicts.append(
                f"{size} dashboards p99 {p99} ms (target < {target:.0f}: {'met' if p99 < target else 'MISSED'})"
            )
        storm = self.results[f"dashboards_{FANOUT[-1]}"]
        verdicts.append(f"{storm['connected']}/{FANOUT[-1]} simultaneous connections succeeded")
        lines.append("targets: " + "; ".join(verdicts))
        log("\n".join(lines))
        save_results("fanout.json", self.results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200, help="missed calls per fan-out size")
    parser.add_argument("--interval", type=float, default=0.05, help="pause between missed calls, seconds")
    args = parser.parse_args()
    bench = Fanout(args)
    try:
        bench.start()
        asyncio.run(bench.run(bench.access_token(TENANT)))
        bench.report()
    finally:
        bench.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
