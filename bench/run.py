"""NeverMissCall telephony benchmark: ``make bench`` (or ``python -m bench.run``). See README.md.

Starts what ``make run`` starts — embedded PostgreSQL and Redis, daphne, a Celery worker — with the
Twilio REST API replaced by the loopback stand-in, then measures in one run:

1. a bare Django view (``/healthz``) on the same server,
2. the incoming-call webhook (``/webhooks/twilio/call``),
3. the missed-call status webhook (``/webhooks/twilio/call/status/{CallSid}``),

each as requests/s at concurrency 1, 10 and 50 (closed loop) and as p50/p99 latency at 20 requests/s
(open loop), with correctly signed requests to many numbers across several businesses; and
4. the time from a missed-call status webhook to the SMS request reaching the Twilio stand-in, at
   20/s open loop, and
5. the floor for (4) measured just before it (``bench/floor.py``): a row committed and, after the
   commit, a no-op Celery task that only POSTs to the stand-in, at the same rate; (4) is reported
   as a ratio to it.
"""

import argparse
import asyncio
import itertools
import json
import os
import random
import sys
import time
import uuid
from urllib.parse import parse_qs

from bench.harness import Stack, http_get, log, machine, percentile, run_bench, save_results, wait_for
from bench.httpload import closed_loop, open_loop

CONCURRENCY = (1, 10, 50)
RATE = 20.0


class Bench(Stack):
    def __init__(self, args):
        super().__init__()
        self.args = args
        self.calls: list[tuple[str, str, str]] = []  # (CallSid, From, To) created by the incoming-call runs
        self.caller_seq = itertools.count(random.randrange(1_000_000) * 10)
        self.results: dict = {}

    # --- requests -----------------------------------------------------------------------------------

    def new_caller(self) -> str:
        return f"+1773{2000000 + next(self.caller_seq) % 7_999_999:07d}"

    def bare(self):
        return "GET", "/healthz", b"", {}

    def incoming(self, to: str | None = None):
        """An incoming call from a new caller to ``to`` (a random number of the businesses by default)."""
        call_sid, caller, to = "CA" + uuid.uuid4().hex, self.new_caller(), to or random.choice(self.numbers)
        self.calls.append((call_sid, caller, to))
        params = {
            "AccountSid": os.environ["TWILIO_ACCOUNT_SID"],
            "ApiVersion": "2010-04-01",
            "CallSid": call_sid,
            "CallStatus": "ringing",
            "Called": to,
            "Caller": caller,
            "Direction": "inbound",
            "From": caller,
            "FromCity": "CHICAGO",
            "FromState": "IL",
            "To": to,
        }
        return self.signed("/webhooks/twilio/call", params)

    def missed(self):
        if self.calls:
            call_sid, caller, to = self.calls.pop()
        else:
            call_sid, caller, to = "CA" + uuid.uuid4().hex, self.new_caller(), random.choice(self.numbers)
        params = {
            "AccountSid": os.environ["TWILIO_ACCOUNT_SID"],
            "ApiVersion": "2010-04-01",
            "CallSid": call_sid,
            "CallStatus": "in-progress",
            "Called": to,
            "Caller": caller,
            "DialCallDuration": "0",
            "DialCallSid": "CA" + uuid.uuid4().hex,
            "DialCallStatus": "no-answer",
            "Direction": "inbound",
            "From": caller,
            "To": to,
        }
        self.expected.add(caller)
        return self.signed(f"/webhooks/twilio/call/status/{call_sid}", params)

    def standin_messages(self) -> list[dict]:
        return json.loads(http_get(self.standin + "/_standin/messages") or b'{"messages": []}')["messages"]

    # --- measurements -------------------------------------------------------------------------------

    async def measure(self, name: str, factory) -> None:
        host, port = "127.0.0.1", self.port
        entry = self.results.setdefault(name, {})
        for concurrency in CONCURRENCY:
            await closed_loop(host, port, factory, concurrency, 1.0)  # warm-up, not counted
            result = await closed_loop(host, port, factory, concurrency, self.args.duration)
            entry[f"rps_c{concurrency}"] = round(result.rps, 1)
            entry[f"errors_c{concurrency}"] = result.errors
            log(
                f"  {name:9s} c={concurrency:<3d} {result.rps:7.1f} req/s  (p50 {result.p50:.1f} ms, errors {result.errors})"
            )
            if name == "status":
                self.drain()
        if name == "status":
            # Right before the missed calls it is compared with, on the same idle worker.
            await asyncio.to_thread(self.measure_floor)
        result = await open_loop(host, port, factory, RATE, self.args.open_count, on_sent=self.on_sent)
        entry.update(open_p50_ms=round(result.p50, 2), open_p99_ms=round(result.p99, 2), open_errors=result.errors)
        log(
            f"  {name:9s} {RATE:.0f} req/s open loop: p50 {result.p50:.1f} ms  p99 {result.p99:.1f} ms  errors {result.errors}"
        )

    def measure_floor(self) -> None:
        """``bench/floor.py`` at ``RATE`` for ``open_count`` iterations (after 20 not counted)."""
        from django.db import connection

        from bench import floor  # Here: it loads the Celery app, which reads the settings.

        floor.ensure_table()
        base = random.randrange(10_000_000)
        warm = floor.open_loop(RATE, 20, base)
        wait_for(lambda: set(warm) <= {m["to"] for m in self.standin_messages()}, 60, "the floor's warm-up")
        scheduled = floor.open_loop(RATE, self.args.open_count, base + 100)
        connection.close()

        def arrived():
            return {m["to"]: m["received_wall"] for m in self.standin_messages() if m["to"] in scheduled}

        wait_for(lambda: len(arrived()) >= len(scheduled), 60, "the floor's texts")
        received = arrived()
        latencies = [(received[to] - at) * 1000 for to, at in scheduled.items() if to in received]
        self.results["floor"] = {
            "count": len(latencies),
            "missing": len(scheduled) - len(latencies),
            "p50_ms": round(percentile(latencies, 50), 1),
            "p99_ms": round(percentile(latencies, 99), 1),
        }
        log(
            f"  floor     {RATE:.0f} /s open loop: commit → task → stand-in p50 {self.results['floor']['p50_ms']} ms  "
            f"p99 {self.results['floor']['p99_ms']} ms"
        )

    def on_sent(self, request) -> None:
        method, path, body, headers = request
        if path.startswith("/webhooks/twilio/call/status/"):
            caller = parse_qs(body.decode())["From"][0]
            self.sent_at[caller] = time.time()

    def drain(self) -> None:
        """Let the worker send every SMS already asked for, so the next run starts from an empty queue."""

        def drained():
            return self.expected <= {message["to"] for message in self.standin_messages()}

        wait_for(drained, 300, "the SMS backlog to drain")

    async def run(self) -> None:
        self.expected: set[str] = set()
        self.sent_at: dict[str, float] = {}
        log("warming up …")
        await closed_loop("127.0.0.1", self.port, self.incoming, 4, 2.0)
        await closed_loop("127.0.0.1", self.port, self.missed, 2, 2.0)
        self.drain()
        self.sent_at.clear()
        log("measuring …")
        await self.measure("bare", self.bare)
        await self.measure("incoming", self.incoming)
        self.sent_at.clear()
        await self.measure("status", self.missed)
        self.drain()
        messages = self.standin_messages()
        arrived: dict[str, float] = {}
        for message in messages:
            arrived.setdefault(message["to"], message["received_wall"])
        latencies = sorted((arrived[c] - sent) * 1000 for c, sent in self.sent_at.items() if c in arrived)
        missing = len(self.sent_at) - len(latencies)

        def pct(q):
            return latencies[min(len(latencies) - 1, int(round(q / 100 * (len(latencies) - 1))))]

        self.results["missed_call_to_sms"] = {
            "count": len(latencies),
            "missing": missing,
            # More than one text to a caller: a provider request that timed out and was retried.
            "duplicates": len(messages) - len({message["to"] for message in messages}),
            "p50_ms": round(pct(50), 1),
            "p99_ms": round(pct(99), 1),
        }

    def report(self) -> None:
        bare = self.results["bare"]
        lines = ["", "=== NeverMissCall telephony benchmark ===", machine(), ""]
        lines.append(
            f"{'':10s}"
            + "".join(f"{'c=' + str(c) + ' req/s':>14s}" for c in CONCURRENCY)
            + f"{'p50 @20/s':>12s}{'p99 @20/s':>12s}"
        )
        for name in ("bare", "incoming", "status"):
            row = self.results[name]
            lines.append(
                f"{name:10s}"
                + "".join(f"{row[f'rps_c{c}']:14.1f}" for c in CONCURRENCY)
                + f"{row['open_p50_ms']:9.1f} ms{row['open_p99_ms']:9.1f} ms"
            )
        lines.append("")
        lines.append("ratio to the bare view (throughput; latency)")
        for name in ("incoming", "status"):
            row = self.results[name]
            ratios = "".join(f"{row[f'rps_c{c}'] / bare[f'rps_c{c}']:14.2f}" for c in CONCURRENCY)
            lines.append(
                f"{name:10s}{ratios}{row['open_p50_ms'] / bare['open_p50_ms']:11.1f}x{row['open_p99_ms'] / bare['open_p99_ms']:11.1f}x"
            )
        sms = self.results["missed_call_to_sms"]
        lines.append("")
        lines.append(
            f"missed call → SMS at the provider: p50 {sms['p50_ms']} ms, p99 {sms['p99_ms']} ms "
            f"over {sms['count']} calls ({sms['missing']} missing, {sms['duplicates']} duplicate texts in the run)"
        )
        fl = self.results["floor"]
        lines.append(
            f"floor (commit → no-op task → stand-in): p50 {fl['p50_ms']} ms, p99 {fl['p99_ms']} ms over {fl['count']} "
            f"({fl['missing']} missing)"
        )
        sms_ratio = {q: sms[f"{q}_ms"] / fl[f"{q}_ms"] for q in ("p50", "p99")}
        self.results["missed_call_to_sms"].update({f"{q}_to_floor": round(v, 2) for q, v in sms_ratio.items()})
        lines.append(f"missed call → SMS / floor: p50 {sms_ratio['p50']:.2f}×, p99 {sms_ratio['p99']:.2f}×")
        lines.append("")
        target_ratio = self.results["incoming"]["rps_c10"] / bare["rps_c10"]
        status_ratio = self.results["status"]["rps_c10"] / bare["rps_c10"]
        worst_p99 = max(self.results["incoming"]["open_p99_ms"], self.results["status"]["open_p99_ms"])
        lines.append(
            "targets: webhook ≥ 0.4× bare at c=10; webhook p99 < 50 ms at 20/s; missed call → SMS p99 < 300 ms"
        )
        lines.append(
            f"  incoming {target_ratio:.2f}×, status {status_ratio:.2f}×; worst webhook p99 {worst_p99:.1f} ms; "
            f"SMS p99 {sms['p99_ms']} ms"
        )
        errors = sum(v for row in self.results.values() for k, v in row.items() if "errors" in k)
        lines.append(f"errors: {errors}")
        lines.append(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        self.results["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        log("\n".join(lines))
        save_results("results.json", self.results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per closed-loop measurement")
    parser.add_argument("--open-count", type=int, default=250, help="requests per open-loop measurement (≥200)")
    args = parser.parse_args()
    return run_bench(Bench(args))


if __name__ == "__main__":
    sys.exit(main())
