"""Two callers confirming the same slot at the same moment, on two connections that really commit:
one booking, one polite alternative, nothing lost."""

import threading

import pytest
from django.db import connection, connections

from apps.conversations import sessions
from apps.conversations.models import AssistantSession, Conversation, Message
from apps.crm.models import Appointment, Customer
from apps.dispatch.models import AiUsage
from apps.outbox.models import Delivery

pytestmark = pytest.mark.django_db(transaction=False)

PHONES = ["+13125550181", "+13125550182"]


def on_own_connection(business, work):
    """Run ``work`` on a thread with its own connection (autocommit); returns its result or exception."""
    result = {}

    def target():
        try:
            connection.set_tenant(business)
            result["value"] = work()
        except Exception as exc:  # Re-raised by the caller's assertions.
            result["value"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, result


def cleanup(business):
    def work():
        refs = [str(pk) for pk in AssistantSession.objects.filter(caller_phone__in=PHONES).values_list("pk", flat=True)]
        AiUsage.objects.filter(conversation_ref__in=refs).delete()
        AssistantSession.objects.filter(caller_phone__in=PHONES).delete()
        Message.objects.filter(conversation__customer_number__in=PHONES).delete()
        Conversation.objects.filter(customer_number__in=PHONES).delete()
        Appointment.objects.filter(customer__phone__in=PHONES).delete()
        Customer.objects.filter(phone__in=PHONES).delete()
        Delivery.objects.filter(recipient__in=PHONES).delete()

    thread, result = on_own_connection(business, work)
    thread.join()
    assert not isinstance(result.get("value"), Exception), result


def test_two_callers_confirm_the_same_slot_at_once(alpha, business_numbers):
    def offer(phone, n):
        def work():
            session, _ = sessions.assistant_session_start(channel="voice", caller_phone=phone)
            for text in [
                "my kitchen sink is clogged",
                f"I'm Caller {n}, 55 Oak Street, Chicago IL 60614, tomorrow morning",
            ]:
                session, _reply, turn = sessions.assistant_session_input(session=session, text=text)
            return session, turn.response["proposed_slot"]

        return work

    cleanup(alpha)
    try:
        offers = []
        for n, phone in enumerate(PHONES):
            thread, result = on_own_connection(alpha, offer(phone, n))
            thread.join(timeout=30)
            assert not isinstance(result["value"], Exception), result
            offers.append(result["value"])
        (first, slot), (second, other_slot) = offers
        assert slot is not None and slot["start_datetime"] == other_slot["start_datetime"]

        barrier = threading.Barrier(2)

        def confirm(session):
            def work():
                barrier.wait(timeout=10)
                return sessions.assistant_session_input(session=session, text="yes")

            return work

        runs = [on_own_connection(alpha, confirm(session)) for session in (first, second)]
        for thread, _ in runs:
            thread.join(timeout=30)
        outcomes = [result["value"] for _, result in runs]
        assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes
        booked = [(s, reply) for s, reply, _ in outcomes if s.status == "booked"]
        declined = [(s, reply, turn) for s, reply, turn in outcomes if s.status != "booked"]
        assert len(booked) == 1 and len(declined) == 1
        assert booked[0][1].startswith("You're booked!")
        session, reply, turn = declined[0]
        assert reply.startswith("Sorry, that time was just taken.") and session.status == "active"
        assert turn.response["proposed_slot"]["start_datetime"] != slot["start_datetime"]
        assert session.history[-1]["proposed_slot"] == turn.response["proposed_slot"]
    finally:
        cleanup(alpha)
