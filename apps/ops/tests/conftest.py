from apps.telephony.tests.conftest import (  # noqa: F401  (fixtures)
    _standin,
    business_numbers,
    twilio,
    webhook,
)
