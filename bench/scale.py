"""Tenant scale (issue 15): the same deployment with 10, 100 and 1,000 businesses in one database.

    .venv/bin/python -m bench.scale [--levels 10,100,1000] [--requests 200]

For each level, in one run and one database (``.data/bench-scale/``; the businesses of a level stay
for the next), created through the product's own sign-up service (``business_register``, each with
one number): sign-up time p50 / p99 of the businesses added at that level; the wall time of a
no-op ``manage.py release`` (public schema, base schema, every business already current); the
incoming-call and call-status webhooks, signed like Twilio, open loop at 20 requests/s spread over
every business's number (daphne pinned to CPU 0, the load generator to CPU 1); and one beat
fan-out cycle (the three sweeps) as shipped — one statement asks which businesses have due work —
next to the visit-every-business loop it replaced, measured in the same run.
"""

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

os.environ.setdefault("NMC_BENCH_DATA_DIR", str(Path(__file__).resolve().parent.parent / ".data" / "bench-scale"))

from bench.harness import BASE_DIR, Stack, log, percentile, save_results  # noqa: E402
from bench.httpload import open_loop  # noqa: E402

RATE = 20.0
# Businesses given due work (a recorded call outcome the sweep must re-enqueue) for the work-due cycle.
DUE_BUSINESSES = 10


def bench_number(index: int) -> str:
    """Business ``index``'s number: a valid NANP number (+1 415 2xx-xxxx). An exchange starting with 0
    (``+1415000…``, before 2026-12-02 15:00 UTC) is no valid number: every webhook of those runs was
    answered "no business owns this number", and the sweeps had nothing to find."""
    return f"+1415{200 + index // 10_000:03d}{index % 10_000:04d}"


class Scale(Stack):
    def __init__(self, args):
        super().__init__()
        self.args = args
        self.results: dict = {"levels": {}}
        self.calls: list[tuple[str, str, str]] = []

    def start(self) -> None:
        self.start_base()
        import django

        django.setup()
        self.start_daphne()
        self.wait_for_daphne()
        if os.cpu_count() and os.cpu_count() > 1:
            os.sched_setaffinity(0, {1})

    # --- building ---------------------------------------------------------------------------------

    def grow_to(self, count: int) -> list[float]:
        from django.db import connection
        from django_tenants.utils import tenant_context

        from apps.telephony.phone_numbers import phone_number_assign
        from apps.tenants.models import Business
        from apps.tenants.services import business_register

        existing = Business.objects.filter(name__startswith="Scale Bench ").count()
        timings = []
        for index in range(existing, count):
            started = time.perf_counter()
            business, _ = business_register(
                business_name=f"Scale Bench {index:04d}",
                owner_email=f"owner{index:04d}-{uuid.uuid4().hex[:4]}@scale.test",
                owner_password="bench-password-123",
                owner_name="Scale Owner",
                trade="plumbing",
                timezone_name="America/Chicago",
            )
            timings.append((time.perf_counter() - started) * 1000)
            with tenant_context(business):
                phone_number_assign(phone_number=bench_number(index))
            if (index + 1) % 100 == 0:
                log(f"  {index + 1} businesses")
        connection.set_schema_to_public()
        self.numbers = [
            bench_number(int(name.rsplit(" ", 1)[1]))
            for name in Business.objects.filter(name__startswith="Scale Bench ").values_list("name", flat=True)
        ]
        connection.close()
        return timings

    def baseline_signups(self, count: int) -> list[float]:
        """The same sign-up with the schema built the old way (every migration run, django-tenants'
        ``create_schema``), for the ratio; those businesses are removed again."""
        from django.db import connection
        from django_tenants.models import TenantMixin

        from apps.accounts.models import User
        from apps.tenants.models import Business
        from apps.tenants.services import business_register

        timings, original = [], Business.create_schema
        Business.create_schema = TenantMixin.create_schema
        try:
            for _ in range(count):
                tag = uuid.uuid4().hex[:8]
                started = time.perf_counter()
                business, _ = business_register(
                    business_name=f"Scale Baseline {tag}",
                    owner_email=f"baseline-{tag}@scale.test",
                    owner_password="bench-password-123",
                    owner_name="Scale Owner",
                    trade="plumbing",
                    timezone_name="America/Chicago",
                )
                timings.append((time.perf_counter() - started) * 1000)
                User.objects.filter(business=business).delete()
                schema = business.schema_name
                business.delete(force_drop=False)
                with connection.cursor() as cursor:
                    cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')
        finally:
            Business.create_schema = original
        connection.close()
        return timings

    # --- measuring --------------------------------------------------------------------------------

    def noop_release(self) -> tuple[float, float]:
        """(the command's wall time, process start included; the release's own time, as it prints it)."""
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "manage.py", "release"],
            cwd=BASE_DIR,
            check=True,
            env={**os.environ, "DATABASE_POOL": "false", "DATABASE_STATEMENT_TIMEOUT_MS": "0"},
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
        return wall, float(re.search(r" in ([0-9.]+) s", done.stdout).group(1))

    def incoming(self):
        call_sid, caller = "CA" + uuid.uuid4().hex, f"+1773{random.randint(2000000, 9999999)}"
        to = random.choice(self.numbers)
        self.calls.append((call_sid, caller, to))
        return self.signed("/webhooks/twilio/call", self.call_params(call_sid, caller, to, CallStatus="ringing"))

    def status(self):
        call_sid, caller, to = self.calls.pop()
        params = self.call_params(
            call_sid,
            caller,
            to,
            CallStatus="in-progress",
            DialCallDuration="0",
            DialCallSid="CA" + uuid.uuid4().hex,
            DialCallStatus="no-answer",
        )
        return self.signed(f"/webhooks/twilio/call/status/{call_sid}", params)

    def due_work(self):
        """A status webhook of a missed call to one of ``DUE_BUSINESSES`` distinct businesses' numbers:
        an outcome recorded and left for the sweep (no worker runs in this bench)."""
        to = self.due_numbers.pop()
        call_sid, caller = "CA" + uuid.uuid4().hex, f"+1773{random.randint(2000000, 9999999)}"
        params = self.call_params(
            call_sid, caller, to, CallStatus="in-progress", DialCallDuration="0", DialCallStatus="no-answer"
        )
        return self.signed(f"/webhooks/twilio/call/status/{call_sid}", params)

    @staticmethod
    def sweeps() -> float:
        """One beat cycle of the three sweeps as shipped, in ms."""
        from apps.conversations.tasks import inbound_sweep, lead_idle_sweep
        from apps.telephony.tasks import call_status_sweep

        started = time.perf_counter()
        call_status_sweep()
        inbound_sweep()
        lead_idle_sweep()
        return (time.perf_counter() - started) * 1000

    @staticmethod
    def settle() -> int:
        """Apply every recorded call outcome, as the worker would have: nothing is due afterwards."""
        from django_tenants.utils import tenant_context

        from apps.telephony import services
        from apps.telephony.tasks import apply_call_status_events
        from apps.tenants.fanout import serving_businesses

        applied = 0
        for business in serving_businesses():
            with tenant_context(business):
                due = services.call_status_events_due(older_than_seconds=0)
                if due:
                    applied += apply_call_status_events(*due)
        return applied

    @staticmethod
    def union_all_probes(explain: bool = False) -> tuple[float, dict]:
        """The probe shipped before the work marks, for the ratio: per sweep, one statement per 500
        schemas, ``UNION ALL`` of one ``EXISTS`` per schema. (ms for the three; with ``explain``, the
        first statement's EXPLAIN ANALYZE planning and execution times)."""
        from datetime import timedelta

        from django.conf import settings
        from django.db import connection
        from django.utils import timezone

        from apps.tenants.fanout import serving_businesses

        now = timezone.now()
        probes = (
            ("telephony_callstatusevent", "processed_at IS NULL AND created_at <= %s", [now]),
            (
                "conversations_message",
                "direction = 'inbound' AND handled_at IS NULL AND created_at < %s AND created_at >= %s",
                [now, now - timedelta(hours=settings.CONVERSATION_IDLE_HOURS)],
            ),
            ("conversations_conversation", "status = 'active' AND lead_outcome = '' AND last_message_at < %s", [now]),
        )
        schemas = list(serving_businesses().values_list("schema_name", flat=True))
        plan: dict = {}
        started = time.perf_counter()
        for table, where, params in probes:
            for start in range(0, len(schemas), 500):
                chunk = schemas[start : start + 500]
                sql = " UNION ALL ".join(
                    f'SELECT %s WHERE EXISTS (SELECT 1 FROM "{schema}"."{table}" WHERE {where})'  # noqa: S608
                    for schema in chunk
                )
                bound = [value for schema in chunk for value in (schema, *params)]
                with connection.cursor() as cursor:
                    if explain and not plan:
                        cursor.execute("EXPLAIN (ANALYZE, SUMMARY) " + sql, bound)
                        text = "\n".join(row[0] for row in cursor.fetchall())
                        plan = {
                            "schemas": len(chunk),
                            "planning_ms": float(re.search(r"Planning Time: ([0-9.]+)", text).group(1)),
                            "execution_ms": float(re.search(r"Execution Time: ([0-9.]+)", text).group(1)),
                        }
                    else:
                        cursor.execute(sql, bound)
                        cursor.fetchall()
        return (time.perf_counter() - started) * 1000, plan

    def visit_every_business(self) -> float:
        """The loop the probe replaced: switch into every business and ask its three questions."""
        from datetime import timedelta

        from django.conf import settings
        from django.utils import timezone
        from django_tenants.utils import tenant_context

        from apps.conversations.models import Conversation
        from apps.conversations.selectors import inbound_unhandled
        from apps.telephony import services
        from apps.tenants.fanout import serving_businesses

        started = time.perf_counter()
        for business in serving_businesses():
            with tenant_context(business):
                services.call_status_events_due(older_than_seconds=settings.CALL_STATUS_STALE_SECONDS)
                inbound_unhandled(
                    older_than_seconds=settings.INBOUND_STALE_SECONDS, within_hours=settings.CONVERSATION_IDLE_HOURS
                )
                Conversation.objects.filter(
                    status="active",
                    lead_outcome="",
                    last_message_at__lt=timezone.now() - timedelta(hours=settings.CONVERSATION_IDLE_HOURS),
                ).exists()
        return (time.perf_counter() - started) * 1000

    def fanout_idle(self) -> dict:
        """After settling: the first cycle (it visits every business the webhooks marked, finds its
        work applied and clears the marks; before 2026-12-02 15:20 UTC it left the marks younger than
        ``CALL_STATUS_STALE_SECONDS``, which the work-due cycle then visited too), then a steady one
        (nothing due), the old probe and the visit-every-business loop on the same state, and the old
        probe's plan on a fresh connection."""
        from django.db import connection
        from django.test import override_settings

        figures = {"settled_calls": self.settle()}
        with override_settings(CALL_STATUS_STALE_SECONDS=0):  # Every mark due, recent ones included.
            figures["fanout_first_cycle_ms"] = round(self.sweeps(), 1)
        figures["fanout_steady_cycle_ms"] = round(statistics.median(self.sweeps() for _ in range(3)), 1)
        connection.close()
        cold, plan = self.union_all_probes(explain=True)
        figures["union_all_fresh_connection_ms"] = round(cold, 1)
        figures["union_all_probe_plan"] = plan
        figures["union_all_steady_ms"] = round(statistics.median(self.union_all_probes()[0] for _ in range(3)), 1)
        figures["fanout_visit_every_business_ms"] = round(self.visit_every_business(), 1)
        connection.close()
        return figures

    def fanout_due(self) -> dict:
        """A cycle with ``DUE_BUSINESSES`` businesses holding due work (their outcomes re-enqueued)."""
        from django.db import connection
        from django.test import override_settings

        with override_settings(CALL_STATUS_STALE_SECONDS=0):
            cycle = self.sweeps()
            union_all, _ = self.union_all_probes()
        connection.close()
        return {
            "fanout_due_businesses": DUE_BUSINESSES,
            "fanout_due_cycle_ms": round(cycle, 1),
            "union_all_due_probe_ms": round(union_all, 1),
        }

    async def run(self) -> None:
        for level in self.args.levels:
            log(f"level {level}: signing up …")
            signups = await asyncio.to_thread(self.grow_to, level)
            entry = self.results["levels"].setdefault(str(level), {})
            if signups:
                entry.update(
                    signups_measured=len(signups),
                    signup_p50_ms=round(percentile(signups, 50), 1),
                    signup_p99_ms=round(percentile(signups, 99), 1),
                )
            baseline = await asyncio.to_thread(self.baseline_signups, self.args.baseline)
            entry["signup_by_migrations_p50_ms"] = round(percentile(baseline, 50), 1)
            log(f"level {level}: no-op release …")
            wall, own = await asyncio.to_thread(self.noop_release)
            entry["noop_release_s"], entry["noop_release_own_s"] = round(wall, 2), own
            for name, factory in (("incoming", self.incoming), ("status", self.status)):
                await open_loop("127.0.0.1", self.port, factory, 5.0, 20)  # warm-up, not counted
                result = await open_loop("127.0.0.1", self.port, factory, RATE, self.args.requests)
                entry[f"{name}_p50_ms"] = round(result.p50, 2)
                entry[f"{name}_p99_ms"] = round(result.p99, 2)
                entry[f"{name}_errors"] = result.errors
            entry.update(await asyncio.to_thread(self.fanout_idle))
            self.due_numbers = random.sample(self.numbers, min(DUE_BUSINESSES, len(self.numbers)))
            await open_loop("127.0.0.1", self.port, self.due_work, RATE, len(self.due_numbers))
            entry.update(await asyncio.to_thread(self.fanout_due))
            log(f"level {level}: {entry}")

    def report(self) -> None:
        levels = self.results["levels"]
        base = levels.get(str(self.args.levels[0]), {})
        print(
            "\nbusinesses | sign-up p50/p99 ms (by migrations) | no-op release s (its own) | incoming p50/p99 ms"
            " | status p50/p99 ms | fan-out steady / with due work ms | before: UNION ALL probe steady / fresh"
            " connection ms, every-business loop ms"
        )
        for level, entry in levels.items():
            print(
                f"{level:>10} | {entry.get('signup_p50_ms', '-')} / {entry.get('signup_p99_ms', '-')} "
                f"({entry.get('signup_by_migrations_p50_ms', '-')}) | "
                f"{entry['noop_release_s']} ({entry['noop_release_own_s']}) | {entry['incoming_p50_ms']} / {entry['incoming_p99_ms']} | "
                f"{entry['status_p50_ms']} / {entry['status_p99_ms']} | "
                f"{entry['fanout_steady_cycle_ms']} / {entry['fanout_due_cycle_ms']} ({DUE_BUSINESSES} due) | "
                f"{entry['union_all_steady_ms']} / {entry['union_all_fresh_connection_ms']}, "
                f"{entry['fanout_visit_every_business_ms']}"
            )
            if base and entry is not base:
                ratio = entry["incoming_p50_ms"] / base["incoming_p50_ms"]
                print(f"{'':>10}   incoming p50 vs {self.args.levels[0]}: {ratio:.2f}x")
        save_results("scale.json", self.results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levels", default="10,100,1000", type=lambda v: [int(x) for x in v.split(",")])
    parser.add_argument("--baseline", type=int, default=3, help="sign-ups by migrations per level, for the ratio")
    parser.add_argument("--requests", type=int, default=200, help="open-loop requests per webhook and level")
    args = parser.parse_args()
    bench = Scale(args)
    try:
        bench.start()
        asyncio.run(bench.run())
        bench.report()
    finally:
        bench.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
