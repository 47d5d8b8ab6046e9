"""The release step (Procfile ``release``): public schema, base schema, then every business."""

from django.core.management.base import BaseCommand, CommandError

from apps.tenants.release import release_run


class Command(BaseCommand):
    help = (
        "Migrate the public schema, the base schema new businesses are cloned from, and every business "
        "not yet on this code's migrations, PARALLELISM at a time; stop at the first failure."
    )

    def add_arguments(self, parser):
        parser.add_argument("--parallelism", type=int, default=None, help="Businesses migrated at once")
        parser.add_argument("--schema", action="append", dest="schemas", help="Only these business schemas")
        parser.add_argument("--skip-public", action="store_true", help="Do not migrate the public schema")

    def handle(self, *args, **options):
        report = release_run(
            parallelism=options["parallelism"], schemas=options["schemas"], public=not options["skip_public"]
        )
        self.stdout.write(
            f"release {report.version}: {len(report.migrated)} migrated, {report.up_to_date} already current, "
            f"{len(report.failed)} failed, {len(report.not_started)} not started"
            f"{', base schema rebuilt' if report.base_rebuilt else ''} in {report.seconds:.1f} s"
        )
        if report.failed:
            for schema_name, error in report.failed.items():
                self.stderr.write(f"FAILED {schema_name} (rolled back, now in maintenance): {error}")
            if report.not_started:
                self.stderr.write(
                    f"Not started, still on their previous version: {', '.join(report.not_started[:50])}"
                    + (" …" if len(report.not_started) > 50 else "")
                )
            raise CommandError("release stopped at the first failure; fix it and run release again")
