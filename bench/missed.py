"""Missed call → SMS alone, with where the time goes: ``python -m bench.missed [--count 300]``.

The same stack and open loop as step 4 of ``bench.run`` (20 status webhooks/s, after the same
warm-up), without the closed-loop runs, so two checkouts can be compared alternately in a few
minutes each. Besides the end-to-end p50/p99 it prints the CPU each process spent per missed call
(``/proc/<pid>/stat``) and, where the checkout has the outbox, the stages read back from the rows:
webhook → delivery queued (in the worker's transaction) → claimed → provider called → stand-in
received → marked sent.
"""

import argparse
import asyncio
import subprocess
import sys

from bench.harness import log, percentile
from bench.httpload import closed_loop, open_loop
from bench.run import RATE, Bench

PROCESSES = {
    "worker": "celery -A nevermisscall worker",
    "daphne": "daphne -b",
    "postgres": "postgres",
    "redis": "redis-server",
}


def cpu_ticks() -> dict[str, int]:
    ticks = {}
    for name, pattern in PROCESSES.items():
        total = 0
        pids = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
            except OSError:  # Gone meanwhile (a PostgreSQL backend).
                continue
            total += int(fields[11]) + int(fields[12])  # utime + stime
        ticks[name] = total
    return ticks


def outbox_stages() -> list[tuple]:
    """(recipient, queued, claimed, attempt started, sent) as epoch seconds, or [] before the outbox."""
    import django

    django.setup()
    from django.db import connection

    try:
        from apps.outbox.models import Delivery, DeliveryAttempt
    except ImportError:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.recipient, extract(epoch from d.created_at), extract(epoch from d.claimed_at), "  # noqa: S608
            f"extract(epoch from a.started_at), extract(epoch from d.sent_at) "
            f"FROM {Delivery._meta.db_table} d JOIN {DeliveryAttempt._meta.db_table} a ON a.delivery_id = d.id "
            f"WHERE d.channel = 'sms' AND d.sent_at IS NOT NULL"
        )
        rows = [(row[0], *map(float, row[1:])) for row in cursor.fetchall()]
    connection.close()
    return rows


async def measure(bench: Bench, count: int) -> None:
    bench.expected, bench.sent_at = set(), {}
    await closed_loop("127.0.0.1", bench.port, bench.incoming, 4, 2.0)
    await closed_loop("127.0.0.1", bench.port, bench.missed, 2, 2.0)
    bench.drain()
    bench.sent_at.clear()
    before = cpu_ticks()
    result = await open_loop("127.0.0.1", bench.port, bench.missed, RATE, count, on_sent=bench.on_sent)
    bench.drain()
    after = cpu_ticks()
    arrived = {}
    for message in bench.standin_messages():
        arrived.setdefault(message["to"], message["received_wall"])
    latencies = [(arrived[caller] - sent) * 1000 for caller, sent in bench.sent_at.items() if caller in arrived]
    log(f"status webhook at {RATE:.0f}/s: p50 {result.p50:.1f} ms, p99 {result.p99:.1f} ms, errors {result.errors}")
    log(
        f"missed call → SMS: p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms "
        f"over {len(latencies)} of {len(bench.sent_at)} calls"
    )
    # Clock ticks are 10 ms (USER_HZ 100).
    log("CPU per missed call: " + ", ".join(f"{k} {(after[k] - before[k]) * 10 / count:.1f} ms" for k in before))
    stages = {name: [] for name in ("webhook→queued", "queued→claimed", "claimed→provider", "provider→stand-in")}
    for recipient, queued, claimed, started, _sent in await asyncio.to_thread(outbox_stages):
        if recipient in bench.sent_at and recipient in arrived:
            stages["webhook→queued"].append((queued - bench.sent_at[recipient]) * 1000)
            stages["queued→claimed"].append((claimed - queued) * 1000)
            stages["claimed→provider"].append((started - claimed) * 1000)
            stages["provider→stand-in"].append((arrived[recipient] - started) * 1000)
    for name, values in stages.items():
        if values:
            log(
                f"  {name:18s} p50 {percentile(values, 50):6.1f}  p90 {percentile(values, 90):6.1f}  "
                f"p99 {percentile(values, 99):6.1f} ms"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=300, help="missed calls in the open loop")
    args = parser.parse_args()
    bench = Bench(argparse.Namespace(duration=5.0, open_count=args.count))
    try:
        bench.start()
        asyncio.run(measure(bench, args.count))
    finally:
        bench.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
