from apps.dispatch.tests.conftest import openai_breaker, openai_standin  # noqa: E402, F401  (fixtures)
from apps.telephony.tests.conftest import (  # noqa: F401  (fixtures)
    _standin,
    business_numbers,
    commit,
    twilio,
    webhook,
)
