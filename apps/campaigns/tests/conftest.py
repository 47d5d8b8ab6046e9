"""Campaign tests: the telephony test base (Twilio stand-in, signed webhooks) and three businesses
of their own in three time zones, created once per session with unique names."""

import uuid

import pytest
from django.db import connection

from apps.dispatch.tests.conftest import openai_breaker, openai_standin  # noqa: F401  (fixtures)
from apps.telephony.tests.conftest import (  # noqa: F401  (fixtures)
    _standin,
    business_numbers,
    commit,
    twilio,
    webhook,
)
from apps.tenants.services import business_register

ZONES = ("America/Chicago", "America/New_York", "America/Los_Angeles")


@pytest.fixture(scope="session")
def campaign_businesses(django_db_setup, django_db_blocker):
    """Three committed businesses (their schemas migrated), one per time zone."""
    suffix = uuid.uuid4().hex[:8]
    businesses = []
    with django_db_blocker.unblock():
        for index, zone in enumerate(ZONES):
            business, _owner = business_register(
                business_name=f"Campaign Test {index} {suffix}",
                owner_email=f"campaign{index}-{suffix}@campaigns.test",
                owner_password="a-long-test-password-1",
                owner_name="Campaign Owner",
                trade="plumbing",
                timezone_name=zone,
                phone=f"+1312555{index:04d}",
            )
            businesses.append(business)
        connection.set_schema_to_public()
    return businesses
