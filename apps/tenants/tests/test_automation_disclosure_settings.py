"""``ai_settings.disclose_automation``: stored and read back by the config API, described in the
OpenAPI schema, edited on the AI settings page (with the missed-call text as it goes out); and how
the business's state is told (apps/tenants/config/disclosure.py)."""

from importlib import import_module
from types import SimpleNamespace

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from apps.outbox.segments import count_segments
from apps.tenants.config.disclosure import (
    DisclosurePolicy,
    business_state,
    disclosure_policy,
    state_of_address,
    state_of_phone,
    with_disclosure,
)
from apps.tenants.config.models import BusinessConfig
from conftest import PASSWORD
from nevermisscall.testing import assert_envelope_error

EN = "Replies here are automated."
ES = "Las respuestas por este medio son automatizadas."
SAN_FRANCISCO = {"address": "1 Market St, San Francisco, CA 94105", "radius_miles": 25}


# --- the config API -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_value_round_trips_and_the_default_is_where_required(alice, alpha, client_for):
    client = client_for(alice)
    reset = client.post(f"/config/{alpha.id}/reset")
    assert reset.status_code in (200, 201), reset.content
    assert client.get(f"/config/{alpha.id}").json()["data"]["ai_settings"]["disclose_automation"] == "where_required"
    for value in ("always", "never", "where_required"):
        response = client.put(f"/config/{alpha.id}", {"ai_settings": {"disclose_automation": value}}, format="json")
        assert response.status_code == 200, response.content
        for read in (response.json()["data"], client.get(f"/config/{alpha.id}").json()["data"]):
            assert read["ai_settings"]["disclose_automation"] == value
            assert read["ai_settings"]["enabled"] is True  # Merged key by key: the rest stays.
        with schema_context(alpha.schema_name):
            assert BusinessConfig.objects.get().ai_settings["disclose_automation"] == value


@pytest.mark.django_db
def test_businesses_from_before_get_the_default_stored(alpha):
    migration = import_module("apps.tenants.config.migrations.0005_disclose_automation").Migration
    with schema_context(alpha.schema_name):
        BusinessConfig.objects.filter(pk=1).update(ai_settings={"enabled": True, "tone": "concise"})
        with connection.cursor() as cursor:
            cursor.execute(migration.operations[0].sql)
            cursor.execute(migration.operations[0].sql)  # Twice: nothing more changes.
        assert BusinessConfig.objects.get().ai_settings == {
            "enabled": True,
            "tone": "concise",
            "disclose_automation": "where_required",
        }
        BusinessConfig.objects.filter(pk=1).update(ai_settings={"disclose_automation": "never"})
        with connection.cursor() as cursor:
            cursor.execute(migration.operations[0].sql)
        assert BusinessConfig.objects.get().ai_settings == {"disclose_automation": "never"}


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{"disclose_automation": "sometimes"}, {"disclose_automation": None}])
def test_a_value_it_cannot_store_is_a_400_naming_it(alice, alpha, client_for, body):
    client = client_for(alice)
    before = client.get(f"/config/{alpha.id}").json()["data"]
    response = client.put(f"/config/{alpha.id}", {"ai_settings": body}, format="json")
    assert_envelope_error(response, 400, "VALIDATION_FAILED")
    assert "disclose_automation" in response.content.decode()
    assert client.get(f"/config/{alpha.id}").json()["data"] == before


@pytest.mark.django_db
def test_charlie_cannot_change_alphas_disclosure(charlie, alpha, client_for):
    response = client_for(charlie).put(
        f"/config/{alpha.id}", {"ai_settings": {"disclose_automation": "never"}}, format="json"
    )
    assert_envelope_error(response, 404, "RESOURCE_NOT_FOUND")


@pytest.mark.django_db
def test_the_schema_describes_the_setting(bob, client_for):
    schema = client_for(bob).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    field = components["AiSettings"]["properties"]["disclose_automation"]
    enum = components[field["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert set(enum) == {"always", "never", "where_required"}
    assert "Replies here are automated." in field["description"]
    # The config's read shape names AiSettings too, not a free-form object.
    output = components["BusinessConfigOutput"]["properties"]["ai_settings"]
    assert "AiSettings" in str(output)


# --- the settings page --------------------------------------------------------------------------


@pytest.fixture
def owner_browser(client, alice):
    assert client.login(username=alice.email, password=PASSWORD)
    return client


def _ai_form(**overrides) -> dict:
    form = {"ai_enabled": "on", "auto_book": "on", "emergency_alerts": "on", "emergency_service": "on"}
    form.update({"tone": "friendly", "after_hours_emergency": "dispatch_now", **overrides})
    return form


@pytest.mark.django_db
def test_the_ai_page_edits_it_and_shows_the_text_as_sent(owner_browser, alpha, alice, client_for):
    with schema_context(alpha.schema_name):
        BusinessConfig.objects.filter(pk=1).update(service_area=SAN_FRANCISCO)
    page = owner_browser.get("/settings/ai/").content.decode()
    assert 'name="disclose_automation"' in page
    assert '<option value="where_required" selected>' in page
    assert "Your business is in California, where the law asks for it (California Bus. &amp; Prof. Code §17941" in page
    preview = page[page.index('id="missed-call-preview"') :]
    assert "we&#x27;ll get you scheduled. Replies here are automated. Reply STOP to opt out." in preview
    assert "2 segments (GSM-7)" in preview

    assert owner_browser.post("/settings/ai/", _ai_form(disclose_automation="never")).status_code == 302
    api = client_for(alice).get(f"/config/{alpha.id}").json()["data"]["ai_settings"]
    assert api["disclose_automation"] == "never" and api["enabled"] is True
    page = owner_browser.get("/settings/ai/").content.decode()
    assert '<option value="never" selected>' in page
    assert "Your state's law asks for this disclosure; “Never” leaves it out." in page
    assert EN not in page[page.index('id="missed-call-preview"') :]
    assert "1 segment (GSM-7)" in page

    # The messages page shows the same preview under the template it comes from.
    assert 'id="missed-call-preview"' in owner_browser.get("/settings/templates/").content.decode()
    assert owner_browser.post("/settings/ai/", _ai_form(disclose_automation="sometimes")).status_code == 200


@pytest.mark.django_db
def test_the_page_says_when_no_law_asks_for_it(owner_browser, alpha):
    with schema_context(alpha.schema_name):
        BusinessConfig.objects.filter(pk=1).update(service_area={"address": "Chicago, IL 60601", "radius_miles": 25})
    page = owner_browser.get("/settings/ai/").content.decode()
    assert "Your business is in Illinois: no state law we know of asks for it." in page
    assert EN not in page[page.index('id="missed-call-preview"') :]


# --- how the state is told, and where the sentence goes ------------------------------------------


@pytest.mark.parametrize(
    ("address", "state"),
    [
        ("1 Market St, San Francisco, CA 94105", "CA"),
        ("200 E Randolph St, Chicago IL 60601", "IL"),
        ("1420 W Fullerton Ave, Chicago IL", "IL"),
        ("50 S Main St, Salt Lake City, Utah", "UT"),
        ("500 Congress St, Portland, ME 04101, USA", "ME"),
        ("Denver CO", "CO"),
        ("123 Main St 84101", "UT"),  # a ZIP code and no state
        ("742 Evergreen Terrace 97403", "OR"),
        ("1420 Peachtree St NE, Atlanta, GA", "GA"),
        ("1420 Peachtree St NE", None),  # a street's direction, not Nebraska
        ("10250 Santa Monica Blvd", None),  # a street number, not a ZIP code
        ("Austin, TX, US", "TX"),
        ("Main St", None),
        ("", None),
    ],
)
def test_the_state_of_an_address(address, state):
    assert state_of_address(address) == state


@pytest.mark.parametrize(
    ("number", "state"),
    [
        ("+13125550100", "IL"),
        ("+14155550100", "CA"),
        ("+18015550100", "UT"),
        ("+18005550100", None),
        ("+442071234567", None),
    ],
)
def test_the_state_of_a_phone_number(number, state):
    assert state_of_phone(number) == state


def _config(address="", country="", subdivision="", disclose=None):
    ai = {"disclose_automation": disclose} if disclose else {}
    return SimpleNamespace(
        service_area={"address": address}, holiday_country=country, holiday_subdivision=subdivision, ai_settings=ai
    )


def test_the_address_then_the_holiday_calendar_then_the_phone_tell_the_state():
    chicago_phone = SimpleNamespace(phone="+13125550100")
    assert business_state(_config("1 Market St, San Francisco, CA 94105"), chicago_phone) == "CA"
    assert business_state(_config(country="US", subdivision="UT"), chicago_phone) == "UT"
    assert business_state(_config(country="CA", subdivision="ON"), chicago_phone) == "IL"
    assert business_state(_config(), SimpleNamespace(phone="")) is None


@pytest.mark.parametrize(
    ("setting", "state", "law", "required"),
    [
        ("where_required", "CA", "x", True),
        ("where_required", "IL", None, False),
        ("where_required", None, None, True),  # cannot be told: disclosed
        ("always", "IL", None, True),
        ("never", "CA", "x", False),
    ],
)
def test_when_it_is_required(setting, state, law, required):
    assert DisclosurePolicy(setting, state, law).required is required


def test_an_old_config_without_the_key_is_where_required():
    policy = disclosure_policy(_config("Austin, TX 78701"), SimpleNamespace(phone=""))
    assert (policy.setting, policy.state, policy.law, policy.required) == ("where_required", "TX", None, False)
    assert disclosure_policy(_config("Provo, UT 84601"), None).law.startswith("Utah Code")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("We missed your call. Reply STOP to opt out.", f"We missed your call. {EN} Reply STOP to opt out."),
        ("We missed your call!\nReply STOP to opt out", f"We missed your call! {EN}\nReply STOP to opt out"),
        ("Thanks! Text STOP to end, HELP for help.", f"Thanks! {EN} Text STOP to end, HELP for help."),
        ("We missed your call, call back anytime", f"We missed your call, call back anytime. {EN}"),
        ("Reply STOP to opt out.", f"{EN} Reply STOP to opt out."),
        (f"Hi! {EN} Reply STOP to opt out.", f"Hi! {EN} Reply STOP to opt out."),  # said already
        ("We'll stop by today.", f"We'll stop by today. {EN}"),  # "stop" is not the STOP keyword
    ],
)
def test_the_sentence_goes_before_the_opt_out_line(body, expected):
    assert with_disclosure(body, "en", max_segments=10) == expected


def test_spanish_and_its_encoding():
    body = with_disclosure("Gracias por llamar. Responda STOP para darse de baja.", "es", max_segments=10)
    assert body == f"Gracias por llamar. {ES} Responda STOP para darse de baja."
    assert count_segments(body).encoding == "GSM-7"
    assert with_disclosure("Thanks!", "fr", max_segments=10) == f"Thanks! {EN}"


def test_a_text_too_long_for_its_segments_is_shortened_before_the_sentence_and_the_stop_line():
    body = "Thanks for calling us, " * 20 + "we will call back. Reply STOP to opt out."
    disclosed = with_disclosure(body, "en", max_segments=2)
    assert count_segments(disclosed).segments <= 2
    assert disclosed.endswith(f"… {EN} Reply STOP to opt out.")
    assert disclosed.startswith("Thanks for calling us,")
