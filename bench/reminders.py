"""Reminder run across many businesses beside the missed-call SMS path, in one run:
``python -m bench.reminders [--businesses 100] [--appointments 100] [--count 300]``.

The stack of ``bench.run`` (daphne, one Celery worker with ``--concurrency=2``, the Twilio stand-in,
embedded PostgreSQL and Redis under ``.data/bench-reminders/``). First the missed-call open loop of
``bench.missed`` (20 status webhooks/s, ``--count`` calls): its p50/p99 and texts/s. Then
``--businesses`` businesses (created once and kept, each with a number) get ``--appointments``
appointments each in the next 17 hours, and two beats fire the reminder fan-out at the same moment
(``campaigns.fan_out`` called twice at once): one statement finds the due businesses, one
``campaigns.run_business`` task per business goes to the worker, and each reminder is texted
through the outbox to the stand-in. Reported: wall time from the fan-out to the last reminder
received, reminders/s, and the duplicates (a customer texted twice) and losses (one never texted),
both counted at the stand-in.
"""

import argparse
import asyncio
import os
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
os.environ.setdefault("NMC_BENCH_DATA_DIR", str(BASE_DIR / ".data" / "bench-reminders"))

from bench.harness import BENCH_SMS_QUOTA, OWNER_PASSWORD, log, percentile, save_results, wait_for  # noqa: E402
from bench.missed import measure as measure_missed  # noqa: E402
from bench.run import Bench  # noqa: E402


def reminder_businesses(count: int) -> tuple[list, list[float]]:
    """The ``count`` bench businesses, created when missing; also the seconds each creation took."""
    from django_tenants.utils import tenant_context

    from apps.telephony.phone_numbers import phone_number_assign
    from apps.tenants.config.services import config_update
    from apps.tenants.models import Business
    from apps.tenants.services import business_register

    businesses, created = [], []
    for index in range(count):
        name = f"Reminder Bench {index:03d}"
        business = Business.objects.filter(name=name).first()
        if business is None:
            log(f"creating {name} …")
            began = time.monotonic()
            business, _ = business_register(
                business_name=name,
                owner_email=f"reminders{index}@bench.test",
                owner_password=OWNER_PASSWORD,
                owner_name="Bench Owner",
                trade="plumbing",
                timezone_name="America/Chicago",
            )
            with tenant_context(business):
                config_update(business=business, data={"sms_daily_quota": BENCH_SMS_QUOTA, "reminder_hours": 24})
                phone_number_assign(phone_number=f"+1646{5000000 + index:07d}")
            created.append(time.monotonic() - began)
        businesses.append(business)
    return businesses, created


def book(businesses: list, per_business: int) -> set[str]:
    """Empty each business's appointments and campaign rows, then book ``per_business`` 5-minute
    appointments 10 minutes apart from an hour from now; the customers' numbers are unique."""
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from apps.campaigns.models import CampaignMessage, CampaignRun
    from apps.crm.models import Appointment, Customer
    from apps.outbox.models import Delivery, DeliveryAttempt

    phones = set()
    start = timezone.now() + timedelta(hours=1)
    for index, business in enumerate(businesses):
        with tenant_context(business):
            tables = ", ".join(m._meta.db_table for m in (CampaignMessage, CampaignRun, Appointment, Customer))
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {tables} CASCADE")
            customers = Customer.objects.bulk_create(
                Customer(name=f"Customer {n}", phone=f"+1773{index:03d}{n:04d}") for n in range(per_business)
            )
            Appointment.objects.bulk_create(
                Appointment(
                    customer=customer,
                    start=start + timedelta(minutes=10 * n),
                    end=start + timedelta(minutes=10 * n + 5),
                    job_type="Leak repair",
                )
                for n, customer in enumerate(customers)
            )
            phones.update(customer.phone for customer in customers)
    ids = [business.pk for business in businesses]
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {DeliveryAttempt._meta.db_table} WHERE delivery_id IN "  # noqa: S608
            f"(SELECT id FROM {Delivery._meta.db_table} WHERE business_id = ANY(%s))",
            [ids],
        )
        cursor.execute(f"DELETE FROM {Delivery._meta.db_table} WHERE business_id = ANY(%s)", [ids])  # noqa: S608
    return phones


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--businesses", type=int, default=100)
    parser.add_argument("--appointments", type=int, default=100, help="per business")
    parser.add_argument("--count", type=int, default=300, help="missed calls in the open loop")
    args = parser.parse_args()
    bench = Bench(argparse.Namespace(duration=5.0, open_count=args.count))
    try:
        bench.start()
        log(f"missed-call path: {args.count} calls at 20/s …")
        started = time.monotonic()
        missed = asyncio.run(measure_missed(bench, args.count))
        missed_wall = time.monotonic() - started
        log(f"missed call → SMS: {args.count / missed_wall:.1f} texts/s over the open loop ({missed_wall:.1f} s)")

        import django

        django.setup()
        from django.db import connections

        from apps.campaigns.tasks import fan_out
        from nevermisscall import after_commit

        businesses, created = reminder_businesses(args.businesses)
        if created:
            log(
                f"created {len(created)} businesses: median {percentile(created, 50):.2f} s, "
                f"max {max(created):.2f} s each"
            )
        phones = book(businesses, args.appointments)
        before = Counter(m["to"] for m in bench.standin_messages() if m["to"] in phones)
        assert not before, "texts to this run's customers before it started"
        log(f"reminders: {args.businesses} businesses × {args.appointments} appointments = {len(phones)} …")
        barrier = threading.Barrier(2)
        named = []

        def beat():
            barrier.wait()
            named.append(len(fan_out.run("reminder")))
            after_commit.flush()
            connections.close_all()

        started = time.monotonic()
        beats = [threading.Thread(target=beat) for _ in range(2)]
        for thread in beats:
            thread.start()
        for thread in beats:
            thread.join()
        fanned = time.monotonic() - started

        def received() -> Counter:
            return Counter(m["to"] for m in bench.standin_messages() if m["to"] in phones)

        try:
            wait_for(lambda: len(received()) >= len(phones), 900, "every reminder")
        except RuntimeError as exc:
            log(str(exc))
        wall = time.monotonic() - started
        time.sleep(5)  # Anything sent twice arrives in this time.
        counts = received()
        duplicates = sum(n - 1 for n in counts.values() if n > 1)
        losses = len(phones - set(counts))
        log(f"fan-out (two beats at once): {fanned * 1000:.0f} ms, businesses named by each: {named}")
        log(
            f"reminder run: {len(phones)} reminders in {wall:.1f} s = {len(counts) / wall:.1f} reminders/s; "
            f"duplicates {duplicates}, losses {losses}"
        )
        save_results(
            "reminders.json",
            {
                "businesses": args.businesses,
                "appointments_per_business": args.appointments,
                "missed_call_path": {**missed, "texts_per_s": args.count / missed_wall, "open_loop_rate_per_s": 20},
                "business_creation_s": (
                    {"created": len(created), "p50": percentile(created, 50), "max": max(created)} if created else None
                ),
                "fan_out_ms": fanned * 1000,
                "businesses_named_by_each_beat": named,
                "reminders": len(phones),
                "reminder_wall_s": wall,
                "reminders_per_s": len(counts) / wall,
                "duplicates": duplicates,
                "losses": losses,
            },
        )
    finally:
        bench.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
