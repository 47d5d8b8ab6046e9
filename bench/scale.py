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
import subprocess
import sys
import time
import uuid
from pathlib import Path

os.environ.setdefault("NMC_BENCH_DATA_DIR", str(Path(__file__).resolve().parent.parent / ".data" / "bench-scale"))

from bench.harness import BASE_DIR, Stack, log, percentile, save_results  # noqa: E402
from bench.httpload import open_loop  # noqa: E402

RATE = 20.0


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
                phone_number_assign(phone_number=f"+1415{index:07d}")
            if (index + 1) % 100 == 0:
                log(f"  {index + 1} businesses")
        connection.set_schema_to_public()
        self.numbers = [
            f"+1415{int(name.rsplit(' ', 1)[1]):07d}"
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

    def fanout_cycle(self) -> tuple[float, float]:
        """(the sweeps as shipped, the visit-every-business loop) in ms."""
        from datetime import timedelta

        from django.conf import settings
        from django.db import connection
        from django.utils import timezone
        from django_tenants.utils import tenant_context

        from apps.conversations.selectors import inbound_unhandled
        from apps.conversations.tasks import inbound_sweep, lead_idle_sweep
        from apps.telephony import services
        from apps.telephony.tasks import call_status_sweep
        from apps.tenants.models import Business

        started = time.perf_counter()
        call_status_sweep()
        inbound_sweep()
        lead_idle_sweep()
        shipped = (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        for business in Business.objects.exclude(schema_name="public").filter(status="active"):
            with tenant_context(business):
                services.call_status_events_due(older_than_seconds=settings.CALL_STATUS_STALE_SECONDS)
                inbound_unhandled(
                    older_than_seconds=settings.INBOUND_STALE_SECONDS, within_hours=settings.CONVERSATION_IDLE_HOURS
                )
                from apps.conversations.models import Conversation

                Conversation.objects.filter(
                    status="active",
                    lead_outcome="",
                    last_message_at__lt=timezone.now() - timedelta(hours=settings.CONVERSATION_IDLE_HOURS),
                ).exists()
        every = (time.perf_counter() - started) * 1000
        connection.close()
        return shipped, every

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
            shipped, every = await asyncio.to_thread(self.fanout_cycle)
            entry["fanout_cycle_ms"] = round(shipped, 1)
            entry["fanout_visit_every_business_ms"] = round(every, 1)
            log(f"level {level}: {entry}")

    def report(self) -> None:
        levels = self.results["levels"]
        base = levels.get(str(self.args.levels[0]), {})
        print(
            "\nbusinesses | sign-up p50/p99 ms | no-op release s (its own) | incoming p50/p99 ms | status p50/p99 ms | fan-out ms (every-business loop)"
        )
        for level, entry in levels.items():
            print(
                f"{level:>10} | {entry.get('signup_p50_ms', '-')} / {entry.get('signup_p99_ms', '-')} "
                f"({entry.get('signup_by_migrations_p50_ms', '-')}) | "
                f"{entry['noop_release_s']} ({entry['noop_release_own_s']}) | {entry['incoming_p50_ms']} / {entry['incoming_p99_ms']} | "
                f"{entry['status_p50_ms']} / {entry['status_p99_ms']} | "
                f"{entry['fanout_cycle_ms']} ({entry['fanout_visit_every_business_ms']})"
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
