import copy

import pytest
from django.test import override_settings

from apps.dispatch.providers.openai_chat import BREAKER_NAME
from apps.tenants.config.models import default_business_hours
from nevermisscall.breakers import get_breaker
from nevermisscall.openai_standin import OpenAIStandIn

BASE_REQUEST = {
    "caller_phone": "+13125550187",
    "called_number": "+13125550100",
    "conversation_history": [],
    "current_message": "",
    "business_name": "Alpha Plumbing",
    "trade_type": "plumbing",
    "business_hours": {"timezone": "America/Chicago", **default_business_hours()},
    "business_address": {
        "street": "200 E Randolph St",
        "city": "Chicago",
        "state": "IL",
        "zip_code": "60601",
        "latitude": 41.8858,
        "longitude": -87.6181,
        "service_radius_miles": 25,
    },
    "job_estimates": [
        {"job_type": "Drain cleaning", "trade": "plumbing", "min_price": 150, "max_price": 250, "duration_minutes": 90},
        {"job_type": "water_heater", "trade": "plumbing", "min_price": 900, "max_price": 1800, "duration_minutes": 180},
        {"job_type": "Burst pipe", "trade": "plumbing", "min_price": 300, "max_price": 600, "duration_minutes": 120},
        {"job_type": "Leak repair", "trade": "plumbing", "min_price": 120, "max_price": 300, "duration_minutes": 60},
    ],
    "business_settings": {},
    "existing_calendar": [],
}


@pytest.fixture
def request_payload():
    """``request_payload(current_message, history=[...], **overrides)``: a ProcessConversationRequest as JSON."""

    def make(current_message: str, history=None, **overrides) -> dict:
        payload = copy.deepcopy(BASE_REQUEST)
        payload["current_message"] = current_message
        payload["conversation_history"] = history or []
        payload.update(overrides)
        return payload

    return make


@pytest.fixture
def openai_breaker():
    breaker = get_breaker(BREAKER_NAME)
    breaker.close()
    yield breaker
    breaker.close()


@pytest.fixture
def openai_standin(openai_breaker):
    """The OpenAI stand-in, and settings that point the real SDK at it."""
    standin = OpenAIStandIn().start()
    with override_settings(
        OPENAI_API_KEY="sk-test-standin",
        OPENAI_BASE_URL=standin.base_url,
        OPENAI_MODEL="gpt-4o-mini",
        OPENAI_TIMEOUT_SECONDS=0.5,
    ):
        yield standin
    standin.stop()
