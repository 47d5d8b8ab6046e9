"""The evaluation's five businesses, made once (a schema each, through django-tenants) and then
brought back to the corpus's configuration on every run. Idempotent: a business is found by its
owner's e-mail; its settings, number and forwarding number are rewritten from businesses.yaml."""

import secrets

from django.db import connection, transaction
from django_tenants.utils import schema_context, tenant_context

from apps.accounts.models import User
from apps.dispatch.evals.corpus import BusinessSpec
from apps.telephony.phone_numbers import phone_number_assign
from apps.tenants.config.serializers import BusinessConfigSerializer
from apps.tenants.config.services import config_update
from apps.tenants.models import Business
from apps.tenants.selectors import business_cache_clear
from apps.tenants.services import business_register


def owner_email(spec: BusinessSpec) -> str:
    return f"owner@{spec.slug}.evals.nevermisscall.test"


def business_find(spec: BusinessSpec) -> Business | None:
    with schema_context("public"):
        owner = User.objects.select_related("business").filter(email=owner_email(spec)).first()
        return owner.business if owner and owner.business_id else None


def business_ensure(spec: BusinessSpec) -> tuple[Business, bool]:
    """The business for ``spec`` (created if missing), configured as the corpus says. Commits."""
    created = False
    business = business_find(spec)
    if business is None:
        business, _owner = business_register(
            business_name=spec.name,
            owner_email=owner_email(spec),
            owner_password=secrets.token_urlsafe(24) + "-Aa1",
            owner_name="Eval Owner",
            trade=spec.trade,
            timezone_name=spec.timezone,
            phone=spec.number,
        )
        created = True
    with schema_context("public"), transaction.atomic():
        changed = []
        for name, value in (("timezone", spec.timezone), ("trade", spec.trade), ("phone", spec.number)):
            if getattr(business, name) != value:
                setattr(business, name, value)
                changed.append(name)
        if changed:
            business.save(update_fields=[*changed, "updated_at"])
            business_cache_clear(business)
    serializer = BusinessConfigSerializer(data=spec.product_config())
    if not serializer.is_valid():
        raise ValueError(f"businesses.yaml: {spec.key}'s settings are refused by the config API: {serializer.errors}")
    with tenant_context(business), transaction.atomic():
        config_update(business=business, data=serializer.validated_data)
        phone_number_assign(phone_number=spec.number, twilio_sid="PN" + spec.slug.replace("-", "")[:32])
    connection.set_schema_to_public()
    return business, created


def pending_migrations(schema_name: str) -> list[str]:
    """The migrations not yet applied in ``schema_name`` (``app.name``)."""
    from django.db.migrations.executor import MigrationExecutor

    with schema_context(schema_name):
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    connection.set_schema_to_public()
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def schema_migrate(business: Business) -> list[str]:
    """Bring an eval business's own schema up to the code's migrations (a schema made by an older
    checkout); returns what was applied. Never touches another schema."""
    from django.core.management import call_command

    pending = pending_migrations(business.schema_name)
    if pending:
        call_command("migrate_schemas", schema_name=business.schema_name, interactive=False, verbosity=0)
    return pending


def businesses_ensure(specs: dict[str, BusinessSpec], keys=None) -> dict[str, Business]:
    """``{key: Business}`` for the specs named by ``keys`` (all by default)."""
    return {key: business_ensure(spec)[0] for key, spec in specs.items() if keys is None or key in keys}
