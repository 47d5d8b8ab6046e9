"""The first text a customer gets says that replies are automated where the business's setting or
its state's law asks for it (apps/tenants/config/disclosure.py): the missed-call text, or the first
assistant reply of a conversation the customer started by text. Through signed Twilio webhooks and
the Twilio stand-in, like the rest of the journey."""

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.conversations.models import Conversation, Message
from apps.outbox.models import Delivery
from apps.outbox.segments import count_segments
from apps.telephony.tests.conftest import new_call_sid, new_message_sid, payload
from apps.tenants.config.services import config_update

pytestmark = pytest.mark.django_db

CUSTOMER = "+17735550142"
EN = "Replies here are automated."
ES = "Las respuestas por este medio son automatizadas."
DEFAULT_WITH_DISCLOSURE = (
    "Thanks for calling Alpha Plumbing! We missed your call but we're here to help. "
    "Reply with what you need and we'll get you scheduled. Replies here are automated. Reply STOP to opt out."
)
AREAS = {
    "CA": {"address": "1 Market St, San Francisco, CA 94105", "latitude": 37.7941, "longitude": -122.3951},
    "UT": {"address": "50 S Main St, Salt Lake City, UT 84101", "latitude": 40.7683, "longitude": -111.891},
    "IL": {"address": "200 E Randolph St, Chicago IL 60601", "latitude": 41.8858, "longitude": -87.6181},
}


def configure(business, *, state: str, disclose: str | None = None, **data):
    connection.set_tenant(business)
    ai = {"disclose_automation": disclose} if disclose else {}
    config_update(
        business=business, data={"service_area": {**AREAS[state], "radius_miles": 25}, "ai_settings": ai, **data}
    )


def miss_a_call(webhook, commit):
    call_sid = new_call_sid()
    with commit():
        webhook.post(f"/webhooks/twilio/call/status/{call_sid}", payload("voice_dial_action", CallSid=call_sid))


def text(webhook, commit, body):
    with commit():
        response = webhook.post(
            "/webhooks/twilio/sms", payload("sms_incoming", Body=body, MessageSid=new_message_sid())
        )
    assert response.status_code == 200, response.content


def bodies(twilio):
    return [sent.form["Body"] for sent in twilio.messages() if sent.form["To"] == CUSTOMER]


def test_the_missed_call_text_discloses_in_california_before_its_stop_line(alpha, webhook, twilio, commit):
    configure(alpha, state="CA")
    miss_a_call(webhook, commit)
    assert bodies(twilio) == [DEFAULT_WITH_DISCLOSURE]
    with tenant_context(alpha):
        message = Message.objects.get(kind=Message.Kind.AUTO_REPLY)
        delivery = Delivery.objects.get(cause_type="message", cause_id=str(message.id))
    # 183 GSM-7 characters: the sentence makes it two segments, and the records say so.
    assert count_segments(DEFAULT_WITH_DISCLOSURE).segments == 2
    assert message.body == DEFAULT_WITH_DISCLOSURE
    assert message.segments == delivery.segments == 2


@pytest.mark.parametrize(
    ("state", "disclose", "disclosed"),
    [
        ("UT", None, True),  # where_required, the default, in Utah
        ("IL", None, False),  # where_required in Illinois: no such law
        ("IL", "where_required", False),
        ("IL", "always", True),
        ("CA", "never", False),  # the owner's choice, warned about on the settings page
    ],
)
def test_the_setting_and_the_state_decide(alpha, webhook, twilio, commit, state, disclose, disclosed):
    configure(alpha, state=state, disclose=disclose)
    miss_a_call(webhook, commit)
    [body] = bodies(twilio)
    assert (EN in body) is disclosed
    assert body.endswith("Reply STOP to opt out.")
    with tenant_context(alpha):
        assert Message.objects.get(kind=Message.Kind.AUTO_REPLY).segments == count_segments(body).segments


def test_a_spanish_business_discloses_in_spanish_and_stays_gsm7(alpha, webhook, twilio, commit):
    template = "Gracias por llamar a {business_name}. Cuentenos que necesita.\nResponda STOP para darse de baja."
    configure(alpha, state="CA", language="es", auto_reply_template=template)
    miss_a_call(webhook, commit)
    expected = f"Gracias por llamar a Alpha Plumbing. Cuentenos que necesita. {ES}\nResponda STOP para darse de baja."
    assert bodies(twilio) == [expected]
    assert count_segments(expected).encoding == "GSM-7"  # The sentence does not make it UCS-2.


def test_a_conversation_started_by_text_discloses_in_its_first_reply_only(alpha, webhook, twilio, commit):
    configure(alpha, state="CA")
    text(webhook, commit, "Hi, my kitchen sink is leaking. Can someone come today?")
    text(webhook, commit, "It's at 1 Market St, San Francisco, CA 94105")
    first, second = bodies(twilio)
    assert first.endswith(f" {EN}") and first.count(EN) == 1
    assert EN not in second
    with tenant_context(alpha):
        replies = list(Message.objects.filter(kind=Message.Kind.AI).order_by("created_at"))
    assert [reply.body for reply in replies] == [first, second]
    assert replies[0].segments == count_segments(first).segments


def test_a_spanish_conversation_is_told_in_spanish(alpha, webhook, twilio, commit):
    configure(alpha, state="UT")
    text(webhook, commit, "Hola, tengo una fuga de agua debajo del fregadero de la cocina")
    [reply] = bodies(twilio)
    assert reply.endswith(f" {ES}") and EN not in reply


def test_after_a_disclosed_missed_call_the_replies_do_not_repeat_it(alpha, webhook, twilio, commit):
    configure(alpha, state="CA")
    miss_a_call(webhook, commit)
    text(webhook, commit, "Hi, my kitchen sink is leaking. Can someone come today?")
    missed_call_text, reply = bodies(twilio)
    assert EN in missed_call_text and EN not in reply


def test_a_reply_the_team_texts_first_is_followed_by_a_disclosed_assistant_reply(
    alpha, alice, client_for, webhook, twilio, commit
):
    """The team answered first (a person), then handed the conversation back: the assistant's first
    text is the first automated one, so it says so."""
    configure(alpha, state="CA", disclose="always")
    with tenant_context(alpha):
        conversation = Conversation.objects.create(customer_number=CUSTOMER, business_number="+13125550111")
    client = client_for(alice)
    with commit():
        client.post(f"/api/conversations/{conversation.id}/messages", {"body": "Hi, this is Alice."}, format="json")
        client.put(f"/api/conversations/{conversation.id}", {"handled_by": "ai"}, format="json")
    connection.set_tenant(alpha)
    text(webhook, commit, "My kitchen sink is leaking")
    human, reply = bodies(twilio)
    assert human == "Hi, this is Alice." and reply.endswith(f" {EN}")
