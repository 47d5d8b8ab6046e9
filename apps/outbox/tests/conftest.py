"""Outbox tests use the telephony test base: the Twilio stand-in, each business's number, signed
webhooks, and the dashboard listener."""

from apps.telephony.tests.conftest import (  # noqa: F401  (fixtures)
    _standin,
    business_numbers,
    commit,
    dashboard,
    twilio,
    webhook,
)
