"""Reads of businesses and their credentials."""

import hashlib
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from apps.tenants.models import ApiCredential, Business, Domain
from nevermisscall.cache import cached, invalidate
from nevermisscall.ids import parse_uuid

BUSINESS_CACHE_SECONDS = 60
_NONE = "none"


def business_cache_key(business_id) -> str:
    return f"business:{business_id}"


def domain_cache_key(domain: str) -> str:
    return f"domain:{domain}"


def business_get(*, business_id) -> Business | None:
    """A tenant business by id; None for unknown or malformed ids and for the public schema."""
    pk = parse_uuid(business_id)
    if pk is None:
        return None
    return Business.objects.exclude(schema_name="public").filter(pk=pk).first()


def business_get_cached(*, business_id) -> Business | None:
    """``business_get``, cached briefly: tenant resolution runs on every request."""
    pk = parse_uuid(business_id)
    if pk is None:
        return None
    value = cached(
        business_cache_key(pk), BUSINESS_CACHE_SECONDS, lambda: business_get(business_id=pk) or _NONE, "platform"
    )
    return None if value == _NONE else value


def business_get_by_domain(*, domain: str) -> Business | None:
    def load():
        found = Domain.objects.select_related("tenant").filter(domain=domain).first()
        if found is None or found.tenant.schema_name == "public":
            return _NONE
        return found.tenant

    value = cached(domain_cache_key(domain), BUSINESS_CACHE_SECONDS, load, "platform")
    return None if value == _NONE else value


def business_cache_clear(business: Business) -> None:
    keys = [business_cache_key(business.pk), *(domain_cache_key(d.domain) for d in business.domains.all())]
    invalidate(*keys, alias="platform")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def credential_get_by_secret(*, secret: str, kind: str) -> ApiCredential | None:
    credential = (
        ApiCredential.objects.select_related("business")
        .filter(secret_hash=hash_secret(secret), kind=kind, revoked_at__isnull=True)
        .exclude(business__schema_name="public")
        .first()
    )
    if credential is not None:
        stale = timezone.now() - timezone.timedelta(minutes=5)
        if credential.last_used_at is None or credential.last_used_at < stale:
            ApiCredential.objects.filter(pk=credential.pk).update(last_used_at=timezone.now())
    return credential


def credential_list(*, business: Business, kind: str | None = None) -> QuerySet[ApiCredential]:
    queryset = ApiCredential.objects.filter(business=business)
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset.order_by("-created_at")


@dataclass(frozen=True)
class OnboardingChecklist:
    """What "all set" means: a number that rings, a phone it forwards to, hours the owner saved, and
    a test call seen by the system (or skipped explicitly, which the checklist says)."""

    number: str  # the business number, "" when none
    forwarding_number: str
    hours_set: bool
    test_call_seen: bool
    test_call_skipped: bool

    @property
    def test_call_done(self) -> bool:
        return self.test_call_seen or self.test_call_skipped

    @property
    def all_set(self) -> bool:
        return bool(self.number and self.forwarding_number and self.hours_set and self.test_call_done)


def onboarding_checklist(*, business: Business) -> OnboardingChecklist:
    from django_tenants.utils import schema_context

    from apps.telephony.models import Call, PhoneNumber
    from apps.tenants.config.models import BusinessConfig

    done = set(business.onboarding_completed_steps or [])
    with schema_context(business.schema_name):
        numbers = PhoneNumber.objects.filter(status=PhoneNumber.Status.ACTIVE).order_by("-is_primary", "created_at")
        number = numbers.values_list("phone_number", flat=True).first() or ""
        config = BusinessConfig.objects.filter(pk=1).first()
        seen = (
            bool(number)
            and Call.objects.filter(to_number__in=list(numbers.values_list("phone_number", flat=True))).exists()
        )
    return OnboardingChecklist(
        number=number,
        forwarding_number=config.forwarding_number if config else "",
        hours_set="business_hours" in done,
        test_call_seen=seen,
        test_call_skipped="test_call" in done and not seen,
    )
