"""``manage.py campaign_run <kind> [--business SLUG] [--hours-ahead N]``: run one campaign now, in
one business or in every active business with something due, with a progress bar."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from apps.campaigns import services
from apps.campaigns.models import CampaignRun, Kind
from apps.campaigns.tasks import businesses_due
from apps.tenants.models import Business


class Command(BaseCommand):
    help = "Run a campaign (reminder, followup, retention, review) now, with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=Kind.values)
        parser.add_argument("--business", help="The business's slug (default: every business with something due)")
        parser.add_argument("--hours-ahead", type=int, default=None, help="Reminders: the window in hours")

    def handle(self, *args, kind, business=None, hours_ahead=None, **options):
        if hours_ahead is not None and not 1 <= hours_ahead <= 168:
            raise CommandError("--hours-ahead must be between 1 and 168.")
        if business:
            found = Business.objects.filter(slug=business).first()
            if found is None:
                raise CommandError(f"No business {business!r}.")
            targets = [found]
        else:
            targets = list(Business.objects.filter(schema_name__in=businesses_due(kind=kind)))
        for target in targets:
            with tenant_context(target):
                run = services.campaign_run(
                    kind=kind,
                    trigger=CampaignRun.Trigger.COMMAND,
                    hours=hours_ahead,
                    progress=self._bar(target.name),
                )
            self.stdout.write(
                f"\n{target.name}: {run.selected} selected, {run.sent} sent, {run.skipped} skipped "
                f"{run.skipped_reasons or ''}, {run.failed} failed"
            )
        if not targets:
            self.stdout.write(f"No business has a {kind} due.")

    def _bar(self, label: str, width: int = 30):
        stream = self.stdout

        def progress(done: int, total: int) -> None:
            filled = int(width * done / total) if total else width
            stream.write(f"\r{label[:30]:<30} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending="")
            if hasattr(sys.stdout, "flush"):
                stream.flush()

        return progress
