"""Resolve the tenant of each request from exactly one trusted source, before the view runs.

The sources are the functions listed in ``settings.TENANT_RESOLVERS``, tried in order. Each looks
at one credential: it returns ``None`` when its credential is absent (the next source is tried),
``UNRESOLVED`` when the credential is present but names no active business (the request stays in
the public schema and authentication will refuse it), or the ``Business``. A header naming a
tenant (``X-Tenant-ID`` / ``X-Business-ID``) must agree with the resolved one, or the answer is 403
(in the error shape of the family the path belongs to: ``nevermisscall.refusals``).
"""

from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.utils.module_loading import import_string
from rest_framework.exceptions import APIException, PermissionDenied

from nevermisscall import webhook_stats
from nevermisscall.refusals import refusal_response
from nevermisscall.tenancy.resolvers import TWILIO_WEBHOOK_PREFIXES, UNRESOLVED

TENANT_HEADERS = ("X-Tenant-ID", "X-Business-ID")
# What Twilio gets for a business that is suspended or in maintenance: a valid, empty answer, so the
# call ends quietly, nothing is recorded and nothing is sent (no retries, no error alerts).
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAINTENANCE_RETRY_AFTER = "300"


class UnderMaintenance(APIException):
    status_code = 503
    default_detail = "This business is being upgraded; try again in a few minutes."
    default_code = "maintenance"


def _names_tenant(value: str, tenant) -> bool:
    return tenant is not None and value in {str(tenant.id), tenant.schema_name, tenant.slug}


class TenantResolutionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.resolvers = [(path.rsplit(".", 1)[-1], import_string(path)) for path in settings.TENANT_RESOLVERS]

    def resolve(self, request):
        for name, resolver in self.resolvers:
            result = resolver(request)
            if result is None:
                continue
            return (None if result is UNRESOLVED else result), name
        return None, None

    def __call__(self, request):
        connection.set_schema_to_public()
        if request.path.startswith(settings.TENANT_RESOLUTION_EXEMPT_PREFIXES):
            request.tenant, request.tenant_source = None, None  # Probes and assets belong to no business.
            return self.get_response(request)
        tenant, source = self.resolve(request)
        request.tenant = tenant
        request.tenant_source = source
        for header in TENANT_HEADERS:
            named = request.headers.get(header)
            if named is not None and not _names_tenant(named.strip(), tenant):
                return refusal_response(
                    request, PermissionDenied(f"{header} does not match the business of the credential.")
                )
        if tenant is not None:
            in_maintenance = getattr(tenant, "in_maintenance", False)
            if tenant.status != tenant.Status.ACTIVE or in_maintenance:
                if request.path.startswith(TWILIO_WEBHOOK_PREFIXES):
                    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
                if tenant.status != tenant.Status.ACTIVE:
                    return refusal_response(request, PermissionDenied("This business is suspended."))
                return refusal_response(request, UnderMaintenance(), headers={"Retry-After": MAINTENANCE_RETRY_AFTER})
            connection.set_tenant(tenant)
        try:
            response = self.get_response(request)
        finally:
            connection.set_schema_to_public()
        if request.path.startswith(TWILIO_WEBHOOK_PREFIXES):
            webhook_stats.record(tenant.pk if tenant is not None else None, response.status_code)
        return response
