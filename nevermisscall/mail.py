"""E-mail when a deployment runs without it (``EMAIL_DISABLED``): nothing is sent and nothing is printed.

Production refuses to start with the console or file backend (settings): they would write every
message body, password-reset links included, to the log. A deployment that chooses to run without
mail says so with ``EMAIL_DISABLED=true``; then this backend drops each message, logging only that
it did, never a recipient, subject or body, and ``/health/detailed`` reports ``mail`` as disabled.
"""

import logging

from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)

DISABLED_MESSAGE = "e-mail is disabled (EMAIL_DISABLED): password resets and e-mail notifications are not sent"


class DisabledEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        count = len(list(email_messages or []))
        if count:
            logger.warning("%s; dropped %d message(s)", DISABLED_MESSAGE, count)
        return 0
