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
import sys
from pathlib import Path

from bench.harness import log, percentile
from bench.httpload import closed_loop, open_loop
from bench.run import RATE, Bench


def _stats() -> dict[int, tuple[int, int]]:
    """pid → (parent pid, CPU ticks of the process and of its children that exited) for every process."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # Gone meanwhile (a PostgreSQL backend).
            continue
        # ppid; utime, stime, cutime, cstime (stat(5) fields 4 and 14-17)
        stats[int(entry.name)] = (int(fields[1]), sum(int(value) for value in fields[11:15]))
    return stats


def cpu_ticks(roots: dict[str, list[int]]) -> dict[str, int]:
    """CPU ticks (10 ms) so far of each server of ``roots`` (``Stack.process_roots()``): the process
    trees under those pids, with their children that exited (PostgreSQL backends), and nothing of
    the other sessions' servers on the machine."""
    stats = _stats()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _ticks) in stats.items():
        children.setdefault(ppid, []).append(pid)
    ticks = {}
    for name, pids in roots.items():
        total, todo = 0, [pid for pid in pids if pid in stats]
        while todo:
            pid = todo.pop()
            total += stats[pid][1]
            todo.extend(children.get(pid, ()))
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


async def measure(bench: Bench, count: int) -> dict:
    """Run the open loop and return its figures (milliseconds)."""
    bench.expected, bench.sent_at = set(), {}
    await closed_loop("127.0.0.1", bench.port, bench.incoming, 4, 2.0)
    await closed_loop("127.0.0.1", bench.port, bench.missed, 2, 2.0)
    bench.drain()
    bench.sent_at.clear()
    roots = bench.process_roots()
    before = cpu_ticks(roots)
    result = await open_loop("127.0.0.1", bench.port, bench.missed, RATE, count, on_sent=bench.on_sent)
    bench.drain()
    after = cpu_ticks(roots)
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
    return {
        "status_webhook_ms": {"p50": result.p50, "p99": result.p99, "errors": result.errors},
        "sms_ms": {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)},
        "texts_received": len(latencies),
        "calls": len(bench.sent_at),
    }


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
