"""Opt-out and help keywords, and opt-outs in the customer's own words.

Carrier keywords (the set Twilio honours for US long codes, REVOKE and OPTOUT included since the
2025 CTIA update): Twilio confirms those itself, so the product records them and says nothing. A
request in the customer's own words ("please stop texting me", "ya no me manden mensajes") is not
seen by the carrier: the product records it and confirms it once.
"""

import re

from apps.dispatch.rules import fold

OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN = frozenset({"START", "UNSTOP", "YES"})
HELP = frozenset({"HELP", "INFO"})


def keyword_of(body: str) -> str | None:
    """The keyword when the whole message is one (``" stop. "`` counts), else None."""
    word = (body or "").strip().strip(".!").upper()
    if word in OPT_OUT or word in OPT_IN or word in HELP:
        return word
    return None


# Each names the texting itself, so "the leak won't stop" or "cancel my appointment" is not one.
_ASKS_TO_STOP = {
    "en": (
        r"\b(stop|quit|cease)\s+(texting|messaging|sending|contacting|spamming)\b",
        r"\b(don'?t|do not|dont|never)\s+(text|message|sms|contact)\s+(me|us|this number)\s+(anymore|any more|again|ever)\b",
        r"\b(don'?t|do not|dont)\s+(text|message|sms)\s+(me|this number)\s*[.!]*$",
        r"\bno\s+(more|further)\s+(texts|messages|sms)\b",
        r"\b(take|remove|delete)\s+(me|this number|my number)\s+(off|from)\s+(your|ur|the|this)\s+(list|texts|messages|contacts)",
        r"\bunsubscribe\s+me\b",
        r"\bopt\s+(me\s+)?out\b",
        r"\b(lose|delete|forget|erase)\s+(my|this)\s+(number|#|contact)\b",
    ),
    "es": (
        r"\bno\s+(me\s+)?(manden|envien|mande|envie)\s+(mas\s+)?(mensajes|textos|sms)\b",
        r"\bno\s+(me\s+)?(escriban|escriba|contacten)\b",
        r"\bdej(en|e)\s+de\s+(mandar|enviar|escribir)",
        r"\b(dar(me)?|denme|deme)\s+de\s+baja\b",
        r"^\s*baja\s*[.!]*$",
        r"\bno\s+quiero\s+(recibir\s+)?(mas\s+)?mensajes\b",
        r"\b(borren|borra|borre|olviden|olvide|olvida)\s+(mi|este)\s+(numero|contacto)\b",
    ),
}


def asks_to_stop(body: str) -> str | None:
    """The language ("en", "es") of a request to stop texting in the customer's own words, else None."""
    text = fold(body or "").replace("’", "'")
    for language, patterns in _ASKS_TO_STOP.items():
        if any(re.search(pattern, text) for pattern in patterns):
            return language
    return None
