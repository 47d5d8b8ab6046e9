"""Domain errors: plain exceptions outside the HTTP layer, rendered by each family's own handler."""

import subprocess
import sys
from functools import partial

import pytest
from django.conf import settings
from django.urls import path
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from nevermisscall import errors
from nevermisscall.seed001 import Seed001APIView
from nevermisscall.seed002 import Seed002APIView
from nevermisscall.testing import assert_envelope_error
from nevermisscall.views import error_lines

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

TOO_BIG = "The photo is larger than 5 MB."
RAISED = {
    "conflict": partial(errors.Conflict, "That time overlaps another appointment."),
    "rule": partial(errors.BusinessRuleViolation, "This session has ended."),
    "unavailable": errors.ExternalServiceUnavailable,
    "invalid": partial(errors.ValidationFailed, details={"photo": [TOO_BIG]}),
    "not_found": partial(errors.NotFound, "No such customer."),
    "forbidden": partial(errors.PermissionDenied, "Only owners can do that."),
    # What services raised before the domain errors, to compare with.
    "drf_invalid": partial(exceptions.ValidationError, {"photo": [TOO_BIG]}),
}


def _raising(base):
    class Raising(base):
        authentication_classes = []
        permission_classes = [AllowAny]

        def get(self, request, name):
            raise RAISED[name]()

    return Raising.as_view()


urlpatterns = [
    path("envelope/<str:name>", _raising(APIView)),
    path("seed001/<str:name>", _raising(Seed001APIView)),
    path("seed002/<str:name>", _raising(Seed002APIView)),
]

PHOTO_ERRORS = [{"field": "photo", "message": TOO_BIG, "code": "invalid"}]
PHOTO_LOCATIONS = [{"loc": ["body", "photo"], "msg": TOO_BIG, "type": "invalid"}]


@pytest.mark.parametrize(
    ("name", "status", "code", "message", "details"),
    [
        ("conflict", 409, "RESOURCE_ALREADY_EXISTS", "That time overlaps another appointment.", None),
        ("rule", 422, "BUSINESS_RULE_VIOLATION", "This session has ended.", None),
        ("unavailable", 503, "EXTERNAL_SERVICE_UNAVAILABLE", errors.ExternalServiceUnavailable.default_message, None),
        (
            "invalid",
            400,
            "VALIDATION_FAILED",
            "The request is not valid.",
            {"field": "photo", "validation_errors": PHOTO_ERRORS},
        ),
        ("not_found", 404, "RESOURCE_NOT_FOUND", "The resource was not found.", None),
        ("forbidden", 403, "AUTH_INSUFFICIENT_PERMISSIONS", "Only owners can do that.", None),
    ],
)
def test_the_envelope_renders_each_domain_error(client, name, status, code, message, details):
    error = assert_envelope_error(client.get(f"/envelope/{name}"), status, code)
    assert error == {"code": code, "message": message, "details": details}


@pytest.mark.parametrize(
    ("name", "status", "body"),
    [
        (
            "conflict",
            409,
            {"detail": "That time overlaps another appointment.", "error_code": "RESOURCE_ALREADY_EXISTS"},
        ),
        ("rule", 422, {"detail": "This session has ended.", "error_code": "BUSINESS_RULE_VIOLATION"}),
        ("invalid", 422, {"detail": PHOTO_LOCATIONS, "error_code": "VALIDATION_ERROR"}),
        ("not_found", 404, {"detail": "No such customer.", "error_code": "NOT_FOUND"}),
    ],
)
def test_seed001_renders_each_domain_error_in_its_shape(client, name, status, body):
    response = client.get(f"/seed001/{name}")
    assert response.status_code == status
    rendered = response.json()
    assert rendered.pop("timestamp").endswith("Z")
    assert rendered.pop("correlation_id") == response["X-Request-ID"]
    assert rendered == body


@pytest.mark.parametrize(
    ("name", "status", "body"),
    [
        ("conflict", 409, {"detail": "That time overlaps another appointment."}),
        ("rule", 422, {"detail": "This session has ended."}),
        ("invalid", 422, {"detail": PHOTO_LOCATIONS}),
        ("forbidden", 403, {"detail": "Only owners can do that."}),
    ],
)
def test_seed002_renders_each_domain_error_in_its_shape(client, name, status, body):
    response = client.get(f"/seed002/{name}")
    assert (response.status_code, response.json()) == (status, body)


@pytest.mark.parametrize("family", ["envelope", "seed001", "seed002"])
def test_validation_failed_answers_exactly_what_a_drf_validation_error_did(client, family):
    def answer(name):
        response = client.get(f"/{family}/{name}")
        body = response.json()
        body.pop("metadata", None), body.pop("timestamp", None), body.pop("correlation_id", None)
        return response.status_code, body

    assert answer("invalid") == answer("drf_invalid")


def test_dashboard_pages_show_field_messages_or_the_message():
    assert error_lines(errors.ValidationFailed(details={"photo": [TOO_BIG]})) == [f"photo: {TOO_BIG}"]
    assert error_lines(errors.Conflict("Taken.")) == ["Taken."]


def test_the_domain_errors_import_no_drf():
    """Tasks and commands raise them too: they must not need the HTTP layer."""
    loaded = "import sys, nevermisscall.errors; print(any(m.split('.')[0] == 'rest_framework' for m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", loaded], cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
