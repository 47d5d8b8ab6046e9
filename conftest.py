"""The test base: three people in two businesses, created once per session.

Alice owns Alpha Plumbing, Bob is her staff; Charlie owns Beta Electric and must never see
anything of Alpha's. Each test runs in a transaction that is rolled back, tenant schemas included.
Tests that need real processes get daphne (``live_app``) and a Celery worker
(``celery_worker_process``) running against the same test database and Redis.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import Role, User
from apps.accounts.services import user_create
from apps.accounts.tokens import token_pair_for
from apps.tenants.models import Business
from apps.tenants.services import business_register

PASSWORD = "correct-horse-battery-9"

PEOPLE = {
    "alice": {"business": "Alpha Plumbing", "trade": "plumbing", "role": Role.OWNER},
    "bob": {"business": "Alpha Plumbing", "trade": "plumbing", "role": Role.STAFF},
    "charlie": {"business": "Beta Electric", "trade": "electrical", "role": Role.OWNER},
}
UNLIMITED = "100000/minute"


def _email(name: str) -> str:
    return f"{name}@{PEOPLE[name]['business'].split()[0].lower()}.test"


def _ensure_person(name: str) -> User:
    spec = PEOPLE[name]
    existing = User.objects.filter(email=_email(name)).first()
    if existing:
        return existing
    business = Business.objects.filter(name=spec["business"]).first()
    if spec["role"] == Role.OWNER and business is None:
        _, owner = business_register(
            business_name=spec["business"],
            owner_email=_email(name),
            owner_password=PASSWORD,
            owner_name=f"{name.title()} Owner",
            trade=spec["trade"],
            timezone_name="America/Chicago",
            phone="+13125550100",
        )
        return owner
    return user_create(
        email=_email(name), password=PASSWORD, business=business, role=spec["role"], first_name=name.title()
    )


@pytest.fixture(scope="session", autouse=True)
def _test_settings():
    with override_settings(RATE_LIMIT_PER_IP=UNLIMITED, RATE_LIMIT_PER_TENANT=UNLIMITED, RATE_LIMIT_LOGIN=UNLIMITED):
        yield


@pytest.fixture(scope="session", autouse=True)
def _release_database_connections(django_db_setup, django_db_blocker):
    """Before the test database is dropped: close the connection pool and any connection that a
    ``database_sync_to_async`` thread or a test process left open (they would block DROP DATABASE)."""
    yield
    with django_db_blocker.unblock():
        wrapper = connections["default"]
        close_pool = getattr(wrapper, "close_pool", None)
        if close_pool is not None:
            close_pool()
        with wrapper.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        wrapper.close()


@pytest.fixture(scope="session")
def people(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        caches["default"].clear()
        result = {name: _ensure_person(name) for name in ("alice", "bob", "charlie")}
        connection.set_schema_to_public()
    return result


@pytest.fixture
def alice(people, db):
    return User.objects.select_related("business").get(pk=people["alice"].pk)


@pytest.fixture
def bob(people, db):
    return User.objects.select_related("business").get(pk=people["bob"].pk)


@pytest.fixture
def charlie(people, db):
    return User.objects.select_related("business").get(pk=people["charlie"].pk)


@pytest.fixture
def alpha(alice):
    return alice.business


@pytest.fixture
def owner_client(client, alice, alpha):
    """Alice, Alpha's owner, signed in to the dashboard of a business that finished onboarding."""
    alpha.onboarding_completed_at = timezone.now()
    alpha.save(update_fields=["onboarding_completed_at"])
    assert client.login(username=alice.email, password=PASSWORD)
    return client


@pytest.fixture
def beta(charlie):
    return charlie.business


@pytest.fixture
def client_for():
    """``client_for(user)``: an API client carrying the user's access token."""

    def make(user=None, **headers):
        client = APIClient(**headers)
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_for(user)['access_token']}")
        return client

    return make


@pytest.fixture(autouse=True)
def _fresh_state_after_test():
    yield
    connection.set_schema_to_public()
    # Cached businesses may hold rows this test rolled back; Redis is not part of the transaction.
    caches["default"].clear()


# --- Real processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def smtp_loopback(handler):
    """A real SMTP server on a free loopback port (aiosmtpd, ``handler`` its handler) with Django's
    SMTP backend pointed at it."""
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=controller.port,
            EMAIL_USE_TLS=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
        ):
            yield handler
    finally:
        controller.stop()


def process_env(**extra) -> dict:
    """Environment for processes the tests start: the same test database and Redis, no rate limits."""
    database = settings.DATABASES["default"]
    host = quote(database["HOST"] or "", safe="")
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{host}:{database['PORT'] or 5432}/{database['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "APP_ENV": "testing",
        "RATE_LIMIT_PER_IP": UNLIMITED,
        "RATE_LIMIT_PER_TENANT": UNLIMITED,
        "RATE_LIMIT_LOGIN": UNLIMITED,
        **extra,
    }


@pytest.fixture(scope="session")
def twilio_standin():
    """One loopback server speaking Twilio's REST protocol for the whole session (tests, daphne, workers)."""
    from apps.telephony.testing import TwilioStandIn

    with TwilioStandIn() as server:
        yield server


def live_twilio_env(standin, public_base_url: str) -> dict:
    """Settings that point a test process's twilio SDK at the stand-in."""
    from apps.telephony.testing import ACCOUNT_SID, AUTH_TOKEN

    return {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE_URL": standin.base_url,
        "TWILIO_VALIDATE_SIGNATURES": "true",
        "SMS_BACKEND": "twilio",
        "PUBLIC_BASE_URL": public_base_url,
    }


@pytest.fixture(scope="session")
def live_base_url():
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, twilio_standin, live_base_url):
    """A real Celery worker process on the real Redis broker, using the test database."""
    from nevermisscall.celery import app as celery_app

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "nevermisscall",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-mingle",
            "--without-gossip",
            "-n",
            f"test-worker-{os.getpid()}@%h",
        ],
        env=process_env(**live_twilio_env(twilio_standin, live_base_url)),
    )
    deadline = time.monotonic() + 30
    while not celery_app.control.ping(timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the Celery worker did not start")
    yield process
    process.terminate()
    process.wait(timeout=15)


@pytest.fixture(scope="session")
def live_app(django_db_setup, twilio_standin, live_base_url):
    """The real ASGI app served by daphne (HTTP and websockets) on a free port, on the test database."""
    base_url = live_base_url
    port = base_url.rsplit(":", 1)[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "nevermisscall.server", "-b", "127.0.0.1", "-p", port, "nevermisscall.asgi:application"],
        env=process_env(**live_twilio_env(twilio_standin, base_url)),
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("daphne did not start") from None
            time.sleep(0.1)
    yield base_url
    process.terminate()
    process.wait(timeout=15)
