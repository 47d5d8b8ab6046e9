"""The OpenAI path against a loopback stand-in that speaks the chat-completions protocol.

The real ``openai`` SDK is pointed at it (OPENAI_BASE_URL); the tests read back the request the SDK
made and check what the engine did with the answer, and that failures fall back to the rules.
"""

import time
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from apps.dispatch import engine, services
from apps.dispatch.models import AiUsage
from apps.dispatch.providers import openai_chat
from apps.dispatch.serializers import ProcessConversationRequestSerializer

CHICAGO = ZoneInfo("America/Chicago")
MONDAY_10AM = datetime(2026, 11, 23, 10, tzinfo=CHICAGO)
# Nothing here names a job the rules know: only the model can tell it is a leak.
VAGUE = "the thing under the kitchen sink is making a mess. Robin, 2210 Maple Dr Evanston IL 60201, Tuesday morning?"


def extraction(**overrides) -> dict:
    data = {
        "intent": "appointment",
        "intent_confidence": 0.92,
        "trade": "plumbing",
        "job_type": "leak_repair",
        "job_description": "Leak under the kitchen sink",
        "job_confidence": 0.88,
        "urgency": "normal",
        "customer_name": "Robin",
        "address": "2210 Maple Dr, Evanston, IL 60201",
        "preferred_time": "Tuesday morning",
        "confirmation": None,
        "language": "en",
        "reply": "Thanks Robin! Let me find you a time.",
    }
    data.update(overrides)
    return data


def validated(payload: dict) -> dict:
    serializer = ProcessConversationRequestSerializer(data=payload)
    assert serializer.is_valid(), serializer.errors
    return serializer.validated_data


def test_sdk_request_is_structured_and_the_extraction_drives_the_answer(openai_standin, request_payload):
    openai_standin.responder = lambda body: extraction()
    response, result = engine.process_conversation(validated(request_payload(VAGUE)), now=MONDAY_10AM)

    assert len(openai_standin.requests) == 1
    sent = openai_standin.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["authorization"] == "Bearer sk-test-standin"
    body = sent["body"]
    assert body["model"] == "gpt-4o-mini"
    assert body["max_tokens"] == 400 and body["temperature"] == 0.2
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["response_format"]["json_schema"]["schema"] == openai_chat.EXTRACTION_SCHEMA
    assert body["messages"][0]["role"] == "system" and "Alpha Plumbing" in body["messages"][0]["content"]
    assert "Drain cleaning" in body["messages"][0]["content"]  # the business's estimates are in context
    assert body["messages"][-1] == {"role": "user", "content": VAGUE}

    assert result.ok and result.error == "" and result.prompt_tokens > 0 and result.completion_tokens > 0
    assert response["processing"] == {
        "engine": "openai",
        "model": "gpt-4o-mini",
        "fallback_used": False,
        "error": "",
        "latency_ms": response["processing"]["latency_ms"],
    }
    info = response["extracted_info"]
    assert (info["job_type"], info["trade"], info["customer_name"]) == (
        "Leak repair",
        "plumbing",
        "Robin",
    )  # the business's key
    assert info["time_preference"]["date"] == "2026-11-24" and info["time_preference"]["day_part"] == "morning"
    # Facts come from the engine: the Leak repair estimate and a free Tuesday-morning slot.
    assert response["next_action"]["action"] == "propose_slot"
    assert response["proposed_slot"]["start_datetime"] == "2026-11-24T08:00:00-06:00"
    assert response["validation"]["price_estimate"]["min_price"] == 120.0
    assert "$120–$300" in response["next_action"]["message"]


def test_history_goes_to_the_model_as_chat_turns_and_its_question_is_used(openai_standin, request_payload):
    openai_standin.responder = lambda body: extraction(
        address=None, customer_name=None, reply="Where should we send the plumber?"
    )
    history = [
        {"role": "customer", "content": "hello?"},
        {"role": "assistant", "content": "Hi! How can we help?"},
    ]
    response, _ = engine.process_conversation(validated(request_payload("sink is leaking", history)), now=MONDAY_10AM)
    roles = [(m["role"], m["content"]) for m in openai_standin.requests[0]["body"]["messages"][1:]]
    assert roles == [("user", "hello?"), ("assistant", "Hi! How can we help?"), ("user", "sink is leaking")]
    assert response["next_action"]["action"] == "ask_for_info"
    assert response["next_action"]["message"] == "Where should we send the plumber?"


@pytest.mark.parametrize(
    ("mode", "error"),
    [("error500", "http_500"), ("timeout", "timeout"), ("malformed", "invalid_response: not JSON")],
)
def test_failures_fall_back_to_the_rules_within_two_seconds(openai_standin, request_payload, mode, error):
    openai_standin.mode = mode
    payload = validated(request_payload("Hi, my kitchen sink is clogged and won't drain"))
    started = time.perf_counter()
    response, result = engine.process_conversation(payload, now=MONDAY_10AM)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0
    assert not result.ok and result.error.startswith(error)
    assert response["processing"]["engine"] == "rules" and response["processing"]["fallback_used"] is True
    assert (
        response["next_action"]["message"] == "Got it: Drain cleaning. Could I get your name and the service address?"
    )
    assert len(openai_standin.requests) == 1  # no retries: the budget is two seconds


def test_invalid_json_for_the_schema_is_refused(openai_standin, request_payload):
    openai_standin.responder = lambda body: extraction(urgency="catastrophic")
    response, result = engine.process_conversation(
        validated(request_payload("How much for a water heater?")), now=MONDAY_10AM
    )
    assert result.error.startswith("invalid_response: urgency='catastrophic'")
    assert response["processing"]["engine"] == "rules"
    assert response["next_action"]["message"].startswith("A water heater job usually runs $900–$1,800")


def test_breaker_opens_after_five_failures_and_then_skips_openai(openai_standin, request_payload):
    openai_standin.mode = "error500"
    payload = validated(request_payload("What are your hours?"))
    errors = [engine.process_conversation(payload, now=MONDAY_10AM)[1].error for _ in range(7)]
    assert errors[:4] == ["http_500"] * 4
    assert errors[4:] == ["circuit_open"] * 3  # the fifth failure opens it; then OpenAI is not called
    assert len(openai_standin.requests) == 5
    assert openai_standin.requests and openai_breaker_state() == "open"


def openai_breaker_state() -> str:
    from nevermisscall.breakers import get_breaker

    return get_breaker(openai_chat.BREAKER_NAME).current_state


def test_no_key_means_rules_and_no_call(request_payload, settings):
    settings.OPENAI_API_KEY = ""
    response, result = engine.process_conversation(validated(request_payload("What are your hours?")), now=MONDAY_10AM)
    assert (
        result is None
        and response["processing"]["engine"] == "rules"
        and response["processing"]["fallback_used"] is False
    )


def test_usage_is_recorded_per_business(openai_standin, request_payload, alpha, beta):
    openai_standin.responder = lambda body: extraction()
    connection.set_tenant(alpha)
    services.conversation_process(request=validated(request_payload(VAGUE)), conversation_ref="conv-1", now=MONDAY_10AM)
    openai_standin.mode = "timeout"
    services.conversation_process(request=validated(request_payload(VAGUE)), now=MONDAY_10AM)
    rows = list(AiUsage.objects.order_by("created_at", "id"))
    assert [(r.engine, r.fallback_used, r.error) for r in rows] == [("openai", False, ""), ("rules", True, "timeout")]
    ok = rows[0]
    assert ok.model == "gpt-4o-mini" and ok.prompt_tokens > 0 and ok.completion_tokens > 0
    assert ok.cost_usd == openai_chat.estimate_cost("gpt-4o-mini", ok.prompt_tokens, ok.completion_tokens) > 0
    assert ok.intent == "appointment" and ok.conversation_ref == "conv-1" and ok.latency_ms >= 0
    assert rows[1].conversation_ref == "+13125550187"  # the caller, when no conversation id is given
    connection.set_tenant(beta)
    assert AiUsage.objects.count() == 0


def test_cost_estimate():
    assert openai_chat.estimate_cost("gpt-4o-mini", 1_000_000, 1_000_000) == Decimal("0.750000")
    assert openai_chat.estimate_cost("gpt-4o-mini-2024-07-18", 2000, 100) == Decimal("0.000360")
    assert openai_chat.estimate_cost("some-local-model", 1000, 1000) == Decimal("0")


@pytest.mark.parametrize(
    "content",
    ["", "[]", '{"intent": "appointment"}', '{"intent": 5}'],
)
def test_validate_extraction_refuses_what_is_not_the_schema(content):
    with pytest.raises(openai_chat.AiResponseInvalid):
        openai_chat.validate_extraction(content)
