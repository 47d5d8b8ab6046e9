"""What every benchmark here shares: the stack started as ``make run`` starts it, test businesses
with Twilio numbers, requests signed as Twilio signs them, and the figures' bookkeeping.

``Stack.start()`` brings up embedded PostgreSQL and Redis (data under ``.data/bench/``, separate from
``make run``'s), the Twilio REST stand-in in its own process (the twilio SDK pointed at it through
``TWILIO_API_BASE_URL``), ``daphne nevermisscall.asgi:application`` pinned to CPU 0 and a Celery
worker (``--concurrency=2``, prefork, importing ``bench.floor``) pinned to CPU 1 with the load
generator. ``NMC_BENCH_DATA_DIR`` moves the data elsewhere (``bench.outbox`` keeps its 50 businesses
in ``.data/bench-outbox/``, so this database keeps its 4).
"""

import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("NMC_BENCH_DATA_DIR") or BASE_DIR / ".data" / "bench")
os.environ.setdefault("NMC_DATA_DIR", str(DATA_DIR))  # Before nevermisscall.embedded is imported.
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

TENANTS = 4
NUMBERS_PER_TENANT = 10
SERVER_CPU, CLIENT_CPU = "0", "1"
OWNER_PASSWORD = "bench-password-123"
# Above any day of benchmarking (the field's maximum in the API); ignored by checkouts without a quota.
BENCH_SMS_QUOTA = 100_000


def log(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pinned(cpu: str, command: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *command] if os.cpu_count() and os.cpu_count() > 1 else command


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def http_get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
            return response.read()
    except OSError:
        return None


def bench_owner_business(*, name: str, owner: tuple[str, str]):
    """Migrate, then the bench's owner and onboarded business (created once, found again on later
    runs), with the connection set to its schema. ``owner`` is (e-mail, password)."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.tenants.models import Business
    from apps.tenants.services import business_register

    call_command("migrate_schemas", "--noinput", "-v", "0")
    user = User.objects.filter(email=owner[0]).first()
    if user is None:
        business, user = business_register(
            business_name=name,
            owner_email=owner[0],
            owner_password=owner[1],
            owner_name="Bench Owner",
            trade="plumbing",
            timezone_name="America/Chicago",
        )
        business.onboarding_completed_at = timezone.now()
        business.save(update_fields=["onboarding_completed_at"])
    business = Business.objects.get(pk=user.business_id)
    connection.set_tenant(business)
    return user, business


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def save_results(filename: str, results: dict) -> None:
    """Write ``results`` (with the machine they came from) to ``bench/<filename>``."""
    out = BASE_DIR / "bench" / filename
    out.write_text(json.dumps({"machine": machine(), **results}, indent=2))
    log(f"(figures saved to {out.relative_to(BASE_DIR)})")


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, {os.cpu_count()} CPUs ({model})"
    )


class Stack:
    """The servers under test and the businesses they serve; ``start()`` then ``stop()``."""

    def __init__(self):
        self.processes: list[subprocess.Popen] = []
        self.logs: list = []
        self.stores = []
        self.port = free_port()
        self.public = f"http://127.0.0.1:{self.port}"
        self.numbers: list[str] = []
        self.numbers_by_tenant: list[list[str]] = []
        self.owner_emails: list[str] = []
        self.spawned: dict[str, subprocess.Popen] = {}  # By the first word of the name given to spawn().

    def start(self) -> None:
        self.start_base()
        self.setup_tenants()
        self.start_daphne()
        worker = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "nevermisscall",
            "worker",
            "-I",
            "bench.floor",
            "--loglevel=WARNING",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
        ]
        self.spawn(pinned(CLIENT_CPU, worker), "celery worker")
        self.wait_for_daphne()
        if os.cpu_count() and os.cpu_count() > 1:
            os.sched_setaffinity(0, {int(CLIENT_CPU)})

    def start_base(self, standin_args: tuple[str, ...] = (), standin_cpu: str | None = CLIENT_CPU) -> None:
        """Data stores, the stand-in, the environment every process inherits, migrations."""
        from apps.telephony.testing import ACCOUNT_SID, AUTH_TOKEN
        from nevermisscall import launcher

        DATA_DIR.mkdir(parents=True, exist_ok=True)
        self.stores = launcher._start_stores()
        port_file = DATA_DIR / "standin.url"
        port_file.unlink(missing_ok=True)
        standin = [sys.executable, "-m", "bench.standin", str(port_file), *standin_args]
        self.spawn(pinned(standin_cpu, standin) if standin_cpu else standin, "stand-in")
        wait_for(port_file.exists, 10, "the Twilio stand-in")
        self.standin = port_file.read_text()
        os.environ.update(
            {
                "APP_ENV": "development",
                "DEBUG": "false",
                "LOG_LEVEL": "WARNING",
                "ALLOWED_HOSTS": "*",
                "PUBLIC_BASE_URL": self.public,
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_API_BASE_URL": self.standin,
                "SMS_BACKEND": "twilio",
                "DJANGO_SETTINGS_MODULE": "nevermisscall.settings",
            }
        )
        log("migrating …")
        subprocess.run(
            [sys.executable, "manage.py", "migrate_schemas", "--noinput", "-v", "0"], cwd=BASE_DIR, check=True
        )

    def start_daphne(self, cpu: str | None = SERVER_CPU) -> None:
        daphne = [
            sys.executable,
            "-m",
            "nevermisscall.server",
            "-b",
            "127.0.0.1",
            "-p",
            str(self.port),
            "nevermisscall.asgi:application",
        ]
        self.spawn(pinned(cpu, daphne) if cpu else daphne, "daphne")

    def wait_for_daphne(self) -> None:
        wait_for(lambda: http_get(self.public + "/healthz") is not None, 60, "daphne")

    def spawn(self, command: list[str], name: str, new_session: bool = False) -> subprocess.Popen:
        """Start ``command`` (its own process group with ``new_session``, so it can be killed whole)."""
        log(f"starting {name}: {' '.join(command[-6:])}")
        # Access logs stay out of the report; the file lives as long as the process (closed in stop()).
        output = open(DATA_DIR / f"{name.split()[0]}.log", "ab")  # noqa: SIM115
        self.logs.append(output)
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=os.environ.copy(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )
        self.processes.append(process)
        self.spawned[name.split()[0]] = process
        return process

    def process_roots(self) -> dict[str, list[int]]:
        """The pid at the root of each server of this stack (the rest of it are their children), for
        CPU accounting that leaves out the other sessions' servers on the machine."""
        from nevermisscall import embedded

        roots = {
            name: [self.spawned[key].pid]
            for name, key in (("worker", "celery"), ("daphne", "daphne"), ("stand-in", "stand-in"))
            if key in self.spawned
        }
        for name, pid_file in (
            ("postgres", embedded.PG_DIR / "postmaster.pid"),
            ("redis", embedded.REDIS_DIR / "redis.pid"),
        ):
            try:
                roots[name] = [int(pid_file.read_text().split()[0])]
            except (OSError, ValueError, IndexError):  # Not started by anyone: nothing to count.
                roots[name] = []
        return roots

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        for output in self.logs:
            output.close()
        for store in self.stores:
            store.stop()

    def setup_tenants(self) -> None:
        import django

        django.setup()
        from django.db import connection
        from django_tenants.utils import tenant_context

        from apps.accounts.models import User
        from apps.telephony.phone_numbers import phone_number_assign
        from apps.tenants.config.services import config_update
        from apps.tenants.models import Business
        from apps.tenants.services import business_register

        for tenant in range(TENANTS):
            name = f"Bench Trades {tenant}"
            email = f"owner{tenant}@bench.test"
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
            self.owner_emails.append(email)
            self.reset_call_data(business)
            numbers = []
            with tenant_context(business):
                # The daily SMS quota (where the checkout has one) would hold the texts of repeated runs.
                config_update(
                    business=business,
                    data={
                        "forwarding_number": f"+1312555{tenant:02d}99",
                        "sms_daily_quota": BENCH_SMS_QUOTA,
                        **self.business_settings(tenant),
                    },
                )
                for index in range(NUMBERS_PER_TENANT):
                    number = f"+1312555{tenant}{index:03d}"
                    phone_number_assign(phone_number=number)
                    numbers.append(number)
            self.numbers_by_tenant.append(numbers)
            self.numbers.extend(numbers)
        self.vacuum_outbox()
        connection.close()
        log(f"{TENANTS} businesses, {len(self.numbers)} numbers")

    def business_settings(self, tenant: int) -> dict:
        """More settings for business ``tenant`` (``config_update`` data) for a benchmark that needs
        them; they stay in the database for the benchmarks run after it."""
        return {}

    @staticmethod
    def reset_call_data(business) -> None:
        """Empty the business's calls, conversations, messages (and, where the checkout has the
        outbox, its deliveries) so every run starts from the same tables: callers are random, and
        one that met an open conversation or the cooldown of an earlier run on this database got no
        text, and the run waited for it until it timed out."""
        from django.db import connection
        from django_tenants.utils import tenant_context

        from apps.conversations.models import Conversation, Message
        from apps.telephony.models import Call, CallStatusEvent

        tables = ", ".join(model._meta.db_table for model in (CallStatusEvent, Call, Message, Conversation))
        with tenant_context(business), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} CASCADE")
        try:
            from apps.outbox.models import Delivery, DeliveryAttempt
        except ImportError:  # A checkout from before the outbox.
            return
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {DeliveryAttempt._meta.db_table} WHERE delivery_id IN "
                f"(SELECT id FROM {Delivery._meta.db_table} WHERE business_id = %s)",
                [business.pk],
            )
            cursor.execute(f"DELETE FROM {Delivery._meta.db_table} WHERE business_id = %s", [business.pk])

    @staticmethod
    def vacuum_outbox() -> None:
        """The businesses' deliveries are deleted, not truncated (the table is shared): vacuum it so a
        run does not pay for the dead rows of the runs before it (21,000 after a few runs, in every
        index the claim and the inserts walk), as the truncated per-business tables do not."""
        from django.db import connection

        try:
            from apps.outbox.models import Delivery, DeliveryAttempt
        except ImportError:  # A checkout from before the outbox.
            return
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Delivery._meta.db_table}, {DeliveryAttempt._meta.db_table}")

    def access_token(self, tenant: int) -> str:
        """A dashboard JWT for the owner of business ``tenant`` (bound to that business)."""
        from django.db import connection

        from apps.accounts.models import User
        from apps.accounts.tokens import token_pair_for

        user = User.objects.select_related("business").get(email=self.owner_emails[tenant])
        token = token_pair_for(user)["access_token"]
        connection.close()
        return token

    @staticmethod
    def call_params(call_sid: str, caller: str, to: str, **extra) -> dict:
        """The fields Twilio sends about an inbound call in its voice webhooks, plus ``extra``."""
        return {
            "AccountSid": os.environ["TWILIO_ACCOUNT_SID"],
            "ApiVersion": "2010-04-01",
            "CallSid": call_sid,
            "Called": to,
            "Caller": caller,
            "Direction": "inbound",
            "From": caller,
            "To": to,
            **extra,
        }

    def signed(self, path: str, params: dict) -> tuple[str, str, bytes, dict]:
        """A request as Twilio sends it: form-encoded, ``X-Twilio-Signature`` over the public URL."""
        from apps.telephony.testing import sign

        body = urlencode(params).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(self.public + path, params),
        }
        return "POST", path, body, headers


def run_bench(bench) -> int:
    """Start the stack, measure, print and save the figures, and always stop what was started."""
    try:
        bench.start()
        asyncio.run(bench.run())
        bench.report()
    finally:
        bench.stop()
    return 0
