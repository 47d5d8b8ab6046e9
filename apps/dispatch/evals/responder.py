"""The "model" behind the OpenAI stand-in when the evaluation runs with ``--engine openai``.

It is not a language model and does not pretend to be one: it answers each chat-completions request
with the structured extraction the scenario's author wrote for that customer turn (``ai:`` in the
corpus), accumulated over the conversation the way the product's prompt asks a model to read it
("fill in every field from what the customer has said so far"). It never calls the product's own
rule engine, so with ``--engine openai`` the product really runs on what came back through the SDK,
and a scenario passes or fails on the product's use of a good reading, not on our regexes.

Fields that describe the job, the customer and the time carry over from earlier turns; the
confirmation is the current turn's only. Unannotated turns keep the reading so far. ``reply`` is the
annotated one, else a question for the next missing detail in the customer's language (what the
prompt asks the model for).
"""

from __future__ import annotations

import threading

from apps.dispatch.evals.corpus import BusinessSpec, Scenario

CARRIED = ("intent", "trade", "job_type", "job_description", "urgency", "customer_name", "address", "preferred_time")
QUESTIONS = {
    "en": {
        "job": "Thanks for texting! What can we help you with?",
        "address": "Got it. What's the address where you need the service?",
        "name": "Thanks! Could I get your name?",
        "done": "Thanks! Let me check our schedule for you.",
    },
    "es": {
        "job": "¡Gracias por escribir! ¿En qué le podemos ayudar?",
        "address": "Entendido. ¿Cuál es la dirección donde necesita el servicio?",
        "name": "¡Gracias! ¿Me podría dar su nombre?",
        "done": "¡Gracias! Déjeme revisar la agenda.",
    },
}


class ScenarioResponder:
    """``responder(body) -> dict`` for ``OpenAIStandIn``; one per scenario."""

    def __init__(self, scenario: Scenario, business: BusinessSpec):
        self.scenario = scenario
        self.business = business
        self.next_turn = 0
        self.unmatched: list[str] = []
        self._lock = threading.Lock()

    def _turn_index(self, text: str) -> int | None:
        turns = self.scenario.turns
        for index in range(self.next_turn, len(turns)):
            if turns[index].text == text:
                return index
        for index in range(len(turns)):  # The same turn asked again (a retry): answer it the same way.
            if turns[index].text == text:
                return index
        return None

    def extraction(self, upto: int | None) -> dict:
        reading = {
            "intent": "general",
            "trade": None,
            "job_type": None,
            "job_description": None,
            "urgency": "normal",
            "customer_name": None,
            "address": None,
            "preferred_time": None,
        }
        turns = self.scenario.turns[: upto + 1] if upto is not None else []
        for turn in turns:
            for key in CARRIED:
                if key in turn.ai:
                    reading[key] = turn.ai[key]
            if turn.ai.get("job_type") and "intent" not in turn.ai and reading["intent"] == "general":
                reading["intent"] = "appointment"
        current = turns[-1].ai if turns else {}
        if reading["job_type"] and not reading["trade"]:
            item = self.business.item(reading["job_type"])
            reading["trade"] = item.trade if item else self.business.trade
        language = self.scenario.language
        for turn in turns:
            language = turn.ai.get("language", language)
        questions = QUESTIONS.get(language, QUESTIONS["en"])
        if current.get("reply"):
            reply = current["reply"]
        elif not reading["job_type"] and not reading["trade"]:
            reply = questions["job"]
        elif not reading["address"]:
            reply = questions["address"]
        elif not reading["customer_name"]:
            reply = questions["name"]
        else:
            reply = questions["done"]
        return {
            **reading,
            "intent_confidence": 0.92,
            "job_confidence": 0.9 if reading["job_type"] else (0.6 if reading["trade"] else 0.0),
            "confirmation": current.get("confirmation"),
            "language": language,
            "reply": reply,
        }

    def __call__(self, body: dict) -> dict:
        messages = body.get("messages") or []
        last_user = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        with self._lock:
            index = self._turn_index(last_user)
            if index is None:
                self.unmatched.append(last_user)
            else:
                self.next_turn = max(self.next_turn, index + 1)
            return self.extraction(index)
