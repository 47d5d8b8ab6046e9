"""Outbox drain benchmark: ``make bench-outbox`` (or ``python -m bench.outbox``). See README.md.

Starts embedded PostgreSQL and Redis (data under ``.data/bench-outbox/``), the Twilio stand-in
(``bench/standin.py``), daphne (only for the status callbacks, ``--callbacks``) and, for each phase,
**two Celery worker processes** (prefork, ``--concurrency=1`` each, so a worker is one process that
sends and its pool parent). 50 businesses with a number each are created once and reused.

Each phase queues ``--count`` texts (default 10,000) spread over the 50 businesses, through
``apps.outbox.services.delivery_queue_sms`` inside ``tenant_context(business)``, ``--batch`` (100)
to a transaction; the after-commit publisher hands each committed batch to the workers
(``outbox.deliver``, 50 ids a message). The driver runs ``apps.outbox.tasks.outbox_sweep()`` every
``--sweep-every`` seconds (beat's ``DELIVERY_SWEEP_SECONDS``, 10 s) for the whole phase, as beat
would. Phases:

- ``steady``: the workers are up and warm while the producer queues (the hand-off is what is
  measured);
- ``kill``: the same, and once the stand-in has received half of the texts one worker's process
  group (pool parent and child) gets SIGKILL; nothing is restarted: the other worker and the sweep
  must send the rest. ``--kill child`` kills only the pool child instead (the pool parent then sees
  the worker lost, rejects and requeues the message, ``task_reject_on_worker_lost``, and forks a new
  child).

``--prequeue`` queues everything with no worker running and starts the two workers afterwards (the
drain alone; queue-to-send then counts from the workers' start).

Per phase it reports deliveries/s, queue-to-send p50/p99/max (``Delivery.created_at`` → the stand-in
receiving ``Messages.json``), the stand-in's duplicates (one ``delivery_id`` — carried by the status
callback URL — received more than once) and losses (a queued delivery never received), the rows'
final statuses and attempts, and what the sweep handed over. ``DELIVERY_SENDING_STALE_SECONDS`` is
10 s here (``--stale``; 120 s in production) so a claim of the killed worker goes stale within the run.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
os.environ.setdefault("NMC_BENCH_DATA_DIR", str(BASE_DIR / ".data" / "bench-outbox"))

from bench.harness import Stack, http_get, log, machine, percentile, save_results, wait_for  # noqa: E402

BUSINESSES = 50
OWNER_PASSWORD = "bench-password-123"
BENCH_SMS_QUOTA = 100_000
FINAL = ("sent", "delivered", "failed", "dead", "canceled")


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class OutboxBench(Stack):
    def __init__(self, args):
        super().__init__()
        self.args = args
        self.businesses = []
        self.workers: list = []
        self.results: dict = {"phases": []}

    # --- the stack ----------------------------------------------------------------------------------

    def start(self) -> None:
        standin_args = ("--callbacks", str(self.args.callbacks)) if self.args.callbacks is not None else ()
        self.start_base(standin_args=standin_args, standin_cpu=None)
        self.setup_businesses()
        if self.args.callbacks is not None:
            self.start_daphne(cpu=None)
            self.wait_for_daphne()

    def setup_businesses(self) -> None:
        import django

        django.setup()
        from django.db import connection
        from django_tenants.utils import tenant_context

        from apps.accounts.models import User
        from apps.telephony.phone_numbers import phone_number_assign
        from apps.tenants.config.services import config_update
        from apps.tenants.models import Business
        from apps.tenants.services import business_register

        for index in range(BUSINESSES):
            name, email = f"Bench Outbox {index:02d}", f"outbox{index:02d}@bench.test"
            business = Business.objects.filter(name=name).first()
            if business is None:
                log(f"creating {name} …")
                User.objects.filter(email=email).delete()
                business, _ = business_register(
                    business_name=name,
                    owner_email=email,
                    owner_password=OWNER_PASSWORD,
                    owner_name="Bench Owner",
                    trade="plumbing",
                    timezone_name="America/Chicago",
                )
                with tenant_context(business):
                    config_update(business=business, data={"sms_daily_quota": BENCH_SMS_QUOTA})
                    phone_number_assign(phone_number=f"+1313555{index:04d}")
            self.businesses.append(business)
        connection.close()
        log(f"{len(self.businesses)} businesses")

    def start_workers(self) -> None:
        self.workers = []
        for index in (1, 2):
            command = [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "nevermisscall",
                "worker",
                "-n",
                f"outbox{index}@%h",
                "--pool=prefork",
                "--concurrency=1",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
            ]
            self.workers.append(self.spawn(command, f"worker{index}", new_session=True))

    def stop_workers(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.terminate()
        for process in self.workers:
            try:
                process.wait(30)
            except Exception:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes = [p for p in self.processes if p not in self.workers]

    @staticmethod
    def pool_child(pid: int) -> int | None:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    return int(entry.name)
        return None

    # --- the stand-in -------------------------------------------------------------------------------

    def standin_count(self) -> int:
        return json.loads(http_get(self.standin + "/_standin/count") or b'{"messages": 0}')["messages"]

    def standin_deliveries(self) -> list:
        return json.loads(http_get(self.standin + "/_standin/deliveries"))["deliveries"]

    # --- one phase ----------------------------------------------------------------------------------

    def clear_previous(self) -> None:
        """Earlier runs' bench rows (and the broker's leftovers: a killed worker's unacked message)."""
        import redis
        from django.db import connection

        from apps.outbox.models import Delivery, DeliveryAttempt

        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {DeliveryAttempt._meta.db_table} WHERE delivery_id IN "
                f"(SELECT id FROM {Delivery._meta.db_table} WHERE purpose = 'bench')"
            )
            cursor.execute(f"DELETE FROM {Delivery._meta.db_table} WHERE purpose = 'bench'")
        redis.Redis.from_url(os.environ["REDIS_URL"]).delete("celery", "unacked", "unacked_index")

    def produce(self, prefix: str, count: int, out: dict, rate: float | None = None) -> None:
        """Queue ``count`` texts, ``--batch`` to a transaction, round-robin over the businesses, as
        fast as possible or ``rate`` a second."""
        from django.db import connection, transaction
        from django_tenants.utils import tenant_context

        from apps.outbox.services import delivery_queue_sms
        from nevermisscall import after_commit

        base = uuid.uuid4().int % 10_000_000
        started = time.time()
        queued = 0
        batch_index = 0
        while queued < count:
            if rate:  # Paced: batch k starts at k × batch / rate seconds.
                delay = started + queued / rate - time.time()
                if delay > 0:
                    time.sleep(delay)
            business = self.businesses[batch_index % len(self.businesses)]
            size = min(self.args.batch, count - queued)
            with tenant_context(business), transaction.atomic():
                for _ in range(size):
                    delivery_queue_sms(
                        to=f"+1415{(base + queued) % 10_000_000:07d}",
                        body=f"Bench outbox text {queued}",
                        purpose="bench",
                        idempotency_key=f"{prefix}:{queued}",
                    )
                    queued += 1
            batch_index += 1
        after_commit.flush(30)
        out["seconds"] = time.time() - started
        connection.close()

    def phase(self, name: str, kill: str | None) -> dict:
        from django.db import connection
        from django.db.models import Count, Q

        from apps.outbox.models import Delivery
        from apps.outbox.tasks import outbox_sweep

        args = self.args
        self.clear_previous()
        prefix = f"bench:{name}:{uuid.uuid4().hex[:8]}"
        log(f"--- phase {name}: {args.count} texts over {len(self.businesses)} businesses (load {loadavg()})")
        if not args.prequeue:
            self.start_workers()
            # Warm-up (not counted): every business once, and both workers up.
            warm: dict = {}
            self.produce(prefix + ":warm", len(self.businesses) * 2, warm)
            wait_for(
                lambda: (
                    not Delivery.objects.filter(idempotency_key__startswith=prefix + ":warm:")
                    .exclude(status__in=FINAL)
                    .exists()
                ),
                120,
                "the warm-up texts",
            )
        base_count = self.standin_count()
        produced: dict = {}
        load_start = loadavg()
        producer = threading.Thread(target=self.produce, args=(prefix + ":run", args.count, produced, args.rate))
        t_start = time.time()
        producer.start()
        if args.prequeue:
            producer.join()
            log(f"  queued {args.count} in {produced['seconds']:.1f} s with no worker; starting the workers")
            t_workers = time.time()
            self.start_workers()
        pending = Q(idempotency_key__startswith=prefix + ":run:") & Q(status__in=["queued", "sending"])
        killed = None
        sweeps, swept = 0, 0
        next_sweep = time.time() + args.sweep_every
        max_backlog = 0
        next_backlog = 0.0
        deadline = time.time() + args.timeout
        while True:
            time.sleep(0.2)
            now = time.time()
            received = self.standin_count() - base_count
            if kill and killed is None and received >= args.count // 2:
                victim = self.workers[0]
                if kill == "child":
                    child = self.pool_child(victim.pid)
                    os.kill(child, signal.SIGKILL)
                    killed = {"what": f"pool child {child} of worker1"}
                else:
                    os.killpg(victim.pid, signal.SIGKILL)
                    victim.wait()
                    killed = {"what": f"worker1 (process group {victim.pid})"}
                # What was claimed at that moment: the killed worker's delivery (and the survivor's).
                in_flight = [
                    str(i)
                    for i in Delivery.objects.filter(
                        idempotency_key__startswith=prefix + ":run:", status="sending"
                    ).values_list("id", flat=True)
                ]
                killed.update(at=now, received_at_kill=received, in_flight=in_flight)
                log(f"  SIGKILL {killed['what']} after {received} texts at the stand-in")
            if now >= next_sweep:
                swept += outbox_sweep()
                sweeps += 1
                next_sweep = now + args.sweep_every
            if now >= next_backlog:
                backlog = Delivery.objects.filter(pending).count()
                max_backlog = max(max_backlog, backlog)
                next_backlog = now + 1.0
                if not producer.is_alive() and backlog == 0:
                    break
            if now > deadline:
                log(f"  timed out after {args.timeout} s")
                break
        producer.join()
        t_end = time.time()
        load_end = loadavg()
        # Anything still in flight (a late duplicate) has had the time a claim takes to go stale.
        if kill:
            time.sleep(1.0)
        rows = list(
            Delivery.objects.filter(idempotency_key__startswith=prefix + ":run:").values_list(
                "id", "created_at", "sent_at", "status", "attempts"
            )
        )
        statuses = dict(
            Delivery.objects.filter(idempotency_key__startswith=prefix + ":run:")
            .values("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        connection.close()
        ours = {str(row[0]): row for row in rows}
        receipts: dict[str, list[float]] = {}
        for delivery_id, _to, at in self.standin_deliveries():
            if delivery_id in ours:
                receipts.setdefault(delivery_id, []).append(at)
        duplicates = {d: len(ats) for d, ats in receipts.items() if len(ats) > 1}
        lost = [d for d in ours if d not in receipts]
        first = {d: min(ats) for d, ats in receipts.items()}
        created = {d: row[1].timestamp() for d, row in ours.items()}
        origin = t_workers if args.prequeue else t_start  # Pre-queued rows waited for the workers on purpose.
        waits = [(at - max(created[d], origin)) * 1000 for d, at in first.items()]
        first_created = min(created.values()) if created else t_start
        last_receipt = max(first.values()) if first else t_end
        result = {
            "phase": name,
            "count": args.count,
            "rows": len(rows),
            "prequeue": args.prequeue,
            "callbacks": args.callbacks,
            "producer_seconds": round(produced.get("seconds", float("nan")), 2),
            "producer_rate": round(args.count / produced["seconds"], 1) if produced.get("seconds") else None,
            "deliveries_per_s": round(len(first) / (last_receipt - (origin if args.prequeue else first_created)), 1),
            "drain_seconds": round(last_receipt - (origin if args.prequeue else first_created), 2),
            "queue_to_send_p50_ms": round(percentile(waits, 50), 1),
            "queue_to_send_p99_ms": round(percentile(waits, 99), 1),
            "queue_to_send_max_ms": round(max(waits), 1) if waits else None,
            "duplicates": sum(n - 1 for n in duplicates.values()),
            "duplicate_ids": sorted(duplicates)[:20],
            "lost": len(lost),
            "lost_ids": lost[:20],
            "statuses": statuses,
            "attempts": dict(Counter(row[4] for row in rows)),
            "max_backlog": max_backlog,
            "sweeps": sweeps,
            "swept_ids": swept,
            "elapsed_s": round(t_end - t_start, 1),
            "loadavg_start": load_start,
            "loadavg_end": load_end,
        }
        if killed:
            result["killed"] = killed["what"]
            result["received_at_kill"] = killed["received_at_kill"]
            after = [at for at in first.values() if at > killed["at"]]
            result["last_send_after_kill_s"] = round(max(after) - killed["at"], 1) if after else None
            result["claimed_at_kill"] = [
                {
                    "id": d,
                    "received": len(receipts.get(d, [])),
                    "attempts": ours[d][4] if d in ours else None,
                    "received_after_kill_s": [round(at - killed["at"], 1) for at in receipts.get(d, [])],
                }
                for d in killed["in_flight"]
            ]
        self.stop_workers()
        if killed:
            # The survivor acked what it had on its warm shutdown: what is left is the killed worker's.
            result["unacked_left_in_broker"] = self.unacked()
        log(
            f"  {result['deliveries_per_s']} deliveries/s ({result['drain_seconds']} s), queue-to-send p50 "
            f"{result['queue_to_send_p50_ms']} ms p99 {result['queue_to_send_p99_ms']} ms; "
            f"duplicates {result['duplicates']}, lost {result['lost']}; statuses {statuses}; "
            f"producer {result['producer_rate']}/s; max backlog {max_backlog}; sweep handed over {swept} in {sweeps} runs"
        )
        return result

    def unacked(self) -> int:
        import redis

        return redis.Redis.from_url(os.environ["REDIS_URL"]).hlen("unacked")

    def run(self) -> None:
        for name in self.args.phases:
            kill = self.args.kill if name == "kill" else None
            self.results["phases"].append(self.phase(name, kill))

    def report(self) -> None:
        lines = ["", "=== NeverMissCall outbox drain ===", machine(), ""]
        lines.append(
            f"{self.args.count} texts, {BUSINESSES} businesses, 2 prefork workers × concurrency 1, batches of "
            f"{self.args.batch}, sweep every {self.args.sweep_every} s, stale claims after {self.args.stale} s, "
            f"status callbacks {f'after {self.args.callbacks} s' if self.args.callbacks is not None else 'off'}"
            f"{', pre-queued' if self.args.prequeue else ''}"
            f"{f', queued at {self.args.rate}/s' if self.args.rate else ''}"
        )
        for r in self.results["phases"]:
            lines.append("")
            lines.append(
                f"{r['phase']:7s} {r['deliveries_per_s']:7.1f} deliveries/s   queue-to-send p50 "
                f"{r['queue_to_send_p50_ms']:.0f} ms  p99 {r['queue_to_send_p99_ms']:.0f} ms  max "
                f"{r['queue_to_send_max_ms']:.0f} ms   producer {r['producer_rate']}/s"
            )
            lines.append(
                f"        duplicates {r['duplicates']}  lost {r['lost']}  statuses {r['statuses']}  "
                f"attempts {r['attempts']}  sweep handed over {r['swept_ids']} ids in {r['sweeps']} runs"
            )
            if "killed" in r:
                lines.append(
                    f"        SIGKILL {r['killed']} after {r['received_at_kill']} at the stand-in; last text "
                    f"{r['last_send_after_kill_s']} s after the kill; unacked messages left in Redis "
                    f"{r['unacked_left_in_broker']}"
                )
                for row in r["claimed_at_kill"]:
                    lines.append(
                        f"        claimed at the kill: {row['id']} received {row['received']}× "
                        f"({row['received_after_kill_s']} s after the kill), attempts {row['attempts']}"
                    )
            if r["duplicate_ids"]:
                lines.append(f"        duplicate ids: {', '.join(r['duplicate_ids'])}")
            if r["lost_ids"]:
                lines.append(f"        lost ids: {', '.join(r['lost_ids'])}")
            lines.append(f"        load average {r['loadavg_start']} → {r['loadavg_end']}")
        log("\n".join(lines))
        save_results("outbox.json", self.results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="texts per phase")
    parser.add_argument("--batch", type=int, default=100, help="texts per transaction")
    parser.add_argument("--phases", nargs="+", default=["steady", "kill"], choices=["steady", "kill"])
    parser.add_argument("--kill", choices=["worker", "child"], default="worker", help="what SIGKILL hits")
    parser.add_argument("--prequeue", action="store_true", help="queue everything before starting the workers")
    parser.add_argument("--rate", type=float, default=None, help="queue this many texts a second (default: at once)")
    parser.add_argument("--sweep-every", type=float, default=10.0, help="seconds between outbox_sweep() runs")
    parser.add_argument("--stale", type=int, default=10, help="DELIVERY_SENDING_STALE_SECONDS for this run")
    parser.add_argument(
        "--callbacks",
        type=float,
        default=None,
        metavar="SECONDS",
        help="the stand-in sends a 'sent' status callback this long after each text (needs daphne)",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds a phase may take")
    args = parser.parse_args()
    os.environ["DELIVERY_SENDING_STALE_SECONDS"] = str(args.stale)
    bench = OutboxBench(args)
    try:
        bench.start()
        bench.results.update(
            count=args.count,
            businesses=BUSINESSES,
            batch=args.batch,
            stale_seconds=args.stale,
            sweep_every=args.sweep_every,
            callbacks=args.callbacks,
            prequeue=args.prequeue,
            rate=args.rate,
        )
        bench.run()
        bench.report()
    finally:
        bench.stop_workers()
        bench.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
