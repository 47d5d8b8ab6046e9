"""OpenAPI generation (drf-spectacular): the envelope, the error responses and the auth schemes.

Views return plain data and ``EnvelopeRenderer`` wraps it, so the schema has to say the same or
an integrator (or a fuzzer) reading it would expect the bare payload.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

from nevermisscall.envelope import EnvelopeRenderer

ERROR_RESPONSES = {
    "400": "The request is not valid (VALIDATION_FAILED, REQUIRED_FIELD_MISSING, INVALID_FORMAT).",
    "401": "Missing, invalid or expired credentials (AUTH_TOKEN_INVALID, AUTH_TOKEN_EXPIRED).",
    "403": "Not allowed (AUTH_INSUFFICIENT_PERMISSIONS).",
    "404": "Not found, or not yours (RESOURCE_NOT_FOUND).",
    "409": "Conflicts with an existing resource (RESOURCE_ALREADY_EXISTS).",
    "429": "Rate limit exceeded (RATE_LIMIT_EXCEEDED); see Retry-After.",
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


def _component(name: str, schema: dict) -> ResolvedComponent:
    return ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name)


class EnvelopeAutoSchema(AutoSchema):
    def _uses_envelope(self) -> bool:
        return any(issubclass(renderer, EnvelopeRenderer) for renderer in self.view.renderer_classes)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response" or not self._uses_envelope():
            return responses
        self.registry.register_on_missing(_component("ResponseMetadata", METADATA_SCHEMA))
        self.registry.register_on_missing(_component("ErrorEnvelope", ERROR_ENVELOPE_SCHEMA))
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
        error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
        for code, description in ERROR_RESPONSES.items():
            responses.setdefault(code, {"description": description, "content": error_content})
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
