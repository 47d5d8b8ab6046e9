"""Seed 000's error codes, and the domain exceptions services raise to produce them.

Services, selectors, tasks and the engine raise only these plain exceptions (never DRF's): they
run from Celery, management commands and dashboard pages as well as from the API. Each knows its
code and HTTP status; ``nevermisscall.envelope.as_api_exception`` is the one place that turns them
into what every exception handler renders.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    AUTH_TOKEN_INVALID = "AUTH_TOKEN_INVALID"
    AUTH_TOKEN_EXPIRED = "AUTH_TOKEN_EXPIRED"
    AUTH_INSUFFICIENT_PERMISSIONS = "AUTH_INSUFFICIENT_PERMISSIONS"
    VALIDATION_FAILED = "VALIDATION_FAILED"
    REQUIRED_FIELD_MISSING = "REQUIRED_FIELD_MISSING"
    INVALID_FORMAT = "INVALID_FORMAT"
    RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"
    RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
    BUSINESS_RULE_VIOLATION = "BUSINESS_RULE_VIOLATION"
    EXTERNAL_SERVICE_UNAVAILABLE = "EXTERNAL_SERVICE_UNAVAILABLE"
    EXTERNAL_API_RATE_LIMIT = "EXTERNAL_API_RATE_LIMIT"
    EXTERNAL_API_ERROR = "EXTERNAL_API_ERROR"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    RATE_LIMIT_EXCEEDED = "RATE_LIMIT_EXCEEDED"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"


class DomainError(Exception):
    """A request the domain refuses: an ErrorCode, a message for people and optional ``details``."""

    http_status = 422
    code = ErrorCode.BUSINESS_RULE_VIOLATION
    default_message = "The request breaks a business rule."

    def __init__(self, message: str | None = None, *, details=None):
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


class ValidationFailed(DomainError):
    """Rendered like a serializer's errors: ``details`` maps each field to its messages (without
    them, the message is the one non-field error)."""

    http_status = 400
    code = ErrorCode.VALIDATION_FAILED
    default_message = "The request is not valid."


class NotFound(DomainError):
    http_status = 404
    code = ErrorCode.RESOURCE_NOT_FOUND
    default_message = "The resource was not found."


class PermissionDenied(DomainError):
    http_status = 403
    code = ErrorCode.AUTH_INSUFFICIENT_PERMISSIONS
    default_message = "You do not have permission to perform this action."


class Conflict(DomainError):
    http_status = 409
    code = ErrorCode.RESOURCE_ALREADY_EXISTS
    default_message = "The resource already exists."


class BusinessRuleViolation(DomainError):
    pass


class ExternalServiceUnavailable(DomainError):
    http_status = 503
    code = ErrorCode.EXTERNAL_SERVICE_UNAVAILABLE
    default_message = "An external service is unavailable; try again later."
