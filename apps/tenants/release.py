"""``release``: the public schema, the base schema, then every business, with bounded parallelism.

Each business is migrated in one transaction (apps/tenants/schemas.py ``schema_migrate``), so it is
either on the new version or still wholly on its previous one. The first failure stops the run:
no further business is started, the ones in flight finish, the failed one is marked
(``Business.migration_failed_at``) and served a maintenance answer until a later release migrates
it. Businesses already on the code's version (``Business.schema_version``) are not visited, so a
no-op release costs the same with a thousand businesses as with ten.
"""

import logging
import multiprocessing
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from apps.tenants.models import Business
from apps.tenants.schemas import base_schema_ensure, clone_function_ensure, fingerprint, schema_migrate
from apps.tenants.selectors import business_cache_clear

logger = logging.getLogger(__name__)

_STOP = None  # A multiprocessing Event, inherited by the forked workers.


@dataclass
class ReleaseReport:
    version: str
    migrated: list[str] = field(default_factory=list)  # schemas now on ``version``
    failed: dict[str, str] = field(default_factory=dict)  # schema -> error
    not_started: list[str] = field(default_factory=list)  # left on their previous version
    up_to_date: int = 0
    base_rebuilt: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


def _migrate_one(schema_name: str) -> tuple[str, str, str]:
    if _STOP is not None and _STOP.is_set():
        return schema_name, "not_started", ""
    try:
        applied = schema_migrate(schema_name=schema_name)
    except Exception as exc:  # Reported and marked by the parent; the schema rolled back whole.
        if _STOP is not None:
            _STOP.set()
        return schema_name, "failed", f"{type(exc).__name__}: {exc}"[:2000]
    return schema_name, "migrated", ", ".join(applied)


def _close_database_connections() -> None:
    """Before forking: the workers must not share the parent's sockets or its pool's threads."""
    for wrapper in connections.all():
        wrapper.close()
        close_pool = getattr(wrapper, "close_pool", None)
        if close_pool is not None:
            close_pool()


def _worker_init() -> None:
    for wrapper in connections.all():
        wrapper.connection = None  # Inherited handles belong to the parent.


def release_run(
    *, parallelism: int | None = None, schemas: list[str] | None = None, public: bool = True
) -> ReleaseReport:
    """Migrate the public schema (unless ``public`` is False), the base schema and the businesses
    not yet on the code's version (only those in ``schemas`` if given), ``parallelism`` at a time."""
    global _STOP
    started = time.monotonic()
    version = fingerprint()
    report = ReleaseReport(version=version)
    if public:
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    clone_function_ensure(replace=True)
    report.base_rebuilt = base_schema_ensure()

    candidates = Business.objects.exclude(schema_name=get_public_schema_name())
    if schemas is not None:
        candidates = candidates.filter(schema_name__in=schemas)
    pending_q = candidates.exclude(schema_version=version, migration_failed_at__isnull=True)
    pending = list(pending_q.order_by("created_at", "schema_name").values_list("schema_name", flat=True))
    report.up_to_date = candidates.count() - len(pending)
    if schemas is not None:  # Keep the caller's order: it says who goes first.
        order = {name: index for index, name in enumerate(schemas)}
        pending.sort(key=lambda name: order.get(name, len(order)))

    workers = max(1, parallelism or settings.RELEASE_PARALLELISM)
    if pending:
        results = _run(pending, workers)
        for schema_name, outcome, detail in results:
            if outcome == "migrated":
                report.migrated.append(schema_name)
            elif outcome == "failed":
                report.failed[schema_name] = detail
            else:
                report.not_started.append(schema_name)
        _record(report)
    report.seconds = time.monotonic() - started
    return report


def _run(pending: list[str], workers: int) -> list[tuple[str, str, str]]:
    global _STOP
    if workers == 1 or len(pending) == 1:
        results = []
        for schema_name in pending:
            outcome = _migrate_one(schema_name)
            results.append(outcome)
            if outcome[1] == "failed":
                results.extend((name, "not_started", "") for name in pending[len(results) :])
                break
        return results
    context = multiprocessing.get_context("fork")
    _STOP = context.Event()
    _close_database_connections()
    try:
        with context.Pool(processes=min(workers, len(pending)), initializer=_worker_init) as pool:
            return list(pool.imap_unordered(_migrate_one, pending, chunksize=1))
    finally:
        _STOP = None


def _record(report: ReleaseReport) -> None:
    now = timezone.now()
    if report.migrated:
        Business.objects.filter(schema_name__in=report.migrated).update(
            schema_version=report.version, migration_failed_at=None, migration_error=""
        )
    for schema_name, error in report.failed.items():
        Business.objects.filter(schema_name=schema_name).update(migration_failed_at=now, migration_error=error)
        logger.error("release: the migrations of %s failed and were rolled back: %s", schema_name, error)
    for business in Business.objects.filter(schema_name__in=[*report.migrated, *report.failed]):
        business_cache_clear(business)
