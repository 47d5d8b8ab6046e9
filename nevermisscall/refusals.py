"""Requests refused before their view runs, answered in the error shape of the view they were for.

Tenant resolution (403), rate limits (429) and unsupported methods (405) refuse a request in
middleware; each family keeps its own error shape there too (seed 000's envelope, seed 002's
``{"detail": …}``, seed 001's ``{"detail", "error_code", …}``), because the refusal is rendered by
the exception handler of the DRF view the path leads to (the envelope's for any other path).
"""

from django.http import JsonResponse
from django.urls import Resolver404, resolve
from rest_framework import exceptions
from rest_framework.views import APIView

from nevermisscall.envelope import envelope_exception_handler


def _api_view_class(view_func):
    view_class = getattr(view_func, "cls", None)  # Set by APIView.as_view().
    return view_class if isinstance(view_class, type) and issubclass(view_class, APIView) else None


def _view_for(request):
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return None
    view_class = _api_view_class(match.func)
    return view_class(**match.func.initkwargs) if view_class is not None else None


def refusal_response(request, exc: exceptions.APIException, *, view=None, headers=None) -> JsonResponse:
    view = view if view is not None else _view_for(request)
    handler = view.get_exception_handler() if view is not None else envelope_exception_handler
    rendered = handler(exc, {"request": request, "view": view})
    rendered_headers = {name: value for name, value in rendered.items() if name.lower() != "content-type"}
    return JsonResponse(rendered.data, status=rendered.status_code, headers={**rendered_headers, **(headers or {})})


class MethodNotAllowedMiddleware:
    """A method the API view does not implement is a 405 with ``Allow``, before authentication.

    DRF authenticates and checks permissions before it looks for the method's handler, so without
    this an anonymous ``TRACE`` gets 401 and a signed-in one 405.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = _api_view_class(view_func)
        if view_class is None:
            return None
        view = view_class(**view_func.initkwargs)
        view.setup(request, *view_args, **view_kwargs)  # As dispatch will: HEAD follows GET.
        allowed = view.allowed_methods
        if request.method in allowed:
            return None
        return refusal_response(
            request, exceptions.MethodNotAllowed(request.method), view=view, headers={"Allow": ", ".join(allowed)}
        )
