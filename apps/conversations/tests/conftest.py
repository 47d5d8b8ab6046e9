"""Conversation tests use the telephony test base: the Twilio stand-in and signed webhooks."""

import pytest
from django.db import connection

from apps.dispatch.tests.conftest import openai_breaker, openai_standin  # noqa: E402, F401  (fixtures)
from apps.telephony.tests.conftest import (  # noqa: F401  (fixtures)
    _standin,
    business_numbers,
    commit,
    dashboard,
    twilio,
    webhook,
)
from apps.tenants.config.services import config_update


def configure_alpha(alpha, estimates: list[dict]) -> None:
    """Alpha Plumbing with ``estimates`` and a 25-mile area around the Loop (in alpha's schema)."""
    connection.set_tenant(alpha)
    config_update(
        business=alpha,
        data={
            "job_estimates": estimates,
            "service_area": {
                "address": "200 E Randolph St, Chicago IL 60601",
                "latitude": 41.8858,
                "longitude": -87.6181,
                "radius_miles": 25,
            },
        },
    )


@pytest.fixture
def configured(alpha):
    """Alpha Plumbing with the estimates of test_assistant_sms.py."""
    from apps.conversations.tests.test_assistant_sms import ESTIMATES

    configure_alpha(alpha, ESTIMATES)
    return alpha
