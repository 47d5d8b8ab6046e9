"""Dashboard page tests use the telephony test base (Twilio stand-in, business numbers)."""

from apps.telephony.tests.conftest import _standin, business_numbers, commit, twilio  # noqa: F401  (fixtures)
