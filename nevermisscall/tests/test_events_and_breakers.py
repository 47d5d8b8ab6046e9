"""The event publisher sends after commit only; breakers share their state through Redis."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection

from nevermisscall.breakers import breaker_states, get_breaker
from nevermisscall.events import build_event, dashboard_group, publish_event

pytestmark = pytest.mark.django_db


def _receive(layer, channel):
    return async_to_sync(layer.receive)(channel)


def test_event_is_sent_to_the_business_group_after_commit(alpha, django_capture_on_commit_callbacks):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(dashboard_group(alpha.schema_name), channel)
    connection.set_tenant(alpha)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        event = publish_event("incoming_call", {"call_id": "c1"}, source_service="telephony")
    assert len(callbacks) == 1  # Nothing is sent before the commit.
    callbacks[0]()
    message = _receive(layer, channel)
    assert message["event"] == event
    assert event["metadata"]["source_service"] == "telephony"
    async_to_sync(layer.group_discard)(dashboard_group(alpha.schema_name), channel)


def test_unknown_event_types_are_refused():
    with pytest.raises(ValueError):
        build_event("call_teleported", {}, source_service="x")


def test_breaker_opens_after_failures_and_reports_its_state():
    breaker = get_breaker("test-provider", fail_max=2, reset_timeout=60)
    breaker.close()

    def failing():
        raise ConnectionError("provider down")

    for _ in range(2):
        with pytest.raises((ConnectionError, Exception)):
            breaker.call(failing)
    state = {item["name"]: item for item in breaker_states()}["test-provider"]
    assert state["state"] == "open"
    breaker.close()
