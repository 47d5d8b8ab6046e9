"""Tenant scale: sign-up clones the base schema; ``release`` migrates every business, one
transaction each, and a business whose migrations fail is rolled back whole, marked and answered
with maintenance. Never assumes these are the only businesses in the database."""

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import schema_context

from apps.accounts.models import User
from apps.accounts.tokens import token_pair_for
from apps.tenants.models import Business
from apps.tenants.release import release_run
from apps.tenants.schemas import (
    base_schema_ensure,
    base_schema_is_current,
    base_schema_name,
    code_migrations,
    fingerprint,
    schema_migrations,
)
from apps.tenants.services import business_register
from conftest import PASSWORD

REWOUND = ("business_config", "0003_hours_holidays_emergency_pricing")
REAPPLIED = {("business_config", "0004_referral_note"), ("business_config", "0005_disclose_automation")}


@pytest.fixture(scope="session")
def release_trio(people, django_db_blocker):
    """Three businesses of this module's own, committed once per session."""
    tag = uuid.uuid4().hex[:6]
    with django_db_blocker.unblock():
        created = [
            business_register(
                business_name=f"Release {letter} {tag}",
                owner_email=f"release-{letter}-{tag}@release.test",
                owner_password=PASSWORD,
                owner_name="Rel Ease",
                trade="plumbing",
                timezone_name="America/Chicago",
            )[0]
            for letter in "abc"
        ]
        connection.set_schema_to_public()
    return created


def _rewind(schema_name: str) -> None:
    with schema_context(schema_name):
        executor = MigrationExecutor(connection)
        executor.migrate([REWOUND])
        executor.loader.build_graph()


def test_signup_clones_a_current_schema_and_records_its_version(release_trio, db):
    business = Business.objects.get(pk=release_trio[0].pk)
    assert business.schema_version == fingerprint()
    assert code_migrations() <= schema_migrations(business.schema_name)
    assert base_schema_is_current()


def test_a_stale_base_schema_is_rebuilt_before_it_is_cloned(people, db):
    with connection.cursor() as cursor:  # Another checkout's (or an older release's) base.
        cursor.execute(f'DELETE FROM "{base_schema_name()}".django_migrations WHERE app = %s', ["business_config"])
    assert not base_schema_is_current()
    assert base_schema_ensure() is True
    assert base_schema_is_current()


def test_a_failing_migration_leaves_the_others_migrated_and_that_one_marked(release_trio, db, client):
    first, second, failing = (Business.objects.get(pk=b.pk) for b in release_trio)
    for business in (first, second, failing):
        _rewind(business.schema_name)
        assert not REAPPLIED & schema_migrations(business.schema_name)
    Business.objects.filter(pk__in=[first.pk, second.pk, failing.pk]).update(schema_version="")
    with connection.cursor() as cursor:  # The column 0004 adds already exists in this one schema.
        cursor.execute(
            f'ALTER TABLE "{failing.schema_name}".business_config_businessconfig '
            "ADD COLUMN referral_note varchar(300) NOT NULL DEFAULT ''"
        )

    report = release_run(
        schemas=[first.schema_name, second.schema_name, failing.schema_name], parallelism=1, public=False
    )

    assert not report.ok
    assert report.migrated == [first.schema_name, second.schema_name]
    assert list(report.failed) == [failing.schema_name]
    assert "referral_note" in report.failed[failing.schema_name]
    for business in (first, second):
        business.refresh_from_db()
        assert schema_migrations(business.schema_name) >= REAPPLIED
        assert business.schema_version == fingerprint() and business.migration_failed_at is None
    failing.refresh_from_db()
    assert failing.migration_failed_at is not None and "referral_note" in failing.migration_error
    assert failing.schema_version == ""
    assert not REAPPLIED & schema_migrations(failing.schema_name)  # Rolled back whole, 0005 included.

    # Served a maintenance answer: Twilio gets empty TwiML, the API a 503 in its error shape.
    answer = client.post(f"/webhooks/twilio/call?business_id={failing.id}", {"CallSid": "CA" + "1" * 32})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/xml")
    assert b"<Response></Response>" in answer.content
    owner = User.objects.get(business=failing)
    api = client.get(f"/tenants/{failing.id}", HTTP_AUTHORIZATION=f"Bearer {token_pair_for(owner)['access_token']}")
    assert api.status_code == 503 and api["Retry-After"]
    body = api.json()  # Seed 000's envelope, as every refusal on that family.
    assert body["success"] is False and "upgraded" in body["error"]["message"]

    # The next release, once the cause is gone, migrates it and lifts the maintenance.
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{failing.schema_name}".business_config_businessconfig DROP COLUMN referral_note')
    again = release_run(
        schemas=[first.schema_name, second.schema_name, failing.schema_name], parallelism=1, public=False
    )
    assert again.ok and again.migrated == [failing.schema_name] and again.up_to_date == 2
    failing.refresh_from_db()
    assert failing.migration_failed_at is None and failing.schema_version == fingerprint()


def test_a_noop_release_visits_no_business(release_trio, db):
    report = release_run(schemas=[b.schema_name for b in release_trio], parallelism=1, public=False)
    assert report.ok and report.migrated == [] and report.up_to_date == 3


def test_stale_catalog_statistics_are_analyzed_before_a_clone(db):
    """A burst of sign-ups outruns autovacuum: the catalogs clone_schema plans on are analyzed first."""
    from django.db import connection

    from apps.tenants.schemas import catalog_statistics_refresh

    with connection.cursor() as cursor:
        for index in range(120):  # Rows in pg_class, pg_attribute, pg_type, pg_depend; committed by no one.
            cursor.execute(f"CREATE TABLE public.stats_probe_{index} (id int)")
    catalog_statistics_refresh()
    assert catalog_statistics_refresh() == []  # Just analyzed: nothing stale any more.
