"""The test base: three people in two businesses, created once per session.

Alice owns Alpha Plumbing, Bob is her staff; Charlie owns Beta Electric and must never see
anything of Alpha's. Each test runs in a transaction that is rolled back, tenant schemas included.
"""

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
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
    with override_settings(
        RATE_LIMIT_PER_IP="100000/minute", RATE_LIMIT_PER_TENANT="100000/minute", RATE_LIMIT_LOGIN="100000/minute"
    ):
        yield


@pytest.fixture(scope="session", autouse=True)
def _release_database_connections(django_db_setup, django_db_blocker):
    """Before the test database is dropped: close the connection pool and any connection that a
    ``database_sync_to_async`` thread or a worker left open (they would block DROP DATABASE)."""
    yield
    from django.db import connections

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


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup):
    """A real Celery worker process on the real Redis broker, using the test database."""
    import os
    import subprocess
    import sys
    import time
    from urllib.parse import quote

    from django.conf import settings as django_settings

    from nevermisscall.celery import app as celery_app

    database = django_settings.DATABASES["default"]
    host = quote(database["HOST"] or "", safe="")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{host}:{database['PORT'] or 5432}/{database['NAME']}",
        "REDIS_URL": django_settings.REDIS_URL,
        "APP_ENV": "testing",
    }
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
        env=env,
    )
    deadline = time.monotonic() + 30
    while not celery_app.control.ping(timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the Celery worker did not start")
    yield process
    process.terminate()
    process.wait(timeout=15)
