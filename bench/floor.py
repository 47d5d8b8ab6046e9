"""The floor for "missed call → SMS at the provider": the least any design can do between a
committed row and the provider's request, measured on the same stack in the same run.

``floor_once()`` (in the load generator's process, on its own thread) inserts one row into a
bench-only table in one transaction and, from ``transaction.on_commit``, publishes the Celery task
``bench.floor_send`` (``apply_async`` straight away, no publisher thread, no batching); the worker —
the same prefork worker the product's tasks run on, which imports this module through
``celery worker -I bench.floor`` — does nothing but ``twilio_client().messages.create(...)`` (the
same twilio SDK client, pointed at the same stand-in, that the product sends with). No tenant
switch, no claim, no policy, no bookkeeping after the send.

The latency is counted from the moment the iteration was *scheduled* (open loop, like
``bench.httpload.open_loop``) to the stand-in receiving ``Messages.json``. It leaves out what the
product does before its commit (the status webhook's HTTP request through daphne): the missed-call
figure starts when the webhook is sent, the floor when the transaction starts.

This module does not depend on the product's hand-off code, so the same file measures the floor on
any commit (copy ``bench/`` over an older checkout).
"""

import itertools
import time

from django.db import connection, transaction

from nevermisscall.celery import app

TABLE = "bench_floor"
FLOOR_FROM = "+13125559999"
_numbers = itertools.count()


@app.task(name="bench.floor_send", acks_late=True, ignore_result=True)
def floor_send(to: str) -> None:
    from nevermisscall.twilio_rest import twilio_client

    twilio_client().messages.create(to=to, from_=FLOOR_FROM, body="floor")


def ensure_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS public.{TABLE} "
            "(id bigserial PRIMARY KEY, recipient text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
        )
        cursor.execute(f"TRUNCATE public.{TABLE}")


def new_recipient(base: int) -> str:
    return f"+1646{(base + next(_numbers)) % 10_000_000:07d}"


def floor_once(to: str) -> None:
    """One committed row, and after its commit the task that texts ``to``."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO public.{TABLE} (recipient) VALUES (%s)", [to])
        transaction.on_commit(lambda: floor_send.apply_async(args=[to], headers={"_schema_name": "public"}))


def open_loop(rate: float, count: int, base: int) -> dict[str, float]:
    """``count`` iterations started ``rate`` per second on a fixed schedule whatever each one takes;
    returns recipient → scheduled wall-clock time (seconds)."""
    scheduled_at: dict[str, float] = {}
    start = time.time() + 0.05
    for index in range(count):
        scheduled = start + index / rate
        delay = scheduled - time.time()
        if delay > 0:
            time.sleep(delay)
        to = new_recipient(base)
        scheduled_at[to] = scheduled
        floor_once(to)
    return scheduled_at
