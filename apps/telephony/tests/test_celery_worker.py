"""The missed-call → SMS path through a real Celery worker and the real Redis broker.

The webhooks run on their own thread and database connection, so their transaction really commits
and ``on_commit`` really enqueues; the worker (a thread of this process, solo pool) picks the task
from Redis, switches to the business's schema from the task header, and sends through the twilio
SDK to the stand-in. The rows it commits are removed at the end.
"""

import pytest
from django_tenants.utils import tenant_context

from apps.conversations.models import Message
from apps.telephony.tests.conftest import cleanup_committed, missed_call_through_a_real_worker

pytestmark = pytest.mark.django_db

CALLER = "+17735550161"


def test_missed_call_is_texted_by_a_real_worker(alpha, twilio):
    try:
        sent = missed_call_through_a_real_worker(twilio, caller=CALLER)
        assert [r.form["To"] for r in sent] == [CALLER]
        with tenant_context(alpha):
            message = Message.objects.get(to_number=CALLER)
            assert message.status == Message.Status.SENT
            assert message.provider_sid
    finally:
        cleanup_committed(alpha, CALLER)
