"""The assistant decides with no transaction open: an owner who takes over while OpenAI is still
thinking is not blocked by the turn, and wins — the customer gets no assistant reply."""

import pytest
from django.db import connection

from apps.conversations import services
from apps.conversations.models import Conversation, Message
from apps.dispatch.models import AiUsage
from apps.telephony.tests.conftest import cleanup_committed, in_thread, new_message_sid

pytestmark = pytest.mark.django_db

CUSTOMER = "+13125550164"
BUSINESS_NUMBER = "+13125550111"


def test_a_takeover_while_the_engine_decides_wins(alpha, alice, twilio, openai_standin):
    took_over = []

    def owner_takes_over_during_the_model_call(body):
        def takeover():
            connection.set_tenant(alpha)
            conversation = Conversation.objects.get(customer_number=CUSTOMER, status="active")
            services.conversation_takeover(conversation=conversation, user=alice)
            took_over.append(conversation.id)

        thread, errors = in_thread(takeover)
        thread.join(5)  # Would time out if the turn held the conversation's row lock.
        assert not errors and not thread.is_alive(), errors
        return {}

    openai_standin.responder = owner_takes_over_during_the_model_call

    def customer_texts():
        connection.set_tenant(alpha)
        services.message_receive(
            message_sid=new_message_sid(),
            from_number=CUSTOMER,
            to_number=BUSINESS_NUMBER,
            body="my kitchen sink is clogged",
            media=[],
        )  # Commits, and the (eager) engine task runs at the commit, on this connection.

    try:
        thread, errors = in_thread(customer_texts)
        thread.join(30)
        assert not errors, errors
        assert took_over and openai_standin.requests
        connection.set_tenant(alpha)
        conversation = Conversation.objects.get(customer_number=CUSTOMER)
        assert conversation.handled_by == Conversation.Handler.HUMAN
        inbound = conversation.messages.get(direction=Message.Direction.INBOUND)
        assert inbound.handled_at is not None  # Decided: not left for the sweep.
        assert not conversation.messages.filter(kind=Message.Kind.AI).exists()
        assert [sent for sent in twilio.messages() if sent.form["To"] == CUSTOMER] == []
    finally:

        def delete_ai_usage():
            connection.set_tenant(alpha)
            refs = [
                str(pk) for pk in Conversation.objects.filter(customer_number=CUSTOMER).values_list("pk", flat=True)
            ]
            AiUsage.objects.filter(conversation_ref__in=refs).delete()

        thread, errors = in_thread(delete_ai_usage)
        thread.join(30)
        cleanup_committed(alpha, CUSTOMER)
