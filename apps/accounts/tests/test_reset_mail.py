"""The attack: read a live password-reset link out of the log, or have one mailed pointing at a
forged Host. Production refuses to start without a real e-mail backend (or runs with mail disabled
and says so), no reset link is ever printed, and the link comes from ``PUBLIC_BASE_URL``."""

import logging
import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core import mail
from django.test import Client, override_settings

from apps.outbox.channels import PermanentError
from apps.outbox.channels import email as email_channel

pytestmark = pytest.mark.django_db

PUBLIC = "https://app.nevermisscall.example"
DISABLED = {"EMAIL_DISABLED": True, "EMAIL_BACKEND": "nevermisscall.mail.DisabledEmailBackend"}


@override_settings(PUBLIC_BASE_URL=PUBLIC)
def test_the_reset_link_is_built_from_public_base_url_not_the_host(alice, alpha):
    forged_host = alpha.domains.first().domain  # Allowed (a business's own domain), but not ours to mail.
    response = Client().post("/password-reset/", {"email": alice.email}, HTTP_HOST=forged_host)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert f"{PUBLIC}/reset/" in body
    assert forged_host not in body and forged_host not in mail.outbox[0].subject


@override_settings(**DISABLED)
def test_with_mail_disabled_no_reset_link_is_sent_or_logged(alice, caplog, capfd):
    with caplog.at_level(logging.DEBUG):
        response = Client().post("/password-reset/", {"email": alice.email})
    assert response.status_code == 302
    assert mail.outbox == []
    captured = capfd.readouterr()
    output = caplog.text + captured.out + captured.err
    assert "/reset/" not in output and alice.email not in output
    assert "e-mail is disabled" in caplog.text


@override_settings(**DISABLED)
def test_health_detailed_reports_mail_disabled(client):
    check = client.get("/health/detailed").json()["checks"]["mail"]
    assert check["status"] == "degraded"
    assert "e-mail is disabled" in check["message"] and check["details"] == {"backend": "disabled"}


def test_health_detailed_names_a_configured_backend(client):
    assert client.get("/health/detailed").json()["checks"]["mail"]["status"] == "healthy"


@override_settings(**DISABLED)
def test_outbox_e_mail_fails_permanently_when_mail_is_disabled():
    with pytest.raises(PermanentError) as raised:
        email_channel.send(object())  # Refused before anything is rendered.
    assert raised.value.code == "email_disabled"


def _import_production_settings(**extra):
    env = {
        "PATH": os.environ["PATH"],
        "APP_ENV": "production",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "SECRET_KEY": "x" * 50,
        "ADMIN_API_KEY": "admin",
        "INTERNAL_SERVICE_KEY": "internal",
        "OUTBOX_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DEBUG": "false",
        **extra,
    }
    return subprocess.run(
        [sys.executable, "-c", "import nevermisscall.settings as s; print(s.EMAIL_BACKEND)"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "extra,refusal",
    [
        ({}, "APP_ENV=production needs a real e-mail backend: set EMAIL_URL"),
        ({"EMAIL_URL": "consolemail://"}, "refuses the django.core.mail.backends.console.EmailBackend"),
        ({"EMAIL_URL": "smtp://mail.example:25", "EMAIL_DISABLED": "true"}, "not both"),
    ],
)
def test_production_refuses_to_start_without_a_real_e_mail_backend(extra, refusal):
    result = _import_production_settings(**extra)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and refusal in result.stderr, result.stderr[-800:]


@pytest.mark.parametrize(
    "extra,backend",
    [
        ({"EMAIL_URL": "smtp+tls://user:pass@mail.example:587"}, "django.core.mail.backends.smtp.EmailBackend"),
        ({"EMAIL_DISABLED": "true"}, "nevermisscall.mail.DisabledEmailBackend"),
    ],
)
def test_production_starts_with_smtp_or_mail_explicitly_disabled(extra, backend):
    result = _import_production_settings(**extra)
    assert result.returncode == 0, result.stderr[-800:]
    assert result.stdout.strip() == backend
