"""The API contract: the OpenAPI document is valid, and the API answers what it documents.

A bounded, seeded schemathesis pass covers every operation of the document with its examples and
a few generated cases, valid and invalid, signed in as Alpha's owner. It runs in-process, inside
the test's transaction, so whatever it creates (businesses and their schemas included) is rolled
back. Twilio's webhooks are plain Django views, outside the document and the pass.

Schemathesis' coverage phase is off: it sends ~3,500 requests (about 90 s here) for the boundary
values of every field. What it would check of methods — an undocumented one is a 405 with
``Allow``, whoever asks — is checked below for every path of the document.
"""

import collections
import http.client
import json
from urllib.parse import urlsplit

import hypothesis
import pytest
import schemathesis
from django.conf import settings
from django.test import override_settings
from django.test.client import ClientHandler
from drf_spectacular.generators import SchemaGenerator
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.accounts.tokens import token_pair_for
from apps.telephony.testing import ACCOUNT_SID, AUTH_TOKEN
from apps.tenants.models import ApiCredential
from apps.tenants.services import credential_create

FUZZ_CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 1106,
        "generation": {"max-examples": 5, "deterministic": True, "database": "none"},
        "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": False}},
    }
)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

_handler = ClientHandler()


def _in_transaction_app(environ, start_response):
    """The Django app as WSGI, run the way the test client runs it: the request signals do not
    close the database connection, so every request stays inside the test's transaction."""
    response = _handler(environ)
    cookies = [("Set-Cookie", cookie.output(header="").strip()) for cookie in response.cookies.values()]
    start_response(f"{response.status_code} {response.reason_phrase}", [*response.items(), *cookies])
    if response.streaming:  # CSV exports and audio files (apps/owner); the client's wrapper closes them.
        return [b"".join(response.streaming_content)]
    return [response.content]


def _document() -> dict:
    return json.loads(json.dumps(SchemaGenerator().get_schema(public=True), default=str))


api = schemathesis.openapi.from_dict(_document(), config=FUZZ_CONFIG)
api.app = _in_transaction_app


@pytest.mark.django_db
def test_served_schema_validates(client):
    # Twice: a second generation in the same process once referenced a component it no longer made.
    for _ in range(2):
        response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert response.status_code == 200
        validate(response.json())


@pytest.fixture
def owner_credentials(alice, twilio_standin):
    """Alpha's owner's JWT, an API key of Alpha (the widget's alternative to its token) and the
    service key for ``/internal/*``; Twilio is the stand-in, as a deployment has Twilio."""
    _, api_key = credential_create(business=alice.business, kind=ApiCredential.Kind.API_KEY, name="contract")
    twilio_standin.reset()
    with override_settings(
        TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_API_BASE_URL=twilio_standin.base_url
    ):
        yield {
            "Authorization": f"Bearer {token_pair_for(alice)['access_token']}",
            "X-API-Key": api_key,
            "x-service-key": settings.INTERNAL_SERVICE_KEY,
        }
    twilio_standin.reset()


@pytest.mark.django_db
@api.parametrize()
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
def test_every_operation_answers_what_it_documents(case, owner_credentials):
    # The fixture is per operation on purpose: each operation's cases share one rolled-back transaction.
    case.call_and_validate(headers=owner_credentials, checks=CHECKS)


def _error_component(path_item: dict) -> str:
    return next(
        response["content"]["application/json"]["schema"]["$ref"]
        for operation in path_item.values()
        for status, response in operation["responses"].items()
        if status == "401"
    )


@pytest.mark.django_db
def test_an_undocumented_method_is_405_before_authentication(client):
    document = api.raw_schema
    for path, path_item in document["paths"].items():
        url = path.format_map(collections.defaultdict(lambda: "00000000-0000-0000-0000-000000000000"))
        response = client.generic("TRACE", url)
        assert response.status_code == 405, path
        allowed = {method.strip().lower() for method in response["Allow"].split(",")}
        assert allowed - {"head", "options"} == set(path_item), path
        OAS30Validator({"$ref": _error_component(path_item), "components": document["components"]}).validate(
            response.json()
        )
        assert response["X-Request-ID"]


@pytest.mark.django_db
def test_seed002_refusal_before_the_view_is_a_detail(client_for, alice):
    response = client_for(alice).post(
        "/v1/voice/session/start", {"caller_phone": "+13125550111"}, format="json", HTTP_X_BUSINESS_ID="another"
    )
    assert response.status_code == 403
    assert set(response.json()) == {"detail"}


@pytest.mark.django_db
def test_empty_multipart_upload_gets_the_documented_400(live_app, alice):
    """Served by daphne: Twisted's own form parsing once answered this with a bare 400."""
    url = urlsplit(live_app)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    connection.request(
        "POST",
        f"/users/{alice.id}/profile/photo",
        body=b"--nmc--\r\n",
        headers={
            "Content-Type": "multipart/form-data; boundary=nmc",
            "Authorization": f"Bearer {token_pair_for(alice)['access_token']}",
        },
    )
    response = connection.getresponse()
    body = json.loads(response.read())
    assert response.status == 400
    assert response.getheader("X-Request-ID")
    assert body["success"] is False and body["error"]["details"]["field"] == "photo"
