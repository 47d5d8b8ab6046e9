"""Reads of businesses and their credentials."""

import hashlib

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
