"""Writes on businesses: registration (schema + owner + settings), updates, onboarding, credentials."""

import re
import secrets
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from apps.accounts.models import Role
from apps.accounts.services import split_name, user_create
from apps.tenants.config.services import config_ensure_defaults, config_update
from apps.tenants.models import ApiCredential, Business, Domain
from apps.tenants.selectors import business_cache_clear, hash_secret, onboarding_checklist

ONBOARDING_STEPS = (
    "business_details",
    "business_hours",
    "service_area",
    "job_estimates",
    "greeting",
    "ai_settings",
    "phone_number",
    "test_call",  # Done when a call to the number was seen, or skipped explicitly (selectors.onboarding_checklist).
)
# Argon2 takes 0.2-0.5 s of CPU and releases the GIL: a sign-up hashes the owner's password here
# while PostgreSQL clones the schema, instead of one after the other.
_PASSWORD_HASHING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="password-hash")
SECRET_PREFIXES = {ApiCredential.Kind.API_KEY: "nmc_", ApiCredential.Kind.WIDGET_TOKEN: "nmcw_"}


def _unique_slug(name: str) -> str:
    base = (slugify(name) or "business")[:40].strip("-") or "business"
    slug, counter = base, 2
    # A schema left by a deleted business (or a flushed test run) keeps its name taken too.
    while Business.objects.filter(slug=slug).exists() or schema_exists(_schema_name(slug)):
        slug = f"{base}-{counter}"
        counter += 1
    return slug


def _schema_name(slug: str) -> str:
    return "t_" + re.sub(r"[^a-z0-9_]", "_", slug)[:60]


def business_register(
    *,
    business_name: str,
    owner_email: str,
    owner_password: str,
    owner_name: str,
    trade: str,
    timezone_name: str,
    phone: str = "",
    is_demo: bool = False,
    language: str = "en",
):
    """Create the business, its schema (with migrations), default settings and its owner, atomically.

    Runs in the public schema whatever the caller's tenant (a signed-in owner may register another).
    """
    with schema_context(get_public_schema_name()), transaction.atomic():
        return _business_register(
            business_name=business_name,
            owner_email=owner_email,
            owner_password=owner_password,
            owner_name=owner_name,
            trade=trade,
            timezone_name=timezone_name,
            phone=phone,
            is_demo=is_demo,
            language=language,
        )


def _business_register(
    *, business_name, owner_email, owner_password, owner_name, trade, timezone_name, phone, is_demo, language
):
    slug = _unique_slug(business_name)
    business = Business(
        name=business_name.strip(),
        slug=slug,
        schema_name=_schema_name(slug),
        trade=trade,
        timezone=timezone_name,
        phone=phone,
        email=owner_email.strip().lower(),
        is_demo=is_demo,
    )
    first_name, last_name = split_name(owner_name)
    # The owner is validated (password rules, unique email) before the schema is built.
    password_hash = _PASSWORD_HASHING.submit(make_password, owner_password)
    owner = user_create(
        email=owner_email,
        password=owner_password,
        business=None,
        role=Role.OWNER,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        timezone_name=timezone_name,
        language=language,
        hash_password=False,
    )
    business.save(verbosity=0)  # auto_create_schema: CREATE SCHEMA and migrations, inside this transaction.
    owner.business = business
    owner.password = password_hash.result()
    owner.save(update_fields=["business", "password"])
    Domain.objects.create(domain=f"{slug}.{settings.TENANT_BASE_DOMAIN}", tenant=business, is_primary=True)
    with schema_context(business.schema_name):
        config = config_ensure_defaults(business=business)
        if language != config.language:
            config_update(business=business, data={"language": language})
    return business, owner


BUSINESS_FIELDS = ("name", "trade", "timezone", "phone", "email", "website")


@transaction.atomic
def business_update(*, business: Business, data: dict) -> Business:
    changed = [name for name in BUSINESS_FIELDS if name in data and getattr(business, name) != data[name]]
    for name in changed:
        setattr(business, name, data[name])
    if changed:
        business.save(update_fields=[*changed, "updated_at"])
        business_cache_clear(business)
    return business


@transaction.atomic
def business_onboarding_update(*, business: Business, step: str, data: dict, completed: bool) -> Business:
    """Save one onboarding step: its settings go through the config validation, then progress moves on."""
    business_fields = {name: data[name] for name in BUSINESS_FIELDS if name in data}
    if business_fields:
        business_update(business=business, data=business_fields)
    config_fields = {name: value for name, value in data.items() if name not in BUSINESS_FIELDS}
    if "timezone" in data:
        config_fields["timezone"] = data["timezone"]
    if config_fields:
        with schema_context(business.schema_name):
            config_update(business=business, data=config_fields)
    done = list(business.onboarding_completed_steps or [])
    if completed and step not in done:
        done.append(step)
    return _onboarding_progress_save(business=business, done=done)


def _onboarding_progress_save(*, business: Business, done: list[str]) -> Business:
    """Move the wizard on; the business is "all set" only when every step is done and the checklist
    (number, forwarding, hours, test call) is true, never merely because the forms were saved."""
    business.onboarding_completed_steps = done
    remaining = [name for name in ONBOARDING_STEPS if name not in done]
    business.onboarding_step = remaining[0] if remaining else "done"
    if not remaining and business.onboarding_completed_at is None and onboarding_checklist(business=business).all_set:
        business.onboarding_completed_at = timezone.now()
    business.save(update_fields=["onboarding_completed_steps", "onboarding_step", "onboarding_completed_at"])
    business_cache_clear(business)
    return business


@transaction.atomic
def business_onboarding_finish(*, business: Business, skip_test_call: bool = False) -> Business:
    """The wizard's last step: the test call is done when a call to the number was seen, or when the
    owner skips it explicitly; the business is then all set if the rest of the checklist is true."""
    done = list(business.onboarding_completed_steps or [])
    checklist = onboarding_checklist(business=business)
    if (skip_test_call or checklist.test_call_seen) and "test_call" not in done:
        done.append("test_call")
    return _onboarding_progress_save(business=business, done=done)


def _new_secret(kind: str) -> str:
    return SECRET_PREFIXES[kind] + secrets.token_urlsafe(32)


def credential_create(*, business: Business, kind: str, name: str, created_by=None) -> tuple[ApiCredential, str]:
    """A new API key or widget token. The secret is returned once and only its digest is stored."""
    secret = _new_secret(kind)
    credential = ApiCredential.objects.create(
        business=business,
        kind=kind,
        name=name,
        prefix=secret[:12],
        secret_hash=hash_secret(secret),
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )
    return credential, secret


@transaction.atomic
def credential_rotate(*, credential: ApiCredential, rotated_by=None) -> tuple[ApiCredential, str]:
    """Revoke ``credential`` and issue its replacement under the same name."""
    locked = ApiCredential.objects.select_for_update().get(pk=credential.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
    return credential_create(business=locked.business, kind=locked.kind, name=locked.name, created_by=rotated_by)


def credential_revoke(*, credential: ApiCredential) -> ApiCredential:
    ApiCredential.objects.filter(pk=credential.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    credential.refresh_from_db()
    return credential
