"""Seed 001's (Bella V3) error shape, for the families that keep it (``/appointments``, ``/api/unified``).

Success bodies are plain JSON; errors are ``{"detail", "error_code", "timestamp", "correlation_id"}``
and validation errors are 422 with FastAPI-style ``detail: [{"loc", "msg", "type"}]`` (SPEC section 9:
each family keeps its own document's shapes).
"""

from datetime import UTC, datetime

from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView, exception_handler

from nevermisscall.envelope import as_api_exception
from nevermisscall.middleware import current_request_id


def _locations(detail, path=()):
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _locations(value, (*path, str(key)))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            yield from _locations(value, (*path, index) if isinstance(value, (dict, list)) else path)
    else:
        yield {"loc": ["body", *path], "msg": str(detail), "type": getattr(detail, "code", "invalid")}


def seed001_exception_handler(exc, context):
    exc = as_api_exception(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.status_code = 422
        body = {"detail": list(_locations(exc.detail)), "error_code": "VALIDATION_ERROR"}
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = {"detail": str(exc.detail), "error_code": str(codes).upper() if isinstance(codes, str) else "ERROR"}
    body["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    body["correlation_id"] = current_request_id()
    response.data = body
    return response


class Seed001APIView(APIView):
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self):
        return seed001_exception_handler
