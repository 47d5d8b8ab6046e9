"""``execute_one`` outside a transaction, as a webhook runs it: django-tenants' ``SET search_path``
travels with the statement (one round trip), is recorded only when the statement succeeded, and is
never skipped for the wrong schema.

Each check runs on its own thread and connection, in autocommit, like a webhook's pool thread; the
rows it commits are removed at the end.
"""

import threading

import pytest
from django.db import IntegrityError, connection, connections
from django.test.utils import CaptureQueriesContext

from apps.telephony.models import CallStatusEvent
from apps.telephony.services import call_status_event_record
from nevermisscall.db import execute_one

pytestmark = pytest.mark.django_db

CALL_SID = "CA" + "d" * 32


def on_own_connection(function):
    result, errors = [], []

    def run():
        try:
            result.append(function())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not errors, errors
    return result[0]


def test_first_statement_carries_the_search_path_in_one_round_trip(alpha, beta):
    def record():
        connection.set_tenant(alpha)
        with CaptureQueriesContext(connection) as queries:
            outcome = call_status_event_record(call_sid=CALL_SID, kind="dial", status="no-answer", data={})
            in_schema = CallStatusEvent.objects.filter(call_sid=CALL_SID).count()
        connection.set_tenant(beta)  # A switch: the next statement sets the path again, for beta.
        with CaptureQueriesContext(connection) as after_switch:
            in_beta = execute_one(
                f"SELECT count(*) FROM {CallStatusEvent._meta.db_table} WHERE call_sid = %s", [CALL_SID]
            )
        connection.set_tenant(alpha)
        CallStatusEvent.objects.filter(call_sid=CALL_SID).delete()
        return outcome, in_schema, [q["sql"] for q in queries.captured_queries], after_switch.captured_queries, in_beta

    outcome, in_schema, sql, after_switch, in_beta = on_own_connection(record)
    assert outcome.recorded and outcome.language == "en"
    assert len(sql) == 2  # The statement with its SET, then the ORM count without one.
    assert sql[0].startswith('SET search_path = "t_alpha_plumbing","public"; ') and "INSERT INTO" in sql[0]
    assert not sql[1].startswith("SET")
    assert in_schema == 1
    assert after_switch[0]["sql"].startswith('SET search_path = "t_beta_electric","public"; ')
    assert in_beta == (0,)


def test_a_failed_statement_leaves_the_search_path_to_be_set_again(alpha):
    def fail_then_query():
        connection.set_tenant(alpha)
        with pytest.raises(IntegrityError):
            execute_one(f"INSERT INTO {CallStatusEvent._meta.db_table} (call_sid) VALUES (NULL) RETURNING id", [])
        recorded = connection.search_path_set_schemas
        with CaptureQueriesContext(connection) as queries:
            count = CallStatusEvent.objects.filter(call_sid=CALL_SID).count()
        return recorded, [q["sql"] for q in queries.captured_queries], count

    recorded, sql, count = on_own_connection(fail_then_query)
    assert recorded is None
    assert sql[0].startswith("SET search_path")  # django-tenants sets it, as after any tenant switch.
    assert count == 0
