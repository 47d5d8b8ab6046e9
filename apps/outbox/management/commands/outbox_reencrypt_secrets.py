"""After putting a new key first in OUTBOX_ENCRYPTION_KEYS: re-encrypt every stored webhook secret
under it, so the old key can then be removed."""

from django.core.management.base import BaseCommand
from django.db import transaction

from apps.outbox.services import webhook_secrets_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt every stored webhook signing secret under the newest OUTBOX_ENCRYPTION_KEYS key."

    def handle(self, *args, **options):
        with transaction.atomic():
            count = webhook_secrets_reencrypt()
        self.stdout.write(f"Re-encrypted {count} webhook secret(s).")
