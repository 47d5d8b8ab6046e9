"""Business schemas: created by cloning a base schema, migrated by ``release`` (apps/tenants/release.py).

Running every migration for a new schema costs 1–2 s here, nearly all of it building Django's
migration graph. Instead a base schema (``TENANT_BASE_SCHEMA``, never a business) carries every
tenant migration, and a sign-up copies it with django-tenants' ``clone_schema`` SQL function in
DATA mode, its ``django_migrations`` rows included, so nothing is migrated or faked.

The base is trusted only while its recorded migrations equal the migration files on disk (the
*fingerprint*, read from the migration folders without building the graph). A base that is missing
or stale — another checkout's test run, a deploy that added a migration before ``release`` ran — is
rebuilt first, under an advisory lock, so a sign-up never gets an out-of-date schema.
"""

import hashlib
import logging
import pkgutil
from functools import lru_cache
from importlib import import_module

from django.apps import apps as django_apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_exists

logger = logging.getLogger(__name__)

# Exclusive while the base is rebuilt; clones take it shared (pg_advisory_xact_lock).
BASE_LOCK_KEY = 0x4E4D43_0001


def base_schema_name() -> str:
    return settings.TENANT_BASE_SCHEMA


@lru_cache(maxsize=1)
def code_migrations() -> frozenset[tuple[str, str]]:
    """(app_label, name) of every migration file of every installed app (a tenant schema's
    ``django_migrations`` records them all). Read from the folders: no graph is built."""
    found = set()
    for app_config in django_apps.get_app_configs():
        module_name, _explicit = MigrationLoader.migrations_module(app_config.label)
        if module_name is None:
            continue
        try:
            module = import_module(module_name)
        except ModuleNotFoundError:
            continue
        if not hasattr(module, "__path__"):
            continue
        for info in pkgutil.iter_modules(module.__path__):
            if not info.ispkg and info.name[0] not in "_~":
                found.add((app_config.label, info.name))
    return frozenset(found)


def fingerprint(migrations=None) -> str:
    rows = sorted(migrations if migrations is not None else code_migrations())
    return hashlib.sha256("\n".join(f"{app}.{name}" for app, name in rows).encode()).hexdigest()[:32]


def schema_migrations(schema_name: str) -> frozenset[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f'"{schema_name}".django_migrations'])
        if cursor.fetchone()[0] is None:
            return frozenset()
        cursor.execute(f'SELECT app, name FROM "{schema_name}".django_migrations')  # noqa: S608 (checked name)
        return frozenset(cursor.fetchall())


def base_schema_is_current() -> bool:
    base = base_schema_name()
    if not schema_exists(base):
        return False
    # Every migration on disk recorded; extra rows (a migration since deleted) are harmless.
    return code_migrations() <= schema_migrations(base)


def base_schema_ensure(*, rebuild: bool = False) -> bool:
    """Make the base schema current; True if it had to be (re)built. Safe to run concurrently."""
    if not rebuild and base_schema_is_current():
        return False
    base = base_schema_name()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [BASE_LOCK_KEY])
    try:
        if not rebuild and base_schema_is_current():  # Another process rebuilt it meanwhile.
            return False
        logger.info("building the base schema %s", base)
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{base}" CASCADE')
            cursor.execute(f'CREATE SCHEMA "{base}"')
        call_command("migrate_schemas", tenant=True, schema_name=base, interactive=False, verbosity=0)
        connection.set_schema_to_public()
        return True
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [BASE_LOCK_KEY])


def schema_create(*, schema_name: str, check_if_exists: bool = False) -> str:
    """Create ``schema_name`` as a copy of the current base schema; returns its version (fingerprint).

    Inside the caller's transaction: a failed sign-up leaves no schema behind. The base is brought
    up to date first when it is stale (the only slow path: a fresh database or a new migration)."""
    connection.set_schema_to_public()
    if check_if_exists and schema_exists(schema_name):
        return fingerprint(schema_migrations(schema_name))
    base_schema_ensure()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [BASE_LOCK_KEY])
    if not base_schema_is_current():  # Rebuilt and dropped between the check and the lock: rare.
        base_schema_ensure()
    if schema_exists(schema_name, case_sensitive=False):
        raise ValueError(f"schema {schema_name} already exists")
    clone_function_ensure()
    catalog_statistics_refresh()
    with connection.cursor() as cursor:
        cursor.execute("SELECT public.clone_schema(%s, %s, 'DATA')", [base_schema_name(), schema_name])
    connection.set_schema_to_public()
    return fingerprint()


# Analyzed as autovacuum would (50 rows + 10 % changed), but before the clone rather than up to a minute
# later; pg_statistic is what ANALYZE writes, no query of the clone plans on it.
STALE_CATALOG_STATISTICS_SQL = """
    SELECT s.relname FROM pg_stat_sys_tables s JOIN pg_class c ON c.oid = s.relid
    WHERE s.schemaname = 'pg_catalog' AND NOT c.relisshared AND s.relname <> 'pg_statistic'
      AND s.n_mod_since_analyze > 50 + 0.1 * GREATEST(s.n_live_tup, c.reltuples)
"""


def catalog_statistics_refresh() -> list[str]:
    """ANALYZE the system catalogs whose statistics are stale; returns their names.

    Every clone adds ~300 rows to pg_class, ~1,000 to pg_attribute and pg_depend. ``clone_schema``
    plans its catalog queries (pg_indexes joined to itself per table, pg_depend, pg_attribute) on
    the catalogs' statistics; while a burst of sign-ups outruns autovacuum, those statistics still
    describe a database of a few schemas and the plans go bad: one clone measured 17 s with 74
    businesses, 0.3 s right after autovacuum analyzed the catalogs. A catalog the database role may
    not analyze is skipped by PostgreSQL with a warning, never an error."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(STALE_CATALOG_STATISTICS_SQL)
        stale = [name for (name,) in cursor.fetchall()]
        if stale:
            cursor.execute("ANALYZE " + ", ".join(f"pg_catalog.{name}" for name in stale))
    return stale


def clone_function_ensure(*, replace: bool = False) -> None:
    """django-tenants' ``clone_schema`` SQL function, installed when missing; ``release`` replaces
    it (a django-tenants upgrade may change it). django-tenants itself recreates it on every clone."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_proc WHERE proname = 'clone_schema' AND pronamespace = 'public'::regnamespace")
        if replace or cursor.fetchone() is None:
            CloneSchema()._create_clone_schema_function()


def schema_migrate(*, schema_name: str) -> list[str]:
    """Apply the pending migrations of one schema in ONE transaction: all of them or none.

    A failure leaves the schema exactly on its previous version (PostgreSQL DDL is transactional),
    never half-migrated. Returns the migrations applied."""
    from django.db import transaction
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.recorder import MigrationRecorder

    connection.set_schema(schema_name, include_public=False)
    MigrationRecorder(connection).ensure_schema()
    connection.set_schema(schema_name)
    try:
        with transaction.atomic():
            executor = MigrationExecutor(connection)
            targets = executor.loader.graph.leaf_nodes()
            plan = executor.migration_plan(targets)
            if plan:
                executor.migrate(targets, plan=plan)
    finally:
        connection.set_schema_to_public()
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]
