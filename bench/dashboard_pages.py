"""Dashboard page timings with a large tenant: ``python -m bench.dashboard_pages`` (see bench/README.md).

Seeds one business with 100,000 calls and 20,000 conversations (two messages each) once — later
runs reuse the data under ``.data/bench`` — then renders the overview, calls, inbox and a thread
in-process through the whole middleware stack, as the signed-in owner, and prints the server time
(p50 / p95 / max over the runs) and the number of SQL queries of each page.
"""

import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
os.environ.setdefault("NMC_DATA_DIR", str(BASE_DIR / ".data" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nevermisscall.settings")
os.environ.setdefault("APP_ENV", "development")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("RATE_LIMIT_ENABLED", "false")
sys.path.insert(0, str(BASE_DIR))

CALLS = 100_000
CONVERSATIONS = 20_000
RUNS = 30
OWNER = ("pages-owner@bench.test", "copper-pipes-and-valves-42")


def seed():
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from apps.conversations.models import Conversation, Message
    from apps.telephony.models import Call
    from bench.harness import bench_owner_business

    owner, business = bench_owner_business(name="Bench Pages Plumbing", owner=OWNER)
    now = timezone.now()
    if Conversation.objects.count() < CONVERSATIONS:
        print(f"seeding {CONVERSATIONS:,} conversations and {2 * CONVERSATIONS:,} messages …", flush=True)
        for start in range(0, CONVERSATIONS, 2000):
            batch = [
                Conversation(
                    customer_number=f"+1212{index:07d}",
                    business_number="+13125550100",
                    status="active" if index % 4 else "resolved",
                    last_message_at=now - timedelta(minutes=index),
                )
                for index in range(start, start + 2000)
            ]
            Conversation.objects.bulk_create(batch)
            messages = []
            for conversation in batch:
                messages.append(
                    Message(
                        conversation=conversation,
                        direction="outbound",
                        kind="auto_reply",
                        from_number="+13125550100",
                        to_number=conversation.customer_number,
                        body="Thanks for calling! We missed your call.",
                        status="delivered",
                    )
                )
                messages.append(
                    Message(
                        conversation=conversation,
                        direction="inbound",
                        kind="customer",
                        from_number=conversation.customer_number,
                        to_number="+13125550100",
                        body="My water heater is leaking",
                        status="received",
                    )
                )
            Message.objects.bulk_create(messages)
    if Call.objects.count() < CALLS:
        print(f"seeding {CALLS:,} calls …", flush=True)
        conversation_ids = list(Conversation.objects.values_list("id", flat=True)[:CONVERSATIONS])
        for start in range(0, CALLS, 5000):
            Call.objects.bulk_create(
                Call(
                    call_sid=f"CA{index:032d}",
                    from_number=f"+1212{index % CONVERSATIONS:07d}",
                    to_number="+13125550100",
                    status="missed" if index % 3 == 0 else "answered",
                    missed_reason="no-answer" if index % 3 == 0 else "",
                    duration=None if index % 3 == 0 else 95,
                    conversation_id=conversation_ids[index % len(conversation_ids)] if index % 3 == 0 else None,
                    started_at=now - timedelta(minutes=index * 2),
                )
                for index in range(start, start + 5000)
            )
    connection.set_schema_to_public()
    return owner, business


def measure(owner, business):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.conversations.models import Conversation

    connection.set_tenant(business)
    thread_id = Conversation.objects.order_by("-last_message_at").values_list("id", flat=True).first()
    connection.set_schema_to_public()
    client = Client()
    client.force_login(owner)
    pages = {
        "overview": "/",
        "calls": "/calls/",
        "calls (missed, page 40)": "/calls/?status=missed&page=40",
        "inbox": "/inbox/",
        "thread": f"/inbox/{thread_id}/",
    }
    print(f"\n{'page':26} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}")
    results = {}
    for name, path in pages.items():
        client.get(path)  # Warm-up: connection, template caches.
        durations = []
        for _ in range(RUNS):
            started = time.perf_counter()
            response = client.get(path)
            durations.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        durations.sort()
        p95 = durations[int(len(durations) * 0.95) - 1]
        results[name] = (statistics.median(durations), p95, durations[-1], len(queries))
        print(f"{name:26} {results[name][0]:8.1f} {p95:8.1f} {durations[-1]:8.1f} {len(queries):8d}")
    return results


def main():
    import django

    django.setup()
    owner, business = seed()
    measure(owner, business)


if __name__ == "__main__":
    main()
