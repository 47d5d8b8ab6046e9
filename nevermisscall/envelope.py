"""Seed 000's response envelope ``{success, data, error, metadata}`` for DRF views.

Successful responses are wrapped by ``EnvelopeRenderer``; errors are shaped by
``envelope_exception_handler``, which maps DRF and Django exceptions to seed 000's error codes.
Families from the other seeds keep their own shapes by choosing other renderer classes; every
handler first passes the exception through ``as_api_exception``, the one place where the domain
errors of ``nevermisscall.errors`` become HTTP.
"""

import logging
import math
import time
from datetime import UTC, datetime

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from nevermisscall import errors as domain
from nevermisscall.errors import ErrorCode
from nevermisscall.middleware import current_request_id

logger = logging.getLogger(__name__)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def envelope_metadata(request=None, **extra) -> dict:
    started = getattr(request, "started_at", None) if request is not None else None
    elapsed = (time.perf_counter() - started) * 1000 if started else 0.0
    metadata = {
        "timestamp": _now_iso(),
        "request_id": getattr(request, "request_id", None) or current_request_id(),
        "processing_time_ms": round(elapsed, 2),
    }
    metadata.update(extra)
    return metadata


def error_body(request, code: str, message: str, details=None) -> dict:
    return {
        "success": False,
        "data": None,
        "error": {"code": str(code), "message": message, "details": details},
        "metadata": envelope_metadata(request),
    }


def error_json_response(request, http_status: int, code: str, message: str, details=None, headers=None):
    """The envelope for errors raised outside DRF (middleware, Django's 404/500 handlers)."""
    response = JsonResponse(error_body(request, code, message, details), status=http_status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class EnvelopeRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        response = renderer_context.get("response")
        request = renderer_context.get("request")
        already_wrapped = isinstance(data, dict) and data.get("success") is False and "error" in data
        if response is not None and not already_wrapped and response.status_code != status.HTTP_204_NO_CONTENT:
            extra = getattr(response, "envelope_metadata", {})
            data = {"success": True, "data": data, "error": None, "metadata": envelope_metadata(request, **extra)}
        return super().render(data, accepted_media_type, renderer_context)


class DomainAPIException(exceptions.APIException):
    """A domain error on its way through DRF's handlers; the envelope also shows its details."""

    def __init__(self, error: domain.DomainError):
        super().__init__(error.message, code=error.code)
        self.status_code = error.http_status
        self.error = error


def as_api_exception(exc):
    """The DRF exception every handler renders for a ``DomainError`` (any other exception unchanged).

    Validation errors, "not found" and "forbidden" become DRF's own, so they look the same in every
    family whoever raised them; the others keep their code and status.
    """
    if isinstance(exc, domain.ValidationFailed):
        return exceptions.ValidationError(exc.details if exc.details is not None else [exc.message])
    if isinstance(exc, domain.NotFound):
        return exceptions.NotFound(exc.message)
    if isinstance(exc, domain.PermissionDenied):
        return exceptions.PermissionDenied(exc.message)
    if isinstance(exc, domain.DomainError):
        return DomainAPIException(exc)
    return exc


def _flatten_validation_errors(detail, prefix="") -> list[dict]:
    errors = []
    if isinstance(detail, dict):
        for field, value in detail.items():
            name = f"{prefix}.{field}" if prefix else str(field)
            errors.extend(_flatten_validation_errors(value, name))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                errors.extend(_flatten_validation_errors(value, f"{prefix}[{index}]" if prefix else str(index)))
            else:
                errors.extend(_flatten_validation_errors(value, prefix))
    else:
        code = getattr(detail, "code", "invalid")
        errors.append({"field": prefix or "non_field_errors", "message": str(detail), "code": code})
    return errors


def _code_and_details(exc):
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten_validation_errors(exc.detail)
        missing = errors and all(error["code"] == "required" for error in errors)
        code = ErrorCode.REQUIRED_FIELD_MISSING if missing else ErrorCode.VALIDATION_FAILED
        first = errors[0] if errors else {"field": None}
        return code, "The request is not valid.", {"field": first["field"], "validation_errors": errors}
    if isinstance(exc, exceptions.ParseError):
        return ErrorCode.INVALID_FORMAT, str(exc.detail), None
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        detail_code = exc.get_codes() if hasattr(exc, "get_codes") else None
        codes = detail_code if isinstance(detail_code, (list, dict)) else [detail_code]
        flat = str(codes)
        code = ErrorCode.AUTH_TOKEN_EXPIRED if "token_expired" in flat else ErrorCode.AUTH_TOKEN_INVALID
        message = exc.detail if isinstance(exc.detail, str) else "Authentication credentials are not valid."
        return code, str(message), None
    if isinstance(exc, exceptions.PermissionDenied):
        return ErrorCode.AUTH_INSUFFICIENT_PERMISSIONS, str(exc.detail), None
    if isinstance(exc, exceptions.NotFound):
        return ErrorCode.RESOURCE_NOT_FOUND, "The resource was not found.", None
    if isinstance(exc, exceptions.MethodNotAllowed):
        return ErrorCode.METHOD_NOT_ALLOWED, str(exc.detail), None
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return ErrorCode.UNSUPPORTED_MEDIA_TYPE, str(exc.detail), None
    if isinstance(exc, exceptions.NotAcceptable):
        return ErrorCode.INVALID_FORMAT, str(exc.detail), None
    if isinstance(exc, exceptions.Throttled):
        return ErrorCode.RATE_LIMIT_EXCEEDED, "Too many requests.", {"retry_after": exc.wait and math.ceil(exc.wait)}
    if isinstance(exc, DomainAPIException):
        return exc.error.code, exc.error.message, exc.error.details
    code = exc.get_codes() if hasattr(exc, "get_codes") else None
    if isinstance(code, str) and code in ErrorCode.__members__:
        return ErrorCode(code), str(exc.detail), None
    return ErrorCode.INTERNAL_SERVER_ERROR, str(getattr(exc, "detail", "Unexpected error.")), None


def envelope_exception_handler(exc, context):
    request = context.get("request")
    exc = as_api_exception(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # Unexpected: Django's 500 handler answers (and logs it) in the envelope.
    code, message, details = _code_and_details(exc)
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(math.ceil(exc.wait))
    return Response(error_body(request, code, message, details), status=exc.status_code, headers=headers)


def _wants_a_page(request) -> bool:
    """A browser asks for HTML first (``text/html,application/xhtml+xml,…``); API clients and SDKs do
    not, and keep the JSON envelope."""
    accept = request.META.get("HTTP_ACCEPT", "")
    return accept.split(",", 1)[0].split(";", 1)[0].strip() == "text/html"


def _render_page(request, template: str, context: dict | None, status: int):
    """An error page of the dashboard, rendered without touching the database (``error_page``
    leaves out the navigation's badges): under ASGI Django renders error responses in a thread of
    its own, whose connection would be unbound to the business and never handed back to the pool."""
    return render(request, template, {**(context or {}), "error_page": True}, status=status)


def handler404(request, exception=None):
    if _wants_a_page(request):
        return _render_page(request, "404.html", None, 404)
    return error_json_response(request, 404, ErrorCode.RESOURCE_NOT_FOUND, "The resource was not found.")


def handler500(request):
    return error_json_response(request, 500, ErrorCode.INTERNAL_SERVER_ERROR, "Unexpected error; it was logged.")


def handler403(request, exception=None):
    if _wants_a_page(request):
        return _render_page(request, "403.html", None, 403)
    return error_json_response(request, 403, ErrorCode.AUTH_INSUFFICIENT_PERMISSIONS, "Forbidden.")


def handler400(request, exception=None):
    """A dashboard page's bad query (``nevermisscall.views.BadQuery``) or a browser: the HTML page
    with the navigation and what was wrong; anything else keeps the JSON envelope."""
    problems = getattr(exception, "problems", None)
    if problems is not None or _wants_a_page(request):
        context = {"problems": problems or [], "list_path": request.path}
        return _render_page(request, "400.html", context, 400)
    return error_json_response(request, 400, ErrorCode.VALIDATION_FAILED, "Bad request.")
