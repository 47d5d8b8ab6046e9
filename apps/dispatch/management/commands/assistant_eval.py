"""``manage.py assistant_eval``: run the assistant's evaluation corpus (apps/dispatch/evals, docs/evals.md).

Against the configured database (the development one under ``make run``): the five eval businesses
are created once (a schema each) and re-configured from the corpus on every run; each scenario runs
in a transaction that is rolled back, so nothing else is left behind.
"""

import json
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from apps.dispatch.evals import report
from apps.dispatch.evals.businesses import business_ensure, pending_migrations, schema_migrate
from apps.dispatch.evals.corpus import CATEGORIES, CorpusError, load_corpus
from apps.dispatch.evals.runner import ENGINES, EvalRunner, TimeMachineMissing, run_all


class Command(BaseCommand):
    help = "Run the assistant's scripted customers through the real SMS path; pass rates per category."

    def create_parser(self, prog_name, subcommand, **kwargs):
        """``-v`` alone means ``-v 2``: every scenario as it finishes (failures with their transcript);
        ``-v 3`` shows the transcripts of the passing ones too; ``-v 0`` only the summary."""
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        for action in parser._actions:
            if "--verbosity" in action.option_strings:
                action.nargs, action.const = "?", 2
        return parser

    def add_arguments(self, parser):
        parser.add_argument("--engine", choices=ENGINES, default="rules", help="rules (offline) or openai (stand-in)")
        parser.add_argument("--category", choices=sorted(CATEGORIES), help="only this category")
        parser.add_argument("--scenario", help="only this scenario id (or id prefix)")
        parser.add_argument("--suite", action="store_true", help="only the scenarios marked suite: true")
        parser.add_argument("--json", dest="json_path", help="also write the results to this JSON file")

    def handle(self, *args, **options):
        if settings.APP_ENV == "production":
            raise CommandError("The evaluation creates businesses of its own; it does not run in production.")
        try:
            corpus = load_corpus()
        except CorpusError as exc:
            raise CommandError(f"The corpus is malformed: {exc}")
        scenarios = corpus.select(
            category=options["category"], scenario_id=options["scenario"], suite_only=options["suite"]
        )
        if not scenarios:
            raise CommandError("No scenario matches.")
        verbosity = options["verbosity"]
        try:
            shared_pending = pending_migrations("public")
        except DatabaseError as exc:
            raise CommandError(f"The database is not ready ({exc}); run `manage.py migrate_schemas` (make run does).")
        if shared_pending:
            self.stderr.write(
                f"Warning: {len(shared_pending)} migrations are not applied to the public schema of this database "
                f"({', '.join(shared_pending[:3])}…); run `manage.py migrate_schemas --shared` if scenarios crash."
            )
        businesses = {}
        for key in sorted({scenario.business for scenario in scenarios}):
            business, created = business_ensure(corpus.businesses[key])
            businesses[key] = business
            if created:
                self.stdout.write(f"Created eval business {business.name} (schema {business.schema_name}).")
            elif applied := schema_migrate(business):
                self.stdout.write(f"Migrated {business.schema_name}: {', '.join(applied)}.")
        database = settings.DATABASES["default"]["NAME"]
        self.stdout.write(
            f"Eval businesses ready in database {database!r}: {', '.join(b.name for b in businesses.values())}. "
            f"Running {len(scenarios)} scenarios with the {options['engine']} engine; each is rolled back."
        )

        def progress(result):
            if verbosity >= 2:
                self.stdout.write(report.render_result(result, transcript=verbosity >= 3 or not result.passed))
            elif verbosity == 1:
                sys.stderr.write("." if result.passed else "F")
                sys.stderr.flush()

        runner = EvalRunner(corpus=corpus, businesses=businesses, engine=options["engine"])
        try:
            results = run_all(runner, scenarios, progress=progress)
        except TimeMachineMissing as exc:
            raise CommandError(str(exc))
        if verbosity == 1:
            sys.stderr.write("\n")
        summary = report.summarize(results)
        failures = [result for result in results if not result.passed]
        if failures and verbosity >= 1:
            self.stdout.write("")
            for result in failures:
                if verbosity < 2:
                    self.stdout.write(report.render_result(result, transcript=True))
                    self.stdout.write("")
        self.stdout.write(report.render_summary(summary))
        if options["json_path"]:
            with open(options["json_path"], "w", encoding="utf-8") as handle:
                json.dump(
                    {
                        "summary": summary,
                        "results": [
                            {
                                "id": r.scenario.id,
                                "category": r.scenario.category,
                                "language": r.scenario.language,
                                "business": r.scenario.business,
                                "passed": r.passed,
                                "error": r.error,
                                "failed_checks": [{"name": c.name, "detail": c.detail} for c in r.failed_checks],
                                "reply_seconds": [round(t.seconds, 4) for t in r.turns],
                            }
                            for r in results
                        ],
                    },
                    handle,
                    indent=2,
                    default=str,
                )
