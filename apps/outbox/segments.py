"""How many SMS segments a body costs: GSM-7 when every character is in the GSM 03.38 alphabet
(160 characters in one segment, 153 per segment when concatenated; the extension table's
characters count twice), UCS-2 otherwise (70, or 67 per segment; characters outside the BMP, such
as most emoji, take two UTF-16 code units)."""

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def count_segments(body: str) -> SegmentCount:
    """Concatenated segments never split an escaped GSM-7 character or a UTF-16 surrogate pair."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in body):
        costs = [2 if char in GSM7_EXTENSION else 1 for char in body]
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        costs = [2 if ord(char) > 0xFFFF else 1 for char in body]
        single, multi, encoding = 70, 67, "UCS-2"
    units = sum(costs)
    if units <= single:
        return SegmentCount(encoding, units, 1 if units else 0)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            segments, used = segments + 1, 0
        used += cost
    return SegmentCount(encoding, units, segments)


def clip_to_segments(body: str, max_segments: int, *, before: str = "", after: str = "") -> str:
    """``body`` shortened at a word, with an ellipsis, until it fits in ``max_segments`` between
    ``before`` and ``after`` (sentences that must go out whole, e.g. a disclosure or an opt-out line);
    returns ``before + body + after``."""
    if count_segments(before + body + after).segments <= max_segments:
        return before + body + after
    words = body.split(" ")
    while len(words) > 1:
        words.pop()
        candidate = " ".join(words).rstrip(",;:") + "…"
        if count_segments(before + candidate + after).segments <= max_segments:
            return before + candidate + after
    return before + body[: max(0, 60 * max_segments - len(before) - len(after))] + after
