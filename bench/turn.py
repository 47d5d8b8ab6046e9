"""The assistant's server time per customer turn, the model left out, in the same run as the bare
view: ``python -m bench.turn [--count 100] [--rate 1] [--think 1]`` (``make bench-turn``).

A turn is one customer text to a business number, answered: the signed ``POST /webhooks/twilio/sms``
(the inbound message stored, the engine's task handed to Celery after the commit), the worker's
``conversations.handle_inbound_message`` (claim; the dispatch engine; the reply, and for a yes the
appointment, in one transaction) and, in the same task right after that commit, the reply's
delivery (claim, send-time policy) sent through the twilio SDK to the stand-in (a second task,
``outbox.deliver``, before commit d643f76). ``OPENAI_API_KEY`` and ``GOOGLE_MAPS_API_KEY`` are
emptied for every process, so the engine is the rule-based one (no model call; checked afterwards
in the ``AiUsage`` rows) and addresses are geocoded by the offline ZIP-centroid table (no network).

Each of ``--count`` callers (new numbers, over the 40 numbers of the 4 businesses) first has a
missed call, not measured: the incoming-call and ``no-answer`` status webhooks of ``bench.run``,
whose text opens the conversation. Then, ``--rate`` conversations started per second on a fixed
schedule, each caller texts as a customer does, ``--think`` seconds after the reply to the previous
text reached the stand-in: "My water heater is leaking, no hot water", a name and an address, and
"yes" to the proposed slot — "yes" again when another conversation took that slot meanwhile and
the assistant proposes the next one (at most ``MAX_YES`` in all). The businesses get opening hours,
job estimates and a service area around Chicago (``TURN_SETTINGS``) so that the turns reach a
proposal and a booking; their appointments are emptied at the start like their conversations.

Per turn: (a) the webhook's response time; (b) from sending the webhook to the stand-in receiving
the reply's ``Messages.json`` — the server time of the turn, end to end; (c) the stages of (b), read
back from the rows (inbound message claimed and decided, the reply's delivery queued, claimed, sent
to the provider) and the engine's own time (``AiUsage.latency_ms``); and the CPU per turn of each
process of the stack (``bench.missed.cpu_ticks``). The bare view (``GET /healthz`` on the same
daphne) is measured alone before the turns (20/s, as ``bench.run``) and during them, at the rate of
the turns' webhooks. Figures go to stdout and ``bench/turn.json``.
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.harness import log, machine, percentile, run_bench, save_results
from bench.httpload import Connection, open_loop
from bench.missed import cpu_ticks
from bench.run import RATE, Bench

WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
TURN_SETTINGS = {
    "business_hours": {
        **{day: {"open": "07:00", "close": "19:00", "closed": False} for day in WEEK},
        "sunday": {"open": None, "close": None, "closed": True},
    },
    "service_area": {
        "address": "233 S Wacker Dr, Chicago, IL 60606",
        "latitude": 41.8789,
        "longitude": -87.6359,
        "radius_miles": 25,
    },
    # 90 minutes and the 30-minute buffer: six jobs a day, ~70 in the 14 days the engine books ahead.
    "job_estimates": [
        {
            "job_type": "Water heater repair",
            "trade": "plumbing",
            "min_price": 250,
            "max_price": 900,
            "duration_minutes": 90,
            "description": "",
        },
        {
            "job_type": "Drain cleaning",
            "trade": "plumbing",
            "min_price": 150,
            "max_price": 300,
            "duration_minutes": 60,
            "description": "",
        },
    ],
    "ai_settings": {"enabled": True, "auto_book": True},
}
PROBLEM = "My water heater is leaking, no hot water"
ADDRESSES = (
    "Jane Doe, 2300 N Lincoln Ave, Chicago IL 60614",
    "Maria Lopez, 1420 W Fullerton Ave, Chicago IL 60614",
    "John Smith, 5200 S Ellis Ave, Chicago IL 60615",
    "Ana Garcia, 3100 W Diversey Ave, Chicago IL 60647",
    "Tom Walsh, 800 Davis St, Evanston IL 60201",
    "Priya Patel, 1000 W Belmont Ave, Chicago IL 60657",
)
YES = "yes"
TEXTS = 3  # Per conversation, without the repeated yeses.
MAX_YES = 3
# The engine's English replies (apps/dispatch/replies.py): a proposal asks for a YES, a booking says so.
PROPOSAL_MARK, BOOKED_MARK = "Reply YES", "You're booked"
WARMUP_CONVERSATIONS = 8
REPLY_TIMEOUT = 30.0
KEEPALIVE_SECONDS = 30.0  # Reuse a connection to daphne idle for less (Twisted closes one idle for 60 s).
POLL_SECONDS = 0.05
STAGES = (
    "webhook",
    "answered→claimed",
    "claimed→decided",
    "decided→queued",
    "queued→claimed",
    "claimed→provider",
    "provider→stand-in",
)


@dataclass
class Text:
    """One ``Messages.json`` request the stand-in received."""

    delivery_id: str
    to: str
    received_wall: float
    body: str


@dataclass
class TurnRecord:
    caller: str
    kind: str  # problem, address, yes, yes again
    message_sid: str
    sent_wall: float
    webhook_ms: float | None = None  # None: the request failed
    reply: Text | None = None

    @property
    def e2e_ms(self) -> float | None:
        return (self.reply.received_wall - self.sent_wall) * 1000 if self.reply else None


def cpu_ms(roots: dict[str, list[int]]) -> dict[str, float]:
    """CPU milliseconds so far of each server of the stack, and of this process alone (the load
    generator and the reply poller; its children are the servers)."""
    own = os.times()
    # Clock ticks are 10 ms (USER_HZ 100).
    return {name: ticks * 10.0 for name, ticks in cpu_ticks(roots).items()} | {"client": (own.user + own.system) * 1000}


def summary(values: list[float]) -> dict:
    return {
        "count": len(values),
        **{f"p{q}_ms": round(percentile(values, q), 1) for q in (50, 95, 99)},
        "max_ms": round(max(values), 1) if values else float("nan"),
    }


class Replies:
    """Follows the texts reaching the stand-in (``/_standin/since``) and hands each to whoever waits
    for texts to its recipient."""

    def __init__(self, standin_url: str):
        parts = urlsplit(standin_url)
        self.connection = Connection(parts.hostname, parts.port)
        self.queues: defaultdict[str, asyncio.Queue] = defaultdict(asyncio.Queue)
        self.cursor = 0

    async def poll(self) -> list[Text]:
        _status, data = await self.connection.request("GET", f"/_standin/since?n={self.cursor}")
        answer = json.loads(data)
        self.cursor = answer["next"]
        return [Text(*row) for row in answer["messages"]]

    async def skip_past(self) -> None:
        """From now on only: the texts already there are not replies to what comes."""
        self.cursor = 1 << 62
        await self.poll()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            for text in await self.poll():
                self.queues[text.to].put_nowait(text)
            await asyncio.sleep(POLL_SECONDS)
        self.connection.close()

    def unclaimed(self) -> dict[str, int]:
        return {to: queue.qsize() for to, queue in self.queues.items() if queue.qsize()}


class TurnBench(Bench):
    def __init__(self, args):
        super().__init__(args)
        self.results: dict = {"settings": {"count": args.count, "rate": args.rate, "think_s": args.think}}
        self.idle: list[tuple[Connection, float]] = []  # Kept-alive connections to daphne, last used at.
        self.bare_during = None  # The bare view's open loop during the turns.
        self.unclaimed: dict[str, int] = {}  # Texts no turn was waiting for, by recipient.

    def start(self) -> None:
        # No model and no network geocoder in any process of the stack (they inherit os.environ).
        os.environ.update({"OPENAI_API_KEY": "", "GOOGLE_MAPS_API_KEY": ""})
        super().start()

    def business_settings(self, tenant: int) -> dict:
        return TURN_SETTINGS

    def reset_call_data(self, business) -> None:
        """Also the appointments, customers and AI usage rows of earlier runs: every run books into
        the same empty calendar."""
        from django.db import connection
        from django_tenants.utils import tenant_context

        from apps.crm.models import Appointment, Customer
        from apps.dispatch.models import AiUsage

        super().reset_call_data(business)
        tables = ", ".join(model._meta.db_table for model in (Appointment, Customer, AiUsage))
        with tenant_context(business), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} CASCADE")

    # --- a conversation -----------------------------------------------------------------------------

    def sms(self, caller: str, number: str, body: str) -> tuple[str, tuple]:
        message_sid = "SM" + uuid.uuid4().hex
        params = {
            "AccountSid": os.environ["TWILIO_ACCOUNT_SID"],
            "ApiVersion": "2010-04-01",
            "MessageSid": message_sid,
            "SmsMessageSid": message_sid,
            "SmsSid": message_sid,
            "From": caller,
            "To": number,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "FromCity": "CHICAGO",
            "FromState": "IL",
            "FromCountry": "US",
        }
        return message_sid, self.signed("/webhooks/twilio/sms", params)

    def connection(self) -> Connection:
        """The connection to daphne used last, if it was used recently enough, or a new one."""
        while self.idle:
            connection, used = self.idle.pop()
            if time.monotonic() - used < KEEPALIVE_SECONDS:
                return connection
            connection.close()  # Idle too long, and the ones under it longer still.
        return Connection("127.0.0.1", self.port)

    async def turn(self, replies: Replies, caller: str, number: str, body: str, kind: str) -> TurnRecord:
        message_sid, request = self.sms(caller, number, body)
        connection = self.connection()
        record = TurnRecord(caller, kind, message_sid, time.time())
        started = time.perf_counter()
        try:
            status, _ = await connection.request(*request)
        except (ConnectionError, asyncio.IncompleteReadError):
            connection.close()
            return record
        self.idle.append((connection, time.monotonic()))
        if status != 200:
            return record
        record.webhook_ms = (time.perf_counter() - started) * 1000
        with contextlib.suppress(TimeoutError):
            record.reply = await asyncio.wait_for(replies.queues[caller].get(), REPLY_TIMEOUT)
        return record

    async def conversation(self, replies: Replies, caller: str, number: str, address: str, think: float) -> list:
        records = []
        for kind, body in (("problem", PROBLEM), ("address", address), ("yes", YES)):
            if records:
                await asyncio.sleep(think)
            records.append(await self.turn(replies, caller, number, body, kind))
            if records[-1].reply is None:
                return records
        yeses = 1
        while PROPOSAL_MARK in records[-1].reply.body and yeses < MAX_YES:  # The slot was taken meanwhile.
            await asyncio.sleep(think)
            records.append(await self.turn(replies, caller, number, YES, "yes again"))
            yeses += 1
            if records[-1].reply is None:
                break
        return records

    async def converse(self, pairs: list[tuple[str, str]], rate: float, think: float, probe: bool) -> list:
        """The conversations of ``pairs`` started ``rate`` per second; with ``probe``, the bare view
        requested meanwhile at the rate of the turns' webhooks."""
        replies = Replies(self.standin)
        await replies.skip_past()
        stop = asyncio.Event()
        poller = asyncio.create_task(replies.run(stop))
        bare = None
        if probe:  # As many as the conversations' webhooks, over the time the conversations take to start.
            bare = asyncio.create_task(open_loop("127.0.0.1", self.port, self.bare, rate * TEXTS, len(pairs) * TEXTS))
        start = time.perf_counter() + 0.05
        tasks = []
        for index, (caller, number) in enumerate(pairs):
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            address = ADDRESSES[index % len(ADDRESSES)]
            tasks.append(asyncio.create_task(self.conversation(replies, caller, number, address, think)))
        conversations = await asyncio.gather(*tasks)
        if bare is not None:
            self.bare_during = await bare
        await asyncio.sleep(0.5)  # Texts that were not replies (there should be none) still arrive.
        stop.set()
        await poller
        self.unclaimed = replies.unclaimed()
        return [record for records in conversations for record in records]

    async def missed_calls(self, count: int) -> list[tuple[str, str]]:
        """``count`` new callers with a missed call each (its text sent): (caller, business number)."""
        self.calls.clear()
        # The businesses in turn (0, 1, 2, 3, 0, …): below saturation, a business's next conversation
        # proposes a slot after the one before booked, not the same slot at the same time.
        numbers = itertools.cycle([number for row in zip(*self.numbers_by_tenant, strict=True) for number in row])
        await open_loop("127.0.0.1", self.port, lambda: self.incoming(next(numbers)), RATE, count)
        pairs = [(caller, to) for _call_sid, caller, to in self.calls]
        await open_loop("127.0.0.1", self.port, self.missed, RATE, count)
        await asyncio.to_thread(self.drain)
        return pairs

    # --- the run ------------------------------------------------------------------------------------

    async def run(self) -> None:
        args = self.args
        self.expected, self.sent_at = set(), {}
        self.results["loadavg_start"] = [round(x, 2) for x in os.getloadavg()]
        log("warming up …")
        pairs = await self.missed_calls(WARMUP_CONVERSATIONS)
        # All at once, so that while one prefork child loads the offline geocoder's table (the first
        # address in a process: 1.9 s each in a trial here) the other gets addresses and loads it too.
        await self.converse(pairs, 100.0, args.think, probe=False)
        log("measuring …")
        roots = self.process_roots()
        before = cpu_ms(roots)
        bare_alone = await open_loop("127.0.0.1", self.port, self.bare, RATE, 200)
        bare_cpu = {name: ms - before[name] for name, ms in cpu_ms(roots).items()}
        pairs = await self.missed_calls(args.count)
        log(f"{len(pairs)} callers had their missed call; {args.count} conversations at {args.rate}/s …")
        before = cpu_ms(roots)
        records = await self.converse(pairs, args.rate, args.think, probe=True)
        after = cpu_ms(roots)
        answered = [r for r in records if r.reply is not None]
        self.results.update(
            bare_alone=summary(bare_alone.latencies_ms) | {"rate": RATE, "errors": bare_alone.errors},
            bare_during=summary(self.bare_during.latencies_ms)
            | {"rate": args.rate * TEXTS, "errors": self.bare_during.errors},
            webhook=summary([r.webhook_ms for r in records if r.webhook_ms is not None]),
            end_to_end=summary([r.e2e_ms for r in answered]),
            end_to_end_by_text={
                kind: summary([r.e2e_ms for r in answered if r.kind == kind])
                for kind in ("problem", "address", "yes", "yes again")
                if any(r.kind == kind for r in answered)
            },
            cpu_per_turn_ms={name: round((after[name] - before[name]) / len(records), 2) for name in before},
            cpu_per_bare_request_ms={name: round(ms / bare_alone.count, 2) for name, ms in bare_cpu.items()},
        )
        # The bare requests of the probe at what one cost alone, taken off daphne's share.
        probes = self.bare_during.count * self.results["cpu_per_bare_request_ms"]["daphne"]
        daphne = (after["daphne"] - before["daphne"] - probes) / len(records)
        self.results["cpu_per_turn_ms"]["daphne less the bare probes"] = round(daphne, 2)
        stages, engine_ms, checks = await asyncio.to_thread(self.read_back, records)
        self.results["stages"] = {name: summary(values) for name, values in stages.items()}
        self.results["engine_ms"] = summary(engine_ms)
        self.results["checks"] = self.checks(records, pairs, checks)
        self.results["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]

    def read_back(self, records: list[TurnRecord]) -> tuple[dict, list, dict]:
        """The stages of each answered turn from its rows, the engine's own time, and what the
        database says about the run (appointments, engines, replies)."""
        from django.db import connection
        from django_tenants.utils import tenant_context

        from apps.conversations.models import Message
        from apps.crm.models import Appointment
        from apps.dispatch.models import AiUsage
        from apps.outbox.models import Delivery, DeliveryAttempt
        from apps.tenants.models import Business

        sql = (
            "SELECT i.provider_sid, extract(epoch from i.claimed_at), extract(epoch from i.handled_at), "  # noqa: S608
            "extract(epoch from d.created_at), extract(epoch from d.claimed_at), "
            f"(SELECT extract(epoch from min(a.started_at)) FROM {DeliveryAttempt._meta.db_table} a "
            "WHERE a.delivery_id = d.id), "
            f"(SELECT u.latency_ms FROM {AiUsage._meta.db_table} u WHERE u.conversation_ref = i.conversation_id::text "
            "AND u.created_at BETWEEN i.claimed_at AND i.handled_at ORDER BY u.created_at LIMIT 1), d.id::text "
            f"FROM {Message._meta.db_table} i "
            f"LEFT JOIN {Message._meta.db_table} r ON r.idempotency_key = 'ai-reply:' || i.id::text "
            f"LEFT JOIN {Delivery._meta.db_table} d ON d.idempotency_key = 'message:' || r.id::text "
            "WHERE i.provider_sid = ANY(%s)"
        )
        by_sid = {record.message_sid: record for record in records}
        callers = {record.caller for record in records}
        rows, engines, appointments = [], Counter(), Counter()
        for business in Business.objects.filter(name__startswith="Bench Trades "):
            with tenant_context(business):
                with connection.cursor() as cursor:
                    cursor.execute(sql, [list(by_sid)])
                    rows.extend(cursor.fetchall())
                engines.update(
                    f"{engine}{' (fallback)' if fallback else ''}"
                    for engine, fallback in AiUsage.objects.values_list("engine", "fallback_used")
                )
                for phone in Appointment.objects.filter(customer__phone__in=callers).values_list(
                    "customer__phone", flat=True
                ):
                    appointments[phone] += 1
        connection.close()
        stages = {name: [] for name in STAGES}
        engine_ms, mismatched = [], 0
        for sid, claimed, decided, queued, delivery_claimed, provider, latency, delivery_id in rows:
            record = by_sid[sid]
            if record.reply is None or None in (claimed, decided, queued, delivery_claimed, provider):
                continue
            if record.reply.delivery_id != delivery_id:
                mismatched += 1  # The text that came was not this turn's reply.
                continue
            answered = record.sent_wall + record.webhook_ms / 1000
            points = [answered, claimed, decided, queued, delivery_claimed, provider, record.reply.received_wall]
            stages["webhook"].append(record.webhook_ms)
            for name, (begin, end) in zip(STAGES[1:], itertools.pairwise(points), strict=True):
                stages[name].append((float(end) - float(begin)) * 1000)
            if latency is not None:
                engine_ms.append(float(latency))
        checks = {
            "turn rows found": len(rows),
            "replies not matching their turn's delivery": mismatched,
            "engines (AiUsage rows, whole run)": dict(engines),
            "appointments of these callers": sum(appointments.values()),
            "callers with more than one appointment": sum(1 for n in appointments.values() if n > 1),
        }
        return stages, engine_ms, checks

    def checks(self, records: list[TurnRecord], pairs: list, read: dict) -> dict:
        replies = [r.reply for r in records if r.reply is not None]
        return {
            "conversations": len(pairs),
            "turns": len(records),
            "webhook errors": sum(1 for r in records if r.webhook_ms is None),
            "replies": len(replies),
            "turns without a reply": len(records) - len(replies),
            "booked (replies)": sum(1 for reply in replies if reply.body.startswith(BOOKED_MARK)),
            "slot taken, yes again": sum(1 for r in records if r.kind == "yes again"),
            "texts that were no turn's reply": sum(self.unclaimed.values()),
            **read,
        }

    def report(self) -> None:
        r = self.results
        lines = ["", "=== NeverMissCall assistant turn (no model) ===", machine(), ""]
        lines.append(f"{'':34s}{'count':>7s}{'p50':>9s}{'p95':>9s}{'p99':>9s}{'max':>9s}  ms")

        def row(name: str, figures: dict) -> None:
            lines.append(
                f"{name:34s}{figures['count']:7d}"
                + "".join(f"{figures[key]:9.1f}" for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
            )

        row(f"bare /healthz alone ({RATE:.0f}/s)", r["bare_alone"])
        row(f"bare /healthz during ({r['bare_during']['rate']:.0f}/s)", r["bare_during"])
        row("(a) turn webhook", r["webhook"])
        row("(b) turn end to end", r["end_to_end"])
        for kind, figures in r["end_to_end_by_text"].items():
            row(f"      {kind}", figures)
        lines.append("(c) stages of (b)")
        for name, figures in r["stages"].items():
            row(f"      {name}", figures)
        row("      engine itself (AiUsage)", r["engine_ms"])
        lines.append("")
        ratios = {}
        for baseline in ("bare_during", "bare_alone"):
            for name in ("webhook", "end_to_end"):
                for q in ("p50", "p99"):
                    ratios[f"{name}/{baseline} {q}"] = round(r[name][f"{q}_ms"] / r[baseline][f"{q}_ms"], 1)
        r["ratios"] = ratios
        lines.append("ratio turn / bare view: " + ", ".join(f"{k} {v}×" for k, v in ratios.items()))
        p99 = r["end_to_end"]["p99_ms"]
        lines.append(
            f"target: server time per turn excluding the model p99 < 50 ms — end to end p99 {p99} ms "
            f"({'met' if p99 < 50 else 'not met'}); webhook p99 {r['webhook']['p99_ms']} ms"
        )
        lines.append("CPU per turn (ms): " + ", ".join(f"{k} {v}" for k, v in r["cpu_per_turn_ms"].items()))
        lines.append(
            "CPU per bare request (ms): " + ", ".join(f"{k} {v}" for k, v in r["cpu_per_bare_request_ms"].items())
        )
        lines.append("checks: " + ", ".join(f"{k} {v}" for k, v in r["checks"].items()))
        lines.append(f"load average: start {r['loadavg_start']}, end {r['loadavg_end']}")
        log("\n".join(lines))
        save_results("turn.json", r)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100, help="conversations (callers), three texts or more each")
    parser.add_argument("--rate", type=float, default=1.0, help="conversations started per second")
    parser.add_argument("--think", type=float, default=1.0, help="seconds from a reply to the customer's next text")
    args = parser.parse_args()
    return run_bench(TurnBench(args))


if __name__ == "__main__":
    sys.exit(main())
