"""The beat sweeps visit only the businesses their writers marked (apps/tenants/fanout.py)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from apps.conversations import tasks as conversation_tasks
from apps.conversations.models import Conversation
from apps.telephony import tasks
from apps.telephony.models import Call, CallStatusEvent
from apps.telephony.tests.conftest import new_call_sid, payload
from apps.tenants.fanout import CALL_STATUS, LEAD_IDLE, business_marks_replace
from apps.tenants.models import WorkMark

pytestmark = pytest.mark.django_db

CALLER = "+17735550177"


def _marks(kind):
    return sorted(WorkMark.objects.filter(kind=kind).values_list("schema_name", flat=True))


def _statements(queries):
    return [query["sql"] for query in queries.captured_queries if not query["sql"].startswith("SET search_path")]


def _missed_call(webhook):
    call_sid = new_call_sid()
    webhook.post(
        f"/webhooks/twilio/call/status/{call_sid}", payload("voice_dial_action", CallSid=call_sid, From=CALLER)
    )
    return call_sid


def test_with_nothing_marked_each_sweep_is_one_statement_however_many_businesses(alpha, beta):
    WorkMark.objects.all().delete()
    with schema_context("public"), CaptureQueriesContext(connection) as queries:
        assert tasks.call_status_sweep() == 0
        assert conversation_tasks.inbound_sweep() == 0
        assert conversation_tasks.lead_idle_sweep() == 0
    statements = _statements(queries)
    assert len(statements) == 3, statements
    assert all('"tenants_workmark"' in sql for sql in statements)


@override_settings(CALL_STATUS_STALE_SECONDS=0)
def test_a_recorded_outcome_marks_its_business_and_the_sweep_visits_only_it(alpha, beta, webhook, twilio, commit):
    WorkMark.objects.all().delete()
    call_sid = _missed_call(webhook)  # Recorded; the hand-off never ran (no commit here).
    assert _marks(CALL_STATUS) == [alpha.schema_name]
    with commit(), schema_context("public"):
        assert tasks.call_status_sweep() == 1
    with tenant_context(alpha):
        assert Call.objects.get(call_sid=call_sid).status == Call.Status.MISSED
    assert _marks(CALL_STATUS) == []  # Applied: the visit removed the mark and left none.
    with schema_context("public"), CaptureQueriesContext(connection) as queries:
        assert tasks.call_status_sweep() == 0
    assert [sql for sql in _statements(queries) if "tenants_workmark" not in sql] == []
    assert len(twilio.messages()) == 1


@override_settings(CALL_STATUS_STALE_SECONDS=60)
def test_work_not_yet_due_is_not_visited_and_a_row_dated_earlier_is_marked_again(alpha, webhook, commit):
    WorkMark.objects.all().delete()
    call_sid = _missed_call(webhook)
    with schema_context("public"):
        assert tasks.call_status_sweep() == 0  # Recorded just now: not due, not visited.
    assert _marks(CALL_STATUS) == [alpha.schema_name]
    with tenant_context(alpha):
        CallStatusEvent.objects.filter(call_sid=call_sid).update(created_at=timezone.now() - timedelta(minutes=5))
    assert _marks(CALL_STATUS) == [alpha.schema_name, alpha.schema_name]
    with commit(), schema_context("public"):
        assert tasks.call_status_sweep() == 1
    with tenant_context(alpha):
        assert CallStatusEvent.objects.get(call_sid=call_sid).processed_at is not None


def test_a_visit_leaves_one_mark_for_the_earliest_work_still_pending(alpha):
    WorkMark.objects.all().delete()
    now = timezone.now()
    seen = [
        WorkMark.objects.create(schema_name=alpha.schema_name, kind=CALL_STATUS, at=now - timedelta(minutes=m)).id
        for m in (5, 3)
    ]
    later = WorkMark.objects.create(schema_name=alpha.schema_name, kind=CALL_STATUS, at=now)
    business_marks_replace(business=alpha, kind=CALL_STATUS, seen=seen, next_at=now - timedelta(minutes=5))
    assert sorted(WorkMark.objects.values_list("at", flat=True)) == [now - timedelta(minutes=5), now]
    business_marks_replace(business=alpha, kind=CALL_STATUS, seen=[later.id], next_at=now + timedelta(minutes=1))
    assert list(WorkMark.objects.values_list("at", flat=True)) == [now - timedelta(minutes=5)]  # Covered by it.
    (mark,) = WorkMark.objects.all()
    business_marks_replace(business=alpha, kind=CALL_STATUS, seen=[mark.id], next_at=None)
    assert not WorkMark.objects.exists()


def test_a_marks_schema_that_is_no_business_is_dropped_and_a_suspended_business_keeps_its_marks(alpha, beta):
    WorkMark.objects.all().delete()
    long_ago = timezone.now() - timedelta(days=2)
    WorkMark.objects.create(schema_name="gone_business", kind=LEAD_IDLE, at=long_ago)
    WorkMark.objects.create(schema_name=beta.schema_name, kind=LEAD_IDLE, at=long_ago)
    type(beta).objects.filter(pk=beta.pk).update(status="suspended")
    with schema_context("public"):
        assert conversation_tasks.lead_idle_sweep() == 0
    assert _marks(LEAD_IDLE) == [beta.schema_name]


def test_an_open_conversation_is_marked_and_its_mark_follows_the_quietest_open_lead(alpha):
    WorkMark.objects.all().delete()
    now = timezone.now()
    with tenant_context(alpha):
        Conversation.objects.create(customer_number=CALLER, last_message_at=now - timedelta(hours=25))
        Conversation.objects.create(customer_number="+17735550178", last_message_at=now - timedelta(hours=2))
    assert _marks(LEAD_IDLE) == [alpha.schema_name, alpha.schema_name]
    with schema_context("public"):
        assert conversation_tasks.lead_idle_sweep() == 1
    # The other one's mark stays: visited when it has been quiet a day.
    assert list(WorkMark.objects.filter(kind=LEAD_IDLE).values_list("at", flat=True)) == [now - timedelta(hours=2)]
