"""Owner API with a large business: ``python -m bench.owner`` (``make bench-owner``; see docs/owner.md).

Seeds one business once (later runs reuse the data under ``.data/bench``) with 100,000
appointments (20,000 customers, five each, in non-overlapping 30-minute slots over about six years
up to a month ahead), 100,000 conversations of two texts each (200,000 messages, spread over the
last 365 days) and 50,000 missed calls, all with ``bulk_create``. Then, in-process through the whole
middleware stack as the signed-in owner, it times every analytics route (p50 / p99 over the runs,
and the SQL statements of one request) beside a bare view of the same stack, prints the plan of
every statement that still reads a whole table where an index could serve (``Seq Scan``), and
measures the peak memory of reading a 100,000-row and a ~1,000-row conversations export.
"""

import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
os.environ.setdefault("NMC_DATA_DIR", str(BASE_DIR / ".data" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nevermisscall.settings")
os.environ.setdefault("APP_ENV", "development")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("RATE_LIMIT_ENABLED", "false")
sys.path.insert(0, str(BASE_DIR))

CUSTOMERS = 20_000
APPOINTMENTS = 100_000
CONVERSATIONS = 100_000
CALLS = 50_000
RUNS = int(os.environ.get("BENCH_OWNER_RUNS", "30"))
OWNER = ("owner-bench@bench.test", "owner-bench-password-42")
BUSINESS_NUMBER = "+13125550400"
ROUTES = [
    "/v1/owner/service-mix?days=30",
    "/v1/owner/service-mix?days=365",
    "/v1/owner/pipeline?days=30",
    "/v1/owner/customers/analytics?days=30",
    "/v1/owner/service-economics?days=365",
    "/v1/owner/neighborhoods?days=365",
    "/v1/owner/time-to-book?days=30",
    "/v1/owner/conversion-funnel?days=30",
    "/v1/owner/data-completeness?days=30",
    "/v1/owner/followups?days=30",
    "/v1/owner/retention",
    "/v1/owner/workload/next?days=14",
    "/v1/owner/schedule/tomorrow",
    "/v1/owner/summary/today",
    "/v1/owner/conversations/recent?limit=50",
    "/v1/owner/conversations/review?limit=50",
    "/v1/owner/reschedules?days=30",
    "/v1/owner/callbacks?days=30",
    "/v1/owner/sms-metrics?days=30",
    "/v1/owner/twilio-metrics?days=30",
]
BARE = "/healthz"  # the same stack's floor: middleware, no tenant, no query
JOBS = ["drain_cleaning", "water_heater", "leak_repair", "toilet_repair", "sewer_line", "faucet_install"]


def seed():
    from datetime import timedelta
    from decimal import Decimal

    from django.db import connection
    from django.utils import timezone

    from apps.conversations.models import Conversation, Message
    from apps.crm.models import Appointment, Customer
    from apps.telephony.models import Call
    from bench.harness import bench_owner_business

    owner, business = bench_owner_business(name="Bench Owner Plumbing", owner=OWNER)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    started = time.perf_counter()
    if Customer.objects.count() < CUSTOMERS:
        print(f"seeding {CUSTOMERS:,} customers …", flush=True)
        Customer.objects.bulk_create(
            (
                Customer(
                    name=f"Customer {i}" if i % 5 else "",
                    phone=f"+1630{i:07d}",
                    email=f"c{i}@example.test" if i % 3 == 0 else "",
                    address=f"{i} Main St, Chicago IL 606{i % 60:02d}" if i % 4 else "",
                )
                for i in range(CUSTOMERS)
            ),
            batch_size=5000,
        )
    if Appointment.objects.count() < APPOINTMENTS:
        print(f"seeding {APPOINTMENTS:,} appointments …", flush=True)
        customer_ids = list(Customer.objects.order_by("phone").values_list("id", flat=True))
        first = now + timedelta(days=30) - timedelta(minutes=30 * APPOINTMENTS)
        statuses = ["completed"] * 6 + ["scheduled", "confirmed", "cancelled", "no_show"]
        for start in range(0, APPOINTMENTS, 5000):
            rows = []
            for i in range(start, start + 5000):
                begins = first + timedelta(minutes=30 * i)
                status = statuses[i % 10] if begins < now else ("scheduled" if i % 3 else "confirmed")
                rows.append(
                    Appointment(
                        customer_id=customer_ids[i % CUSTOMERS],
                        job_type=JOBS[i % len(JOBS)] if i % 11 else "",
                        trade="plumbing",
                        status=status,
                        is_emergency=i % 13 == 0,
                        start=begins,
                        end=begins + timedelta(minutes=30),
                        estimated_value=Decimal(100 + (i * 37) % 900) if i % 7 else None,
                        address=f"{i % 500} Oak Ave, Chicago IL 606{i % 45:02d}" if i % 2 else "",
                        source="sms",
                    )
                )
            Appointment.objects.bulk_create(rows)
    if Conversation.objects.count() < CONVERSATIONS:
        print(f"seeding {CONVERSATIONS:,} conversations and {2 * CONVERSATIONS:,} messages …", flush=True)
        appointment_ids = list(
            Appointment.objects.filter(start__gte=now - timedelta(days=400)).values_list("id", flat=True)[:20_000]
        )
        step = timedelta(days=365) / CONVERSATIONS
        for start in range(0, CONVERSATIONS, 5000):
            batch = [
                Conversation(
                    customer_number=f"+1630{i % CUSTOMERS:07d}",
                    business_number=BUSINESS_NUMBER,
                    customer_name=f"Customer {i % CUSTOMERS}" if i % 3 else "",
                    status="resolved",
                    lead_job_type=JOBS[i % len(JOBS)] if i % 2 else "",
                    lead_outcome=["booked", "price_only", "abandoned", "", "handed_to_human"][i % 5],
                    appointment_id=appointment_ids[i % len(appointment_ids)] if i % 5 == 0 else None,
                    created_at=now - step * i,
                    last_message_at=now - step * i,
                )
                for i in range(start, start + 5000)
            ]
            Conversation.objects.bulk_create(batch)
            messages = []
            for index, conversation in enumerate(batch, start=start):
                for direction, body in (("outbound", "Sorry we missed your call!"), ("inbound", "Can I reschedule?")):
                    messages.append(
                        Message(
                            conversation=conversation,
                            direction=direction,
                            kind="auto_reply" if direction == "outbound" else "customer",
                            from_number=BUSINESS_NUMBER if direction == "outbound" else conversation.customer_number,
                            to_number=conversation.customer_number if direction == "outbound" else BUSINESS_NUMBER,
                            body=body if index % 20 == 0 or direction == "outbound" else "My sink is leaking",
                            status="delivered" if direction == "outbound" else "received",
                            segments=1 if direction == "outbound" else None,
                            created_at=conversation.created_at + timedelta(seconds=30 if direction == "inbound" else 5),
                        )
                    )
            Message.objects.bulk_create(messages)
    if Call.objects.count() < CALLS:
        print(f"seeding {CALLS:,} missed calls …", flush=True)
        conversations = list(
            Conversation.objects.order_by("-created_at").values_list("id", "customer_number", "created_at")[:CALLS]
        )
        for start in range(0, CALLS, 5000):
            Call.objects.bulk_create(
                Call(
                    call_sid=f"CAowner{i:026d}",
                    from_number=number,
                    to_number=BUSINESS_NUMBER,
                    status="missed",
                    missed_reason="no-answer",
                    conversation_id=conversation_id,
                    started_at=created_at - timedelta(seconds=1),
                )
                for i, (conversation_id, number, created_at) in enumerate(
                    conversations[start : start + 5000], start=start
                )
            )
    with connection.cursor() as cursor:
        # bulk_create stamps every row with the seeding time: date bookings a few days before the
        # job and customers at their first booking, as a real book's would be (once).
        cursor.execute(
            "UPDATE crm_appointment SET created_at = start - (id::text ~ '^[0-7]')::int * interval '3 days'"
            " - interval '1 day' WHERE created_at > start - interval '1 day'"
        )
        cursor.execute(
            "UPDATE crm_customer c SET created_at = f.first FROM (SELECT customer_id, min(created_at) AS first"
            " FROM crm_appointment GROUP BY customer_id) f WHERE f.customer_id = c.id AND c.created_at > f.first"
        )
        cursor.execute("ANALYZE")
    print(f"data ready in {time.perf_counter() - started:.0f} s", flush=True)
    connection.set_schema_to_public()
    return owner, business


def _seq_scans(business, captured) -> list[str]:
    """Statements of one request whose plan reads a big table sequentially."""
    from django.db import connection

    found = []
    connection.set_tenant(business)
    with connection.cursor() as cursor:
        for query in captured:
            sql = query["sql"]
            if (
                not sql.lstrip().upper().startswith(("SELECT", "WITH"))
                or "crm_" not in sql
                and "conversations_" not in sql
                and "telephony_" not in sql
            ):
                continue
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            for line in plan.splitlines():
                if "Seq Scan on" in line:
                    table = line.split("Seq Scan on", 1)[1].split()[0]
                    if table in {
                        "crm_appointment",
                        "conversations_conversation",
                        "conversations_message",
                        "telephony_call",
                        "crm_customer",
                    }:
                        found.append(table)
    connection.set_schema_to_public()
    return sorted(set(found))


def measure(owner, business):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(owner)
    print(f"\n{'route':42} {'p50 ms':>8} {'p99 ms':>8} {'queries':>8}  seq scans (days window)")
    results = {}
    for path in [BARE, *ROUTES]:
        response = client.get(path)  # warm-up
        assert response.status_code == 200, (path, response.status_code, response.content[:200])
        durations = []
        for _ in range(RUNS):
            started = time.perf_counter()
            response = client.get(path)
            durations.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        durations.sort()
        p99 = durations[min(len(durations) - 1, int(len(durations) * 0.99))]
        scans = _seq_scans(business, queries.captured_queries) if path != BARE else []
        results[path] = (statistics.median(durations), p99, len(queries), scans)
        print(f"{path:42} {results[path][0]:8.1f} {p99:8.1f} {len(queries):8d}  {', '.join(scans) or '-'}", flush=True)
    bare = results[BARE][0]
    slowest = max(ROUTES, key=lambda path: results[path][0])
    print(f"\nbare view p50 {bare:.1f} ms; slowest analytics route {slowest} {results[slowest][0]:.1f} ms "
          f"({results[slowest][0] / bare:.0f}x the bare view)")  # fmt: skip
    return results


def export_memory(owner):
    from django.test import Client

    client = Client()
    client.force_login(owner)
    print(f"\n{'export':46} {'rows':>8} {'peak KiB':>9} {'chunks':>7} {'seconds':>8}")
    figures = {}
    for days in (4, 365):
        path = f"/v1/owner/export/conversations.csv?days={days}"
        response = client.get(path)
        assert response.streaming
        tracemalloc.start()
        started = time.perf_counter()
        rows = chunks = 0
        for chunk in response.streaming_content:
            chunks += 1
            rows += chunk.count(b"\n")
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        figures[days] = (rows - 1, peak)
        print(f"{path:46} {rows - 1:8,d} {peak / 1024:9.0f} {chunks:7d} {elapsed:8.2f}", flush=True)
    (small_rows, small_peak), (large_rows, large_peak) = figures[4], figures[365]
    print(f"{large_rows / small_rows:.0f}x the rows, {large_peak / small_peak:.2f}x the peak memory")
    return figures


def main():
    import django

    django.setup()
    owner, business = seed()
    measure(owner, business)
    export_memory(owner)


if __name__ == "__main__":
    main()
