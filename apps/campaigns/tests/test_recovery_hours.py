"""The recovery queue's timer counts minutes inside the business's opening hours (the dispatch
engine's hours), and the owner is alerted once when that wait reaches the target."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from apps.campaigns import hours, selectors, services
from apps.campaigns.models import Kind
from apps.conversations.models import Conversation, LeadOutcome, Message
from apps.outbox.models import Delivery
from apps.tenants.config.models import BusinessConfig

pytestmark = pytest.mark.django_db

OWNER = "+13125550166"
WEEKDAYS_8_TO_18 = {
    **{day: {"open": "08:00", "close": "18:00", "closed": False} for day in ("monday", "tuesday", "wednesday")},
    **{day: {"open": "08:00", "close": "18:00", "closed": False} for day in ("thursday", "friday")},
    "saturday": {"closed": True},
    "sunday": {"closed": True},
}


def _lead(phone: str, ended_at: datetime) -> Conversation:
    conversation = Conversation.objects.create(
        customer_number=phone,
        business_number="+13125550111",
        lead_outcome=LeadOutcome.ABANDONED,
        last_message_at=ended_at,
        status=Conversation.Status.RESOLVED,
    )
    Message.objects.create(
        conversation=conversation,
        direction="inbound",
        kind="customer",
        from_number=phone,
        to_number="+13125550111",
        body="water everywhere",
        status="received",
    )
    return conversation


def test_business_minutes_skip_the_night_the_weekend_and_a_dst_change():
    tz = ZoneInfo("America/Chicago")
    local = lambda *args: datetime(*args, tzinfo=tz)  # noqa: E731
    # Tuesday 17:55 → Wednesday 08:05: 5 minutes before closing and 5 after opening.
    assert (
        hours.business_minutes(
            local(2026, 12, 8, 17, 55), local(2026, 12, 9, 8, 5), business_hours=WEEKDAYS_8_TO_18, tz=tz
        )
        == 10
    )
    # Friday 17:50 → Monday 08:04: the closed weekend counts nothing.
    assert (
        hours.business_minutes(
            local(2026, 12, 4, 17, 50), local(2026, 12, 7, 8, 4), business_hours=WEEKDAYS_8_TO_18, tz=tz
        )
        == 14
    )
    # Across the Sunday of the DST change (closed), Friday 17:59 CDT → Monday 08:01 CST: 2 minutes.
    assert (
        hours.business_minutes(
            local(2026, 10, 30, 17, 59), local(2026, 11, 2, 8, 1), business_hours=WEEKDAYS_8_TO_18, tz=tz
        )
        == 2
    )
    # A business with no opening hours at all is counted by the wall clock.
    assert hours.business_minutes(local(2026, 12, 8, 23, 0), local(2026, 12, 9, 0, 0), business_hours={}, tz=tz) == 60


def test_a_lead_at_1755_is_not_over_15_minutes_until_0810_and_the_owner_is_alerted_once(alpha, beta):
    connection.set_tenant(alpha)
    tz = ZoneInfo(alpha.timezone)
    BusinessConfig.objects.filter(pk=1).update(forwarding_number=OWNER, business_hours=WEEKDAYS_8_TO_18)
    services.campaign_settings_update(data={"recovery_target_minutes": 15})
    lead = _lead("+17735550601", datetime(2026, 12, 8, 17, 55, tzinfo=tz))  # A Tuesday.
    alerts = Delivery.objects.filter(business=alpha, purpose="owner_alert", recipient=OWNER, cause_id=str(lead.id))

    def at(hour, minute):
        return datetime(2026, 12, 9, hour, minute, tzinfo=tz)

    for moment, waiting, over in ((at(8, 5), 10, False), (at(8, 9), 14, False), (at(8, 10), 15, True)):
        with time_machine.travel(moment, tick=False):
            item = next(i for i in selectors.recovery_queue(now=moment) if i.conversation_id == lead.id)
            assert (item.waiting_minutes, item.over_target) == (waiting, over)
            services.campaign_run(kind=Kind.RECOVERY)
            assert alerts.count() == (1 if over else 0)
    with time_machine.travel(at(9, 0), tick=False):
        services.campaign_run(kind=Kind.RECOVERY)
        assert alerts.count() == 1
        assert next(i for i in selectors.recovery_queue(now=at(9, 0)) if i.conversation_id == lead.id).owner_alerted

    connection.set_tenant(beta)  # Another business sees nothing of it.
    assert lead.id not in [item.conversation_id for item in selectors.recovery_queue(now=at(9, 0))]
