"""Alerts tests use the telephony test base: the Twilio stand-in and commit()."""

from apps.telephony.tests.conftest import (  # noqa: F401  (fixtures)
    _standin,
    business_numbers,
    commit,
    twilio,
)
