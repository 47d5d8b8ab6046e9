"""Development sandbox numbers: given by the wizard, refused in production, and the README's curl
demo of a missed call works against one."""

import re
import shlex
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django_tenants.utils import tenant_context

from apps.conversations.models import Message
from apps.telephony.models import Call, PhoneNumber
from apps.telephony.phone_numbers import SANDBOX_PREFIX, phone_number_sandbox_assign
from apps.telephony.registry.selectors import business_get_by_number
from nevermisscall.errors import PermissionDenied

pytestmark = pytest.mark.django_db


def test_each_business_gets_its_own_sandbox_number_once(alpha, beta):
    with tenant_context(alpha):
        first = phone_number_sandbox_assign()
        assert phone_number_sandbox_assign().pk == first.pk  # Asking again gives the same number.
    with tenant_context(beta):
        other = phone_number_sandbox_assign()
    assert first.phone_number.startswith(SANDBOX_PREFIX) and other.phone_number.startswith(SANDBOX_PREFIX)
    assert first.phone_number != other.phone_number
    assert first.phone_number != "+15005550006"  # The demo business's.
    assert business_get_by_number(phone_number=first.phone_number).id == alpha.id
    assert first.twilio_sid == ""  # Nothing was bought.


@pytest.mark.parametrize("overrides", [{"IS_PRODUCTION": True}, {"SANDBOX_NUMBERS": False}])
def test_sandbox_numbers_are_refused_in_production(alpha, overrides):
    with override_settings(**overrides), tenant_context(alpha):
        with pytest.raises(PermissionDenied):
            phone_number_sandbox_assign()
        assert not PhoneNumber.objects.filter(phone_number__startswith=SANDBOX_PREFIX).exists()


def test_production_settings_refuse_sandbox_numbers():
    import subprocess
    import sys

    env = {
        "PATH": "/usr/bin:/bin",
        "APP_ENV": "production",
        "SANDBOX_NUMBERS": "true",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "SECRET_KEY": "x" * 50,
        "ADMIN_API_KEY": "admin",
        "INTERNAL_SERVICE_KEY": "internal",
        "DEBUG": "false",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import nevermisscall.settings"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SANDBOX_NUMBERS is only allowed outside APP_ENV=production" in result.stderr


def _readme_curls() -> list[tuple[str, dict]]:
    """The README's curl demo: (path, form fields) of each command."""
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    commands = []
    for line in readme.splitlines():
        if not line.startswith("curl -X POST localhost:8000"):
            continue
        words = shlex.split(line)
        path = words[3].removeprefix("localhost:8000")
        fields = {}
        for flag, value in zip(words[4::2], words[5::2], strict=False):
            assert flag in ("-d", "--data-urlencode"), flag
            key, _, val = value.partition("=")
            fields[key] = val
        commands.append((path, fields))
    return commands


@override_settings(TWILIO_VALIDATE_SIGNATURES=False)
def test_the_readme_curl_demo_reaches_a_sandbox_number(alpha, twilio, commit):
    commands = _readme_curls()
    assert [path for path, _ in commands] == [
        "/webhooks/twilio/call",
        "/webhooks/twilio/call/status/CAdemo1",
        "/webhooks/twilio/sms",
    ]
    assert {fields["To"] for _, fields in commands} == {"+15005550006"}  # The README's demo number...
    with tenant_context(alpha):
        number = phone_number_sandbox_assign().phone_number
    client = Client()
    for path, fields in commands:  # ...and the same commands with a signed-up business's sandbox number.
        with commit():
            response = client.post(path, {**fields, "To": number})
        assert response.status_code == 200, (path, response.content[:300])
    with tenant_context(alpha):
        call = Call.objects.get(call_sid="CAdemo1")
        assert call.to_number == number and call.status == Call.Status.MISSED
        assert Message.objects.filter(direction="inbound", body__startswith="My water heater").exists()
        assert Message.objects.filter(direction="outbound", to_number="+12125550123").exists()


def test_the_readme_names_sandbox_numbers():
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    assert re.search(r"sandbox number", readme)
