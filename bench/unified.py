"""Dashboard and unified API benchmark: ``python -m bench.unified [--calls 1000000] [--businesses 100]
[--big 100000] [--requests 30]``.

Starts embedded PostgreSQL and Redis (data under ``.data/bench-unified/``) and migrates. The
businesses are real (``business_register``, created once and found again on later runs). Calls are
bulk-loaded per schema with one ``INSERT … SELECT generate_series`` (``--big`` in the first business,
the rest of ``--calls`` spread over the others; over the last 30 days, one in three missed), then
their metric rollups are written by the product's own statement (``metrics.metric_ctes`` with
``metric_params``, one per call: calls, answered or missed, the missed call's text), sent in
pipelined batches (``executemany``), and raw events past their age pruned (``metrics_prune``).

Then, in this process (Django's test client, the owner's bearer token; no HTTP server), for the
big business and a small one: ``/healthz`` (the bare view) and ``/api/dashboard`` and every
``/api/unified/*`` GET, ``--requests`` each after 3 warm-up requests: p50 / p99 milliseconds and the
statements each request ran (``SET search_path`` excluded); then ``/api/dashboard?period=30d``'s
figures computed from the calls and from the rollups alternately (``dashboard_ab``). Figures go to
stdout and ``bench/unified.json``.
"""

import argparse
import os
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
os.environ.setdefault("NMC_BENCH_DATA_DIR", str(BASE_DIR / ".data" / "bench-unified"))

from bench.harness import Stack, log, percentile, save_results  # noqa: E402

DAYS = 30
ENDPOINTS = [
    "/healthz",
    "/api/dashboard?period=today",
    "/api/dashboard?period=30d",
    "/api/unified/status",
    "/api/unified/operations",
    "/api/unified/analytics",
    "/api/unified/system",
    "/api/unified/business-metrics",
    "/api/unified/trends?hours=24",
    "/api/unified/trends?hours=744",
    "/api/unified/alerts",
    "/api/unified/sla-metrics",
    "/api/unified/circuit-breakers",
    "/api/unified/cost-optimization",
]
CALL_INSERT = """
INSERT INTO telephony_call (id, call_sid, direction, from_number, to_number, forwarded_to, status, twilio_status,
    dial_status, dial_call_sid, missed_reason, screening, duration, caller_name, caller_city, caller_state, notes,
    metadata, auto_reply_skipped, started_at, updated_at)
SELECT gen_random_uuid(), 'CA-bench-' || g, 'inbound', '+1312' || lpad((g %% 5000)::text, 7, '0'), '+13125550100',
    '', CASE WHEN g %% 3 = 0 THEN 'missed' ELSE 'answered' END, 'completed', '', '',
    CASE WHEN g %% 3 = 0 THEN 'no-answer' ELSE '' END, false, CASE WHEN g %% 3 = 0 THEN NULL ELSE 60 + g %% 240 END,
    '', '', '', '', '{}', '', %(now)s - make_interval(secs => g * %(spacing)s), now()
FROM generate_series(1, %(count)s) AS g
"""


def businesses(count: int):
    from apps.accounts.models import User
    from apps.tenants.models import Business
    from apps.tenants.services import business_register

    made = []
    for index in range(count):
        email = f"owner-{index:03d}@bench-unified.example"
        user = User.objects.filter(email=email).first()
        if user is None:
            _business, user = business_register(
                business_name=f"Bench unified {index:03d}",
                owner_email=email,
                owner_password="bench-password-123",
                owner_name="Bench Owner",
                trade="plumbing",
                timezone_name="America/Chicago",
            )
        made.append((Business.objects.get(pk=user.business_id), User.objects.get(pk=user.pk)))
    return made


def load(business, count: int, now) -> tuple[float, float]:
    """The calls (one statement) and their rollups (the product's statement per call, pipelined)."""
    from django.db import connection

    from apps.analytics.metrics import metric_ctes, metric_params, metrics_prune
    from apps.analytics.models import MetricEvent, MetricRollup
    from apps.telephony.models import Call

    connection.set_tenant(business)
    if Call.objects.count() == count:
        return 0.0, 0.0
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE telephony_call CASCADE")
        MetricRollup.objects.all().delete()
        MetricEvent.objects.all().delete()
        cursor.execute(CALL_INSERT, {"now": now, "count": count, "spacing": DAYS * 86400 / count})
    calls = time.perf_counter() - started
    started = time.perf_counter()
    statement = f"WITH {metric_ctes()} SELECT 1"
    rows = Call.objects.values_list("started_at", "status").iterator(chunk_size=10_000)
    batch = []
    with connection.cursor() as cursor:
        for at, status in rows:
            missed = status == Call.Status.MISSED
            increments = [("calls", 1.0), ("calls_missed" if missed else "calls_answered", 1.0)]
            if missed:
                increments.append(("sms_sent", 1.0))
            batch.append(metric_params(increments, at))
            if len(batch) == 5000:
                cursor.executemany(statement, batch)
                batch = []
        if batch:
            cursor.executemany(statement, batch)
    metrics_prune(now=now)
    return calls, time.perf_counter() - started


def measure(business, user, requests: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.tokens import token_pair_for

    connection.set_schema_to_public()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_pair_for(user)['access_token']}")
    figures = {}
    for path in ENDPOINTS:
        for _ in range(3):
            assert client.get(path).status_code == 200, path
        times, statements = [], []
        for _ in range(requests):
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            statements.append(len([q for q in queries.captured_queries if not q["sql"].startswith("SET")]))
        figures[path] = {
            "p50_ms": round(percentile(times, 50), 2),
            "p99_ms": round(percentile(times, 99), 2),
            "statements_min": min(statements),
            "statements_max": max(statements),
        }
    bare = figures["/healthz"]["p50_ms"]
    for path, row in figures.items():
        row["p50_ratio_to_bare"] = round(row["p50_ms"] / bare, 1)
        log(
            f"  {path:38s} p50 {row['p50_ms']:8.2f} ms  p99 {row['p99_ms']:8.2f} ms  statements {row['statements_max']}"
        )
    return figures


def dashboard_ab(business, rounds: int) -> dict:
    """``/api/dashboard?period=30d``'s figures both ways in this process, alternating (so the
    machine's load falls on both alike): calls, answered and missed from the calls (``rows``, as
    before) or from the hour rollups (``rollups``, as now); recovered and bookings from rows in both."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.analytics import selectors

    connection.set_tenant(business)
    _first, _last, start, end = selectors.period_bounds(business=business, period="30d")
    times = {"rows": [], "rollups": []}
    statements = {}
    figures = {}
    for index in range(rounds + 3):
        for way in ("rows", "rollups") if index % 2 else ("rollups", "rows"):
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                figures[way] = selectors.overview_kpis(
                    business=business, start=start, end=end, rollups=way == "rollups"
                )
                elapsed = (time.perf_counter() - t0) * 1000
            if index >= 3:
                times[way].append(elapsed)
            statements[way] = len(queries)
    result = {
        way: {
            "p50_ms": round(percentile(values, 50), 2),
            "p99_ms": round(percentile(values, 99), 2),
            "statements": statements[way],
        }
        for way, values in times.items()
    }
    result["same_figures"] = figures["rows"] == figures["rollups"]
    for way in ("rows", "rollups"):
        log(f"  30d figures from {way:8s} p50 {result[way]['p50_ms']:8.2f} ms  p99 {result[way]['p99_ms']:8.2f} ms")
    connection.set_schema_to_public()
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--businesses", type=int, default=100)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    os.environ["RATE_LIMIT_ENABLED"] = "false"  # Hundreds of requests a minute from one client and business.
    stack = Stack()
    try:
        stack.start_base(standin_cpu=None)
        import django

        django.setup()
        from django.conf import settings
        from django.utils import timezone

        settings.DEBUG = False
        started = time.perf_counter()
        made = businesses(args.businesses)
        log(f"{len(made)} businesses ready in {time.perf_counter() - started:.1f} s")
        rest, spare = divmod(args.calls - args.big, args.businesses - 1)
        counts = [args.big] + [rest + (1 if index < spare else 0) for index in range(args.businesses - 1)]
        now = timezone.now()
        loaded = rolled = 0.0
        for (business, _user), count in zip(made, counts, strict=True):
            calls, rollups = load(business, count, now)
            loaded, rolled = loaded + calls, rolled + rollups
        log(f"{sum(counts):,} calls loaded in {loaded:.1f} s, rolled up by the product's statement in {rolled:.1f} s")
        results = {
            "calls": sum(counts),
            "businesses": args.businesses,
            "requests_per_endpoint": args.requests,
            "load_average": os.getloadavg(),
        }
        for label, index in (("big", 0), ("small", 1)):
            log(f"{label} business: {counts[index]:,} calls")
            results[label] = {
                "calls": counts[index],
                "endpoints": measure(*made[index], args.requests),
                "dashboard_30d_rows_vs_rollups": dashboard_ab(made[index][0], 2 * args.requests),
            }
        results["load_average_after"] = os.getloadavg()
        save_results("unified.json", results)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
