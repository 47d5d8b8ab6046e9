"""The assistant turn's settings, kept per process and version (``config_of_version``): read only
for a version this process has not seen, never another business's, and any write is a new version."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.tenants.config.models import BusinessConfig
from apps.tenants.config.selectors import config_digest_sql, config_of_version
from apps.tenants.config.services import config_update

pytestmark = pytest.mark.django_db


def digest() -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {config_digest_sql()}")
        return cursor.fetchone()[0]


def read(expected_queries: int) -> BusinessConfig:
    with CaptureQueriesContext(connection) as queries:
        config = config_of_version(digest=digest())
    statements = [query["sql"] for query in queries.captured_queries if not query["sql"].startswith("SET ")]
    assert len(statements) == 1 + expected_queries  # The digest's own statement, and the read.
    return config


def test_a_version_seen_before_is_not_read_again(alpha):
    with tenant_context(alpha):
        config_update(business=alpha, data={"pricing_note": "Trip fee included."})
        assert read(expected_queries=1).pricing_note == "Trip fee included."
        assert read(expected_queries=0).pricing_note == "Trip fee included."


def test_every_write_is_a_new_version(alpha):
    with tenant_context(alpha):
        read(expected_queries=1)
        # A write that bypasses the model (no save, no updated timestamp) is seen all the same.
        BusinessConfig.objects.filter(pk=1).update(ai_settings={"enabled": False})
        assert read(expected_queries=1).ai_settings == {"enabled": False}
        config_update(business=alpha, data={"ai_settings": {"enabled": True}})
        assert read(expected_queries=1).ai_settings["enabled"] is True
        assert read(expected_queries=0).ai_settings["enabled"] is True


def test_each_business_gets_its_own_even_when_the_settings_are_the_same(alpha, beta):
    for business, note in ((alpha, "Alpha's note"), (beta, "Beta's note")):
        with tenant_context(business):
            config_update(business=business, data={"pricing_note": note})
            read(expected_queries=1)
    for business, note in ((alpha, "Alpha's note"), (beta, "Beta's note")):
        with tenant_context(business):
            assert read(expected_queries=0).pricing_note == note
    with tenant_context(alpha):
        config_update(business=alpha, data={"pricing_note": "Beta's note"})
        same_as_beta = read(expected_queries=1)
    assert same_as_beta.pricing_note == "Beta's note"
    with tenant_context(beta):
        assert read(expected_queries=0).pricing_note == "Beta's note"


def test_each_caller_gets_its_own_copy(alpha):
    with tenant_context(alpha):
        first = read(expected_queries=1)
        first.ai_settings["enabled"] = False
        first.business_hours["monday"] = {"closed": True}
        again = read(expected_queries=0)
        assert again.ai_settings.get("enabled", True) is True
        assert again.business_hours["monday"] != {"closed": True}


def test_without_a_settings_row_the_defaults_are_created(alpha):
    with tenant_context(alpha):
        BusinessConfig.objects.all().delete()
        assert digest() is None
        config = config_of_version(digest=None)
        assert BusinessConfig.objects.filter(pk=1).exists()
        assert config.pk == 1
