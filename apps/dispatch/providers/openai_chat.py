"""OpenAI chat completions with structured output, for extracting a conversation's facts.

The model returns one JSON object that must match ``EXTRACTION_SCHEMA`` (``response_format`` of
type ``json_schema``, strict): free text is never parsed. ``openai`` is imported lazily (1.3 s).
The SDK retries nothing (``max_retries=0``) and gives up after ``OPENAI_TIMEOUT_SECONDS``: the
customer must have an answer within two seconds, and the rule-based engine answers when this fails.
Transport failures (errors, 5xx, timeouts) count against the ``openai`` circuit breaker; a reply
that is not valid JSON for the schema is a failure of this call only.
"""

import json
import time
from dataclasses import dataclass, field
from decimal import Decimal

import pybreaker
from django.conf import settings

from apps.dispatch.rules import INTENTS, URGENCIES
from nevermisscall.breakers import get_breaker
from nevermisscall.choices import Trade
from nevermisscall.demo_guard import current_business_is_demo
from nevermisscall.openai_client import openai_client

BREAKER_NAME = "openai"
EXTRACTION_FIELDS = {
    "intent": {"type": "string", "enum": list(INTENTS)},
    "intent_confidence": {"type": "number"},
    "trade": {"type": ["string", "null"], "enum": [*Trade.values, None]},
    "job_type": {"type": ["string", "null"]},
    "job_description": {"type": ["string", "null"]},
    "job_confidence": {"type": "number"},
    "urgency": {"type": "string", "enum": list(URGENCIES)},
    "customer_name": {"type": ["string", "null"]},
    "address": {"type": ["string", "null"]},
    "preferred_time": {"type": ["string", "null"]},
    "confirmation": {"type": ["string", "null"], "enum": ["confirmed", "rejected", None]},
    "language": {"type": "string", "enum": ["en", "es"]},
    "reply": {"type": "string"},
}
EXTRACTION_SCHEMA = {
    "type": "object",
    "properties": EXTRACTION_FIELDS,
    "required": list(EXTRACTION_FIELDS),
    "additionalProperties": False,
}
RESPONSE_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "dispatch_extraction", "strict": True, "schema": EXTRACTION_SCHEMA},
}

SYSTEM_PROMPT = """You are the text assistant of {business_name}, a {trade} business. A customer \
who could not reach the business by phone is texting. Read the whole conversation and fill in \
every field of the JSON schema from what the customer has said so far:
- intent: emergency (danger or damage happening now), pricing (asks what something costs), \
appointment (wants work done), or general.
- trade: one of plumbing, electrical, hvac, locksmith, garage_door, or null; job_type: a short \
snake_case name for the job (e.g. drain_cleaning, water_heater, lockout, garage_spring).
- urgency: emergency, urgent (today, no heat, no hot water, locked out) or normal.
- customer_name, address (the full service address as written), preferred_time (the customer's \
own words about when, e.g. "tomorrow after 3pm"): null when not given.
- confirmation: "confirmed" if the last message accepts the time the assistant proposed, \
"rejected" if it declines it, else null.
- language: "es" if the customer writes in Spanish, else "en".
- reply: one or two short, friendly SMS sentences in the customer's language that ask for the \
next missing detail (the problem, then the address and name). Never promise a time or a price: \
the system adds those.
Business hours: {business_hours}. Services and estimates: {estimates}."""


class AiResponseInvalid(ValueError):
    """The model answered, but not with JSON matching the schema."""


@dataclass
class AiResult:
    extraction: dict | None
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    error: str = ""
    request: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.extraction is not None

    @property
    def cost_usd(self) -> Decimal:
        return estimate_cost(self.model, self.prompt_tokens, self.completion_tokens)


def estimate_cost(model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
    prices = settings.OPENAI_PRICES_PER_MILLION
    # Dated snapshots ("gpt-4o-mini-2024-07-18") cost what their family costs.
    family = next((name for name in sorted(prices, key=len, reverse=True) if model.startswith(name)), None)
    if family is None:
        return Decimal("0")
    input_price, output_price = prices[family]
    cost = (
        Decimal(prompt_tokens) * Decimal(str(input_price)) + Decimal(completion_tokens) * Decimal(str(output_price))
    ) / Decimal(1_000_000)
    return cost.quantize(Decimal("0.000001"))


def get_client():
    return openai_client(timeout=settings.OPENAI_TIMEOUT_SECONDS)


def is_configured() -> bool:
    """OpenAI may be asked: a key is set and the business is no demo (the demo gets the rules)."""
    return bool(settings.OPENAI_API_KEY) and not current_business_is_demo()


def validate_extraction(content: str | None) -> dict:
    """The model's JSON, checked against the schema (strict mode should guarantee it; trust nothing)."""
    try:
        data = json.loads(content or "")
    except (TypeError, ValueError) as exc:
        raise AiResponseInvalid(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise AiResponseInvalid("not a JSON object")
    missing = set(EXTRACTION_FIELDS) - set(data)
    if missing:
        raise AiResponseInvalid(f"missing fields: {sorted(missing)}")
    for name, spec in EXTRACTION_FIELDS.items():
        value = data[name]
        types = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
        if value is None:
            if "null" not in types:
                raise AiResponseInvalid(f"{name} may not be null")
            continue
        if "number" in types and not (isinstance(value, (int, float)) and not isinstance(value, bool)):
            raise AiResponseInvalid(f"{name} must be a number")
        if "string" in types and not isinstance(value, str):
            raise AiResponseInvalid(f"{name} must be a string")
        if "enum" in spec and value not in spec["enum"]:
            raise AiResponseInvalid(f"{name}={value!r} is not allowed")
    for name in ("intent_confidence", "job_confidence"):
        data[name] = max(0.0, min(1.0, float(data[name])))
    return data


def build_messages(*, history: list[dict], current_message: str, context: dict) -> list[dict]:
    """System prompt with the business's context, then the conversation as chat turns."""
    system = SYSTEM_PROMPT.format(
        business_name=context.get("business_name") or "the business",
        trade=context.get("trade") or "home-service",
        business_hours=json.dumps(context.get("business_hours") or {}, sort_keys=True),
        estimates=json.dumps(context.get("job_estimates") or [], default=str),
    )
    messages = [{"role": "system", "content": system}]
    for turn in history:
        role = "user" if turn["role"] == "customer" else "assistant"
        messages.append({"role": role, "content": turn["content"]})
    messages.append({"role": "user", "content": current_message})
    return messages


def extract(*, history: list[dict], current_message: str, context: dict) -> AiResult:
    """Ask the model for the conversation's facts. Never raises: failures come back in ``error``."""
    import openai

    model = settings.OPENAI_MODEL
    request = {
        "model": model,
        "messages": build_messages(history=history, current_message=current_message, context=context),
        "response_format": RESPONSE_FORMAT,
        "max_tokens": settings.OPENAI_MAX_TOKENS,
        "temperature": settings.OPENAI_TEMPERATURE,
    }
    started = time.perf_counter()
    result = AiResult(extraction=None, model=model, request=request)
    try:
        completion = get_breaker(BREAKER_NAME).call(get_client().chat.completions.create, **request)
    except pybreaker.CircuitBreakerError:
        result.error = "circuit_open"
    except openai.APITimeoutError:
        result.error = "timeout"
    except openai.APIStatusError as exc:
        result.error = f"http_{exc.status_code}"
    except openai.APIError as exc:
        result.error = f"api_error: {type(exc).__name__}"
    else:
        result.model = completion.model or model
        if completion.usage is not None:
            result.prompt_tokens = completion.usage.prompt_tokens or 0
            result.completion_tokens = completion.usage.completion_tokens or 0
        try:
            choice = completion.choices[0].message
            if getattr(choice, "refusal", None):
                raise AiResponseInvalid("the model refused")
            result.extraction = validate_extraction(choice.content)
        except (AiResponseInvalid, IndexError) as exc:
            result.error = f"invalid_response: {exc}"[:200]
    result.latency_ms = round((time.perf_counter() - started) * 1000)
    return result
