"""Request correlation: every request carries an ``X-Request-ID`` through logs, tasks and events."""

import contextvars
import logging
import re
import time
import uuid

from django.utils import translation

from nevermisscall.clientip import request_client_ip

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
client_ip_var: contextvars.ContextVar[str] = contextvars.ContextVar("client_ip", default="-")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def current_request_id() -> str:
    return request_id_var.get()


class RequestIdMiddleware:
    """Accept a well-formed ``X-Request-ID`` or generate one; echo it on the response.

    The request's log lines carry it and the client's address (as ``nevermisscall.clientip`` decides)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else str(uuid.uuid4())
        request.started_at = time.perf_counter()
        request.client_ip = request_client_ip(request)
        token = request_id_var.set(request.request_id)
        ip_token = client_ip_var.set(request.client_ip)
        try:
            response = self.get_response(request)
        finally:
            client_ip_var.reset(ip_token)
            request_id_var.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record):
        record.request_id = request_id_var.get()
        record.client_ip = client_ip_var.get()
        return True


class UserLanguageMiddleware:
    """A signed-in user's chosen language wins over the browser's Accept-Language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = getattr(user, "language", None) if user is not None and user.is_authenticated else None
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", language)
        return response
