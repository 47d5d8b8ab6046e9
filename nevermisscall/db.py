"""Several writes in one SQL statement, and in one round trip, for the hottest paths (webhooks).

Each round trip to PostgreSQL costs a wake-up of its backend, which on a busy 2-core machine is the
larger part of a webhook's time (bench/README.md). A statement whose data-modifying CTEs insert a
row and its dependants is atomic by itself, so in autocommit it needs no BEGIN / COMMIT either.
"""

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models.sql import InsertQuery
from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper
from django_tenants.utils import get_limit_set_calls, quote_schema_name


def insert_sql(objs: list, *, returning: tuple[str, ...] = ()) -> tuple[str, list]:
    """The ``INSERT`` Django would send for ``objs`` (one model, primary keys set by the model's
    default), defaults and ``auto_now`` applied to the instances, to embed in a ``WITH``."""
    meta = type(objs[0])._meta
    fields = [field for field in meta.local_concrete_fields if not field.generated]
    query = InsertQuery(type(objs[0]))
    query.insert_values(fields, objs)
    [(statement, params)] = query.get_compiler(connection=connection).as_sql()
    if returning:
        columns = ", ".join(connection.ops.quote_name(meta.get_field(name).column) for name in returning)
        statement = f"{statement} RETURNING {columns}"
    return statement, list(params)


def execute_one(statement: str, params: list):
    """Run ``statement`` and return its first row. Outside a transaction it runs alone (atomic, no
    BEGIN / COMMIT); inside one, under a savepoint, so a constraint violation leaves the caller's
    transaction usable — either way the violation is raised as ``IntegrityError``.

    When it is the request's first statement, django-tenants' ``SET search_path`` travels with it:
    one round trip instead of two (see ``_cursor_with_search_path``)."""
    if connection.in_atomic_block:
        with transaction.atomic():
            return _execute_one(statement, params)
    return _execute_one(statement, params)


def _execute_one(statement: str, params: list):
    cursor, search_paths = _cursor_with_search_path()
    with cursor:
        if not search_paths:
            cursor.execute(statement, params)
            return cursor.fetchone()
        paths = ",".join(quote_schema_name(path) for path in search_paths)
        cursor.execute(f"SET search_path = {paths}; {statement}", params)
        cursor.nextset()  # Past the SET's result to the statement's.
        row = cursor.fetchone()
    # Recorded only now: a failed statement took its SET with it (one implicit transaction, or the
    # savepoint), and the next cursor sets the path as django-tenants always does.
    connections[DEFAULT_DB_ALIAS].search_path_set_schemas = search_paths
    return row


def _cursor_with_search_path():
    """A cursor, and the search path still to be set on this connection for the current schema
    (``None`` when django-tenants has already set it, or sets it on every cursor).

    django-tenants sends ``SET search_path`` on the first cursor after each tenant switch — the
    first round trip of every webhook. Django's own ``_cursor`` (the class after django-tenants' in
    the method resolution order) opens a cursor without it, so the caller can send the SET and its
    statement together: the client-side-binding cursor uses PostgreSQL's simple query protocol,
    which runs both from one message, in one implicit transaction."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    if (
        not get_limit_set_calls()
        or wrapper.search_path_set_schemas
        or wrapper._setting_search_path
        or wrapper.settings_dict["OPTIONS"].get("server_side_binding")  # One statement per message.
    ):
        return wrapper.cursor(), None
    search_paths = wrapper._get_cursor_search_paths()
    return super(TenantDatabaseWrapper, wrapper)._cursor(), search_paths
