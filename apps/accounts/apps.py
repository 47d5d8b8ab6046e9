import logging

from django.apps import AppConfig
from django.conf import settings


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    verbose_name = "Accounts"

    def ready(self):
        from nevermisscall import openapi  # noqa: F401  (registers the auth schemes with drf-spectacular)

        if settings.EMAIL_DISABLED:  # Said at start-up by every process (web, worker, beat, manage.py).
            from nevermisscall.mail import DISABLED_MESSAGE

            logging.getLogger("nevermisscall.mail").warning(DISABLED_MESSAGE)
