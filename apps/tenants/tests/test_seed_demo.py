"""``manage.py seed_demo`` (``make run``): the demo business a new user signs in to has a history."""

import io
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.analytics.selectors import recovered_bookings
from apps.conversations.models import Conversation
from apps.crm.models import Appointment
from apps.outbox.models import Delivery
from apps.telephony.models import Call
from apps.tenants.demo import DEMO_BUSINESS, DEMO_OWNER
from apps.tenants.models import Business


def _history(business) -> tuple[int, int, int, int]:
    with tenant_context(business):
        return (
            Call.objects.count(),
            Call.objects.filter(status=Call.Status.MISSED).count(),
            Conversation.objects.count(),
            Appointment.objects.count(),
        )


def test_seed_demo_gives_the_demo_business_30_days_of_history_once(db, twilio_standin):
    twilio_standin.reset()
    first = io.StringIO()
    call_command("seed_demo", stdout=first)
    business = Business.objects.get(is_demo=True, name=DEMO_BUSINESS)
    calls, missed, conversations, appointments = history = _history(business)
    assert calls >= 30 and 0 < missed < calls and conversations >= missed and appointments > 0
    with tenant_context(business):  # Some of its bookings came from missed calls: the money figure.
        assert recovered_bookings(start=timezone.now() - timedelta(days=31), end=timezone.now()).exists()
    assert f"{DEMO_OWNER[0]} / {DEMO_OWNER[1]}" in first.getvalue()
    assert f"Demo history: {calls} calls ({missed} missed), {appointments} appointments" in first.getvalue()

    call_command("seed_demo", stdout=io.StringIO())
    assert _history(business) == history  # Idempotent: the second run adds nothing.
    assert not Delivery.objects.filter(business=business, status=Delivery.Status.QUEUED).exists()
    assert twilio_standin.state.requests == []  # History only: nothing reached Twilio.
