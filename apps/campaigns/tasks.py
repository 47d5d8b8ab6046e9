"""The beat's campaign tasks: one fan-out per kind finds the businesses with something due in one
statement and sends one task per business; each is safe to run twice (``CampaignMessage`` is
unique per kind and subject)."""

import logging

from django.utils import timezone
from django_tenants.utils import schema_context

from apps.campaigns import selectors, services
from apps.campaigns.models import CampaignRun
from apps.tenants.models import Business
from nevermisscall import after_commit
from nevermisscall.celery import app

logger = logging.getLogger(__name__)

# Schemas per fan-out statement: a UNION ALL of this many EXISTS probes.
FAN_OUT_CHUNK = 200


def businesses_due(*, kind: str, now=None) -> list[str]:
    """The schemas of the active businesses with anything ``kind`` would send now."""
    now = now or timezone.now()
    with schema_context("public"):
        schemas = list(
            Business.objects.exclude(schema_name="public")
            .filter(status=Business.Status.ACTIVE)
            .order_by("schema_name")
            .values_list("schema_name", flat=True)
        )
        due = []
        for start in range(0, len(schemas), FAN_OUT_CHUNK):
            due += selectors.schemas_with_due(kind=kind, schemas=schemas[start : start + FAN_OUT_CHUNK], now=now)
    return due


@app.task(name="campaigns.fan_out", ignore_result=True)
def fan_out(kind: str) -> list[str]:
    """Beat: one ``campaigns.run_business`` per business with ``kind`` due."""
    due = businesses_due(kind=kind)
    for schema in due:
        after_commit.publish_now(run_business, [kind], schema=schema)
    if due:
        logger.info("campaign %s due in %d businesses", kind, len(due))
    return due


@app.task(name="campaigns.run_business", acks_late=True, ignore_result=True)
def run_business(*kinds: str) -> None:
    """Run each campaign in ``kinds`` in the task's business (its schema header switched to it)."""
    for kind in dict.fromkeys(kinds):
        services.campaign_run(kind=kind, trigger=CampaignRun.Trigger.BEAT)
