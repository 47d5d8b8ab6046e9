"""Seed 002's (AI Telephony Service) shapes, for the families that keep them (``/v1/voice``,
``/telephony``, ``/v1/widget``): plain JSON bodies, FastAPI-style errors ``{"detail": "..."}`` and
422 validation errors ``{"detail": [{"loc", "msg", "type"}]}`` (SPEC section 9)."""

from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView, exception_handler

from nevermisscall.envelope import as_api_exception
from nevermisscall.seed001 import _locations


def seed002_exception_handler(exc, context):
    exc = as_api_exception(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.status_code = 422
        response.data = {"detail": list(_locations(exc.detail))}
    else:
        response.data = {"detail": str(exc.detail)}
    return response


class Seed002APIView(APIView):
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self):
        return seed002_exception_handler
