"""OpenAPI generation (drf-spectacular): the envelope, the error responses and the auth schemes.

Views return plain data and ``EnvelopeRenderer`` wraps it, so the schema has to say the same or
an integrator (or a fuzzer) reading it would expect the bare payload. Error responses are
documented in the shape the view's exception handler renders (seed 000's envelope, seed 001's or
seed 002's ``{"detail": …}``), for the statuses the operation can answer (``_error_statuses``).
"""

import copy
from dataclasses import dataclass

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

from nevermisscall.envelope import EnvelopeRenderer, envelope_exception_handler
from nevermisscall.seed001 import seed001_exception_handler
from nevermisscall.seed002 import seed002_exception_handler

ERROR_DESCRIPTIONS = {
    "400": "The request could not be read, or (seed 000) is not valid.",
    "401": "Missing, invalid or expired credentials.",
    "403": "Not allowed, or a header names another business than the credential's.",
    "404": "Not found, or not yours.",
    "409": "Conflicts with an existing resource.",
    "415": "The request body's media type is not accepted.",
    "422": "Not valid (seeds 001 and 002), or breaks a business rule.",
    "429": "Rate limit exceeded; see Retry-After.",
}

METADATA_SCHEMA = {
    "type": "object",
    "properties": {
        "timestamp": {"type": "string", "format": "date-time"},
        "request_id": {"type": "string"},
        "processing_time_ms": {"type": "number"},
        "total_count": {"type": "integer"},
        "page": {"type": "integer"},
        "limit": {"type": "integer"},
    },
    "required": ["timestamp", "request_id", "processing_time_ms"],
}
ERROR_ENVELOPE_SCHEMA = {
    "type": "object",
    "description": "Seed 000's error envelope; `error.code` is one of the codes in docs/api.md.",
    "properties": {
        "success": {"type": "boolean", "enum": [False]},
        "data": {"nullable": True},
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object", "nullable": True, "additionalProperties": True},
            },
            "required": ["code", "message", "details"],
        },
        "metadata": {"$ref": "#/components/schemas/ResponseMetadata"},
    },
    "required": ["success", "data", "error", "metadata"],
}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "One invalid input, FastAPI style.",
    "properties": {
        "loc": {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": {"type": "string"},
        "type": {"type": "string"},
    },
    "required": ["loc", "msg", "type"],
}
ERROR_DETAIL_SCHEMA = {
    "oneOf": [
        {"type": "string"},
        {"type": "array", "items": {"$ref": "#/components/schemas/ValidationErrorItem"}},
    ]
}
SEED001_ERROR_SCHEMA = {
    "type": "object",
    "description": "Seed 001's error: validation errors (422) list each invalid input in `detail`.",
    "properties": {
        "detail": ERROR_DETAIL_SCHEMA,
        "error_code": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "correlation_id": {"type": "string"},
    },
    "required": ["detail", "error_code", "timestamp", "correlation_id"],
}
SEED002_ERROR_SCHEMA = {
    "type": "object",
    "description": "Seed 002's error: validation errors (422) list each invalid input in `detail`.",
    "properties": {"detail": ERROR_DETAIL_SCHEMA},
    "required": ["detail"],
}


@dataclass(frozen=True)
class ErrorShape:
    """How a family's exception handler answers: its component and the status of invalid input."""

    components: dict
    component: str
    validation_status: str


ERROR_SHAPES = {
    envelope_exception_handler: ErrorShape(
        {"ResponseMetadata": METADATA_SCHEMA, "ErrorEnvelope": ERROR_ENVELOPE_SCHEMA}, "ErrorEnvelope", "400"
    ),
    seed001_exception_handler: ErrorShape(
        {"ValidationErrorItem": VALIDATION_ERROR_SCHEMA, "Seed001Error": SEED001_ERROR_SCHEMA}, "Seed001Error", "422"
    ),
    seed002_exception_handler: ErrorShape(
        {"ValidationErrorItem": VALIDATION_ERROR_SCHEMA, "Seed002Error": SEED002_ERROR_SCHEMA}, "Seed002Error", "422"
    ),
}


def _component(name: str, schema: dict) -> ResolvedComponent:
    # A copy: the generator's enum hook rewrites component schemas in place, and a module-level
    # dict rewritten by one generation would reach the next already pointing at an enum component
    # that the hook no longer creates.
    return ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=copy.deepcopy(schema), object=name)


def _error_statuses(path: str, method: str, operation: dict, validation_status: str) -> set[str]:
    """The error statuses an operation can answer, from what it takes.

    Every operation can be refused by authentication and by tenant resolution (a header naming
    another business); a body can be unreadable, of the wrong media type or name what does not
    exist; a path parameter can name what does not exist; query parameters can be invalid; a
    mutation can conflict or break a business rule.
    """
    located = {parameter["in"] for parameter in operation.get("parameters", [])}
    statuses = {"401", "403"}
    if not path.startswith(settings.RATE_LIMIT_EXEMPT_PREFIXES):
        statuses.add("429")
    if "requestBody" in operation:
        statuses |= {"400", "404", "415", validation_status}
    if "path" in located:
        statuses.add("404")
    if "query" in located:
        statuses.add(validation_status)
    if method in {"POST", "PUT", "PATCH", "DELETE"}:
        statuses |= {"409", "422"}
    return statuses


class EnvelopeAutoSchema(AutoSchema):
    def _uses_envelope(self) -> bool:
        return any(issubclass(renderer, EnvelopeRenderer) for renderer in self.view.renderer_classes)

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        shape = ERROR_SHAPES[self.view.get_exception_handler()]
        for name, schema in shape.components.items():
            self.registry.register_on_missing(_component(name, schema))
        content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{shape.component}"}}}
        statuses = _error_statuses(path, self.method, operation, shape.validation_status)
        for status in sorted(statuses):
            operation["responses"].setdefault(status, {"description": ERROR_DESCRIPTIONS[status], "content": content})
        return operation

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response" or not self._uses_envelope():
            return responses
        for code, body in responses.items():
            if not code.startswith("2"):
                continue
            for media in body.get("content", {}).values():
                media["schema"] = {
                    "type": "object",
                    "properties": {
                        "success": {"type": "boolean", "enum": [True]},
                        "data": media.get("schema", {}),
                        "error": {"nullable": True},
                        "metadata": {"$ref": "#/components/schemas/ResponseMetadata"},
                    },
                    "required": ["success", "data", "error", "metadata"],
                }
        return responses


class TenantJWTScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.TenantJWTAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class OwnerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.OwnerTokenAuthentication"
    name = "ownerToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Owner-Token"}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.tenants.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-Key"}


class AdminKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.tenants.admin_api.AdminKeyAuthentication"
    name = "adminApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Admin-API-Key"}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.BusinessSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


class ServiceKeyScheme(OpenApiAuthenticationExtension):
    target_class = "nevermisscall.service_auth.ServiceKeyAuthentication"
    name = "serviceKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "x-service-key"}


class WidgetTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.conversations.session_api.WidgetTokenAuthentication"
    name = "widgetToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Widget-Token"}
