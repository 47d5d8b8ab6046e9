"""Conversation tests use the telephony test base: the Twilio stand-in and signed webhooks."""

from apps.dispatch.tests.conftest import openai_breaker, openai_standin  # noqa: E402, F401  (fixtures)
from apps.telephony.tests.conftest import (  # noqa: F401  (fixtures)
    _standin,
    business_numbers,
    commit,
    dashboard,
    twilio,
    webhook,
)
