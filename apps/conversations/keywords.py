"""Carrier opt-out keywords (the set Twilio honours for US long codes)."""

OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN = frozenset({"START", "UNSTOP", "YES"})
HELP = frozenset({"HELP", "INFO"})


def keyword_of(body: str) -> str | None:
    """The keyword when the whole message is one (``" stop. "`` counts), else None."""
    word = (body or "").strip().strip(".!").upper()
    if word in OPT_OUT or word in OPT_IN or word in HELP:
        return word
    return None
