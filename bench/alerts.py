"""Alert evaluation benchmark: ``python -m bench.alerts [--businesses 1000] [--rules 10] [--cycles 3]``.

Starts embedded PostgreSQL and Redis (data under ``.data/bench-alerts/``) and migrates. One real
business is created (its schema is the template); then ``--businesses`` schemas ``bench_al_NNNN``
are made with only the tables a beat cycle touches (``CREATE TABLE … (LIKE template.… INCLUDING
ALL)``: the alert rules, alerts and their events, the metric rollups and raw events). Creating 1,000
real businesses runs every migration 1,000 times (0.3–1.7 s each here), so each bench business is a
schema without a ``Business`` row of its own: the cycle is entered with ``connection.set_tenant`` of a
copy of the template's row naming the bench schema (the same search_path switch as
``tenant_context``; the notifications' delivery rows name the template business; local time UTC).

Each schema gets ``--rules`` rules in bulk (a mix of what owners write: missed calls in an hour, the
SMS failure rate in 15 minutes, no call today, slowest assistant turn, longest lead wait, value
booked, an OpenAI circuit, …) and six hours of 5-minute rollups for ten metrics, each business's
figures different so some rules fire and some do not. Then ``--cycles`` beat cycles run
``apps.alerts.tasks.business_alerts_cycle`` for every schema, as ``alerts.evaluate_all`` does: the
first raises alerts (writes), the next ones find them open (steady state), and one after the
rollups moved on resolves them. Reported: wall time per cycle, per business p50/p99, statements
per business, beside a baseline in the same run (the same schema switch and one ``SELECT 1``).
"""

import argparse
import copy
import os
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
os.environ.setdefault("NMC_BENCH_DATA_DIR", str(BASE_DIR / ".data" / "bench-alerts"))

from bench.harness import Stack, log, percentile, save_results  # noqa: E402

# What a cycle touches: the alert tables, the metric store, and the stored feed a raised alert's
# system_alert event is written to (which looks up the conversation, customer and call tables).
TABLES = (
    "alerts_alertrule",
    "alerts_alert",
    "alerts_alertevent",
    "analytics_metricrollup",
    "analytics_metricevent",
    "analytics_feedevent",
    "conversations_conversation",
    "crm_customer",
    "telephony_call",
)
METRICS = (
    "calls",
    "calls_missed",
    "calls_answered",
    "sms_sent",
    "sms_failed",
    "replies",
    "ai_turns",
    "ai_tokens",
    "bookings",
    "lead_wait_seconds",
)
RULES = [
    # (name, metric, subject, comparison, threshold, window minutes)
    ("Missed calls in an hour", "calls_missed", "", "gt", 3, 60),
    ("SMS failure rate", "sms_failure_rate", "", "gt", 5, 15),
    ("No call today", "calls", "", "lt", 1, 0),
    ("Slow assistant", "ai_latency_max_ms", "", "gt", 4000, 60),
    ("Lead waited", "lead_wait_max_seconds", "", "gt", 900, 60),
    ("Big booking day", "booking_value", "", "gt", 2000, 0),
    ("OpenAI circuit open", "circuit_open", "openai", "eq", 1, 60),
    ("Token burn", "ai_tokens", "", "gt", 50000, 60),
    ("Few replies", "replies", "", "lt", 2, 120),
    ("Answered calls", "calls_answered", "", "gte", 10, 180),
]


def schema_name(index: int) -> str:
    return f"bench_al_{index:04d}"


def create_schemas(template: str, count: int) -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for index in range(count):
            name = schema_name(index)
            statements = [f'CREATE SCHEMA IF NOT EXISTS "{name}"'] + [
                f'CREATE TABLE IF NOT EXISTS "{name}"."{table}" (LIKE "{template}"."{table}" INCLUDING ALL)'
                for table in TABLES
            ]
            cursor.execute("; ".join(statements))
    return time.perf_counter() - started


def fill(count: int, rules: int, now) -> float:
    """Rules and six hours of rollups in every schema (two statements a schema), alerts emptied."""
    from django.db import connection

    started = time.perf_counter()
    rule_rows = RULES[:rules] + [RULES[i % len(RULES)] for i in range(len(RULES), rules)]
    with connection.cursor() as cursor:
        for index in range(count):
            name = schema_name(index)
            cursor.execute(
                f'TRUNCATE "{name}".alerts_alertevent, "{name}".alerts_alert, "{name}".alerts_alertrule, '
                f'"{name}".analytics_metricrollup'
            )
            values = ", ".join(
                cursor.mogrify(
                    "(gen_random_uuid(), %s, '', %s, %s, %s, %s, %s, 'warning', '[\"email\"]'::jsonb,"
                    ' \'[{"email": "owner@bench.example"}]\'::jsonb, true, now(), now())',
                    [f"{rule[0]} {i}", rule[1], rule[2], rule[3], rule[4], rule[5]],
                )
                for i, rule in enumerate(rule_rows)
            )
            cursor.execute(
                f'INSERT INTO "{name}".alerts_alertrule (id, name, description, metric, subject, comparison,'
                " threshold, window_minutes, severity, channels, escalation_policy, is_enabled, created_at,"
                f" updated_at) VALUES {values}"
            )
            # 72 five-minute buckets of ten metrics; counts vary by business (index) and metric.
            cursor.execute(
                f'INSERT INTO "{name}".analytics_metricrollup (metric, grain, bucket, n, total, peak) '
                "SELECT m.metric, 5, to_timestamp(floor(extract(epoch FROM %s::timestamptz) / 300) * 300) "
                "       - make_interval(mins => 5 * b), "
                "       (%s + m.i + b) %% 3, ((%s + m.i + b) %% 3) * 200.0, ((%s + m.i * b) %% 7) * 700.0 "
                "FROM unnest(%s::text[]) WITH ORDINALITY AS m(metric, i), generate_series(0, 71) AS b",
                [now, index, index, index, list(METRICS)],
            )
    return time.perf_counter() - started


def cycle(template, count: int, now, *, baseline: bool = False) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.alerts.tasks import business_alerts_cycle

    times, statements = [], []
    raised = resolved = 0
    started = time.perf_counter()
    for index in range(count):
        t0 = time.perf_counter()
        business = copy.copy(template)  # The template's row, this schema: deliveries name the template.
        business.schema_name = schema_name(index)
        connection.set_tenant(business)
        connection.queries_log.clear()  # The log keeps 9,000: a full one would capture nothing.
        with CaptureQueriesContext(connection) as queries:
            if baseline:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
            else:
                outcome = business_alerts_cycle(now=now)
                raised += outcome.raised
                resolved += outcome.resolved
        times.append((time.perf_counter() - t0) * 1000)
        statements.append(len([q for q in queries.captured_queries if not q["sql"].startswith("SET")]))
    wall = time.perf_counter() - started
    connection.set_schema_to_public()
    return {
        "wall_s": round(wall, 3),
        "per_business_ms_p50": round(percentile(times, 50), 3),
        "per_business_ms_p99": round(percentile(times, 99), 3),
        "statements_per_business_min": min(statements),
        "statements_per_business_max": max(statements),
        "statements_per_business_mean": round(sum(statements) / len(statements), 2),
        "alerts_raised": raised,
        "alerts_resolved": resolved,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--businesses", type=int, default=1000)
    parser.add_argument("--rules", type=int, default=10)
    parser.add_argument("--cycles", type=int, default=3)
    args = parser.parse_args()
    stack = Stack()
    try:
        stack.start_base(standin_cpu=None)
        import django

        django.setup()
        from datetime import timedelta

        from django.conf import settings
        from django.db import connection
        from django.utils import timezone

        from apps.tenants.models import Business

        settings.DEBUG = False
        template = Business.objects.filter(name="Bench alerts template").first()
        if template is None:
            from apps.tenants.services import business_register

            template, _owner = business_register(
                business_name="Bench alerts template",
                owner_email="owner@bench-alerts.example",
                owner_password="bench-password-123",
                owner_name="Bench Owner",
                trade="plumbing",
                timezone_name="UTC",
                phone="+13125550100",
            )
        connection.set_schema_to_public()
        made = create_schemas(template.schema_name, args.businesses)
        log(f"schemas ready in {made:.1f} s")
        now = timezone.now()
        filled = fill(args.businesses, args.rules, now)
        log(f"{args.businesses} businesses × {args.rules} rules and rollups filled in {filled:.1f} s")
        results = {"businesses": args.businesses, "rules_per_business": args.rules, "cycles": []}
        results["baseline"] = cycle(template, args.businesses, now, baseline=True)
        log(f"baseline (switch + SELECT 1): {results['baseline']}")
        for number in range(args.cycles):
            figures = cycle(template, args.businesses, now + timedelta(seconds=60 * number))
            figures["ratio_to_baseline"] = round(figures["wall_s"] / results["baseline"]["wall_s"], 1)
            results["cycles"].append(figures)
            log(f"cycle {number + 1}: {figures}")
        # Seven hours on, every window is empty: the alerts of "more than" rules resolve.
        later = cycle(template, args.businesses, now + timedelta(hours=7))
        later["ratio_to_baseline"] = round(later["wall_s"] / results["baseline"]["wall_s"], 1)
        results["after_the_data_moved_on"] = later
        log(f"7 h later: {later}")
        save_results("alerts.json", results)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
