"""Several writes in one SQL statement, for the hottest paths (webhooks).

Each round trip to PostgreSQL costs a wake-up of its backend, which on a busy 2-core machine is the
larger part of a webhook's time (bench/README.md). A statement whose data-modifying CTEs insert a
row and its dependants is atomic by itself, so in autocommit it needs no BEGIN / COMMIT either.
"""

from django.db import connection, transaction
from django.db.models.sql import InsertQuery


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
    transaction usable — either way the violation is raised as ``IntegrityError``."""
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            with transaction.atomic():
                cursor.execute(statement, params)
                return cursor.fetchone()
        cursor.execute(statement, params)
        return cursor.fetchone()
