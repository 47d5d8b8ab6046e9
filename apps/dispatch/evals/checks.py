"""What a scenario expects, and the invariants every scenario must keep, checked from the outside.

Everything is read from what the product left behind: the texts the Twilio stand-in received (the
customer's replies, the owner's alerts), the assistant's messages (``proposed_slot``), appointments
in the CRM, opt-outs, the conversation row. The business's hours, breaks, holidays, service area
and catalogue come from the corpus, never from the product's configuration: if the product cannot
represent a lunch break, its bookings over lunch still count as outside hours.

Expectations on fields the product does not have yet (the lead record another change is adding to
``Conversation``, a "needs a human" flag) fail as "not checkable yet" instead of being skipped.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import datetime

from apps.dispatch.evals.corpus import (
    BusinessSpec,
    Scenario,
    parse_clock,
    parse_date,
    parse_moment,
    parse_weekday,
)
from apps.dispatch.evals.runner import Check, ScenarioResult

MAX_REPLY_SECONDS = 2.0
ACTIVE = ("scheduled", "confirmed")
# The opt-out keywords Twilio itself answers on a US long code (its default opt-out handling, which
# added OPTOUT and REVOKE in 2025): the carrier's confirmation is the customer's one confirmation,
# so the product must not send a second. Any other way of saying it is ours to confirm, once.
CARRIER_OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
# Where the lead record and the "needs a human" flag are expected on Conversation.
LEAD_FIELDS = {"job_type": "lead_job_type", "urgency": "lead_urgency", "outcome": "lead_outcome"}
NEEDS_HUMAN_FIELDS = ("needs_human", "lead_needs_human")
# lead_outcome values that mean the conversation was handed to a person (LeadOutcome).
HANDED_TO_HUMAN = frozenset({"handed_to_human"})
QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")
SLOT_OFFER = re.compile(
    # "Reply YES to cancel it" asks to confirm a cancellation; it offers no visit.
    r"reply yes(?! to cancel)|responda s[ií](?! para cancelar)|does (that|this) work|would (that|this) work|¿le (funciona|sirve|queda)|"
    r"\ble funciona\?|can have a technician there|podemos enviar un t[ée]cnico",
    re.IGNORECASE,
)
PROMISES = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(a team member|someone|somebody|the owner|our (team|owner|office|staff)|a (real )?(person|human)|"
        r"one of our (team|techs?|technicians))\b[^.!?]{0,40}\b(will|'ll|may|is going to|can)\b[^.!?]{0,25}"
        r"\b(contact|call|reach out|text|get (back|in touch)|follow up|respond|be in touch|provide)",
        r"\bpassed (your request|this|it|your (message|info|details))\b[^.!?]{0,30}\bto\b[^.!?]{0,20}\b(owner|team)",
        r"\b(we|i)('ll| will) (have|get) (someone|somebody|a (person|human|team member)|the owner)",
        r"\b(we've|we have|i've|i have) (let|told|notified|alerted) (the owner|our team|the team|someone)",
        r"\b(un miembro (de nuestro|del) equipo|alguien|el due[ñn]o|nuestro equipo|una persona)\b[^.!?]{0,40}"
        r"(se comunicar|le (llamar|contactar|escribir|responder|enviar)|lo (llamar|contactar)|se pondr)",
        r"\b(pasamos|hemos pasado|le pasamos|enviamos|avisamos)\b[^.!?]{0,30}(due[ñn]o|equipo)",
    )
]
_SPANISH = frozenset(
    [
        "el",
        "la",
        "los",
        "las",
        "de",
        "del",
        "que",
        "su",
        "sus",
        "para",
        "una",
        "uno",
        "por",
        "le",
        "lo",
        "con",
        "es",
        "est",
        "esta",
        "está",
        "usted",
        "gracias",
        "cita",
        "dirección",
        "direccion",
        "hora",
        "mañana",
        "manana",
        "tarde",
        "podemos",
        "técnico",
        "tecnico",
        "puede",
        "ayudar",
        "nombre",
        "ya",
        "no",
        "más",
        "mas",
        "necesita",
        "servicio",
        "trabajo",
        "equipo",
        "zona",
        "nos",
        "vemos",
        "listo",
        "reservada",
        "responda",
    ]
)
_ENGLISH = frozenset(
    [
        "the",
        "you",
        "your",
        "we",
        "to",
        "a",
        "is",
        "for",
        "and",
        "our",
        "thanks",
        "what",
        "can",
        "be",
        "there",
        "that",
        "this",
        "at",
        "on",
        "it",
        "of",
        "with",
        "will",
        "please",
        "reply",
        "book",
        "booked",
        "service",
        "address",
        "name",
        "time",
        "when",
        "how",
        "help",
        "does",
        "work",
    ]
)


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def language_of(text: str) -> str | None:
    """ "es", "en", or None when too short to tell (our own tally, not the product's detector)."""
    words = re.findall(r"[a-záéíóúñü']+", text.lower())
    if len(words) < 3:
        return None
    spanish = sum(1 for word in words if word in _SPANISH) + 2 * len(re.findall(r"[¿¡ñ]", text))
    english = sum(1 for word in words if word in _ENGLISH)
    if spanish == english:
        return None
    return "es" if spanish > english else "en"


def _matches(pattern: str, text: str) -> bool:
    return bool(re.search(pattern, text, re.IGNORECASE) or re.search(fold(pattern), fold(text), re.IGNORECASE))


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _range(value) -> tuple[int, int]:
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _local(moment: datetime, spec: BusinessSpec) -> datetime:
    return moment.astimezone(spec.tz)


def _when(moment: datetime, spec: BusinessSpec) -> str:
    return _local(moment, spec).strftime("%a %Y-%m-%d %H:%M %Z")


# Seed 000's emergency multipliers (docs/dispatch.md), read in the business's zone; the small hours
# count as the night before. Written out here from the documentation, not imported from pricing.py.
SEED_MULTIPLIERS = {
    "weekday": (1.5, 2.0, 2.5),
    "saturday": (1.75, 2.25, 2.75),
    "sunday": (2.0, 2.5, 2.75),
}


def emergency_factor(spec: BusinessSpec, start: datetime) -> float:
    """What an emergency starting at ``start`` is priced at: the business's own multiplier, else
    seed 000's table (day 07–17, evening 17–22, night)."""
    if spec.emergency_multiplier:
        return spec.emergency_multiplier
    local = _local(start, spec)
    weekday = (local.weekday() - 1) % 7 if local.hour < 7 else local.weekday()
    kind = "saturday" if weekday == 5 else "sunday" if weekday == 6 else "weekday"
    period = 0 if 7 <= local.hour < 17 else 1 if 17 <= local.hour < 22 else 2
    return SEED_MULTIPLIERS[kind][period]


def miles_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), in miles."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 3958.8 * math.asin(math.sqrt(a))


def _offers_slot(result: ScenarioResult, turn_index: int, reply_index: int) -> bool:
    turn = result.turns[turn_index]
    structural = reply_index < len(turn.offers) and turn.offers[reply_index]
    return structural or bool(SLOT_OFFER.search(turn.replies[reply_index]))


class Checker:
    def __init__(self, scenario: Scenario, spec: BusinessSpec, result: ScenarioResult):
        self.scenario, self.spec, self.result = scenario, spec, result
        self.expect = scenario.expect
        self.final = result.final
        self.checks: list[Check] = []

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, bool(ok), detail))

    # --- appointments -------------------------------------------------------------------------------
    @property
    def booked(self) -> list[dict]:
        return [a for a in self.final.created if a["status"] in ACTIVE and a["customer_phone"] == self.scenario.phone]

    def appointment_checks(self, prefix: str, appointment: dict, wanted: dict) -> None:
        spec = self.spec
        start, end = appointment["start"], appointment["end"]
        local_start, local_end = _local(start, spec), _local(end, spec)
        item = spec.item(wanted["job_type"]) if wanted.get("job_type") else None
        if "job_type" in wanted:
            self.add(
                f"{prefix}.job_type",
                appointment["job_type"] == wanted["job_type"],
                f"booked {appointment['job_type']!r}, expected {wanted['job_type']!r}",
            )
        minutes = round((end - start).total_seconds() / 60)
        duration = wanted.get("duration_minutes", item.duration_minutes if item else None)
        if duration is not None:
            self.add(f"{prefix}.duration", minutes == int(duration), f"{minutes} min, expected {duration}")
        emergency = wanted.get("emergency")
        if emergency is not None:
            self.add(
                f"{prefix}.emergency",
                appointment["is_emergency"] == bool(emergency),
                f"is_emergency={appointment['is_emergency']}, expected {bool(emergency)}",
            )
        price = wanted.get("price")
        if price is None and item is not None:
            factor = emergency_factor(spec, start) if emergency else 1.0
            price = [round(item.min_price * factor, 2), round(item.max_price * factor, 2)]
        if price is not None:
            value = appointment["estimated_value"]
            ok = value is not None and float(price[0]) - 0.01 <= value <= float(price[1]) + 0.01
            self.add(f"{prefix}.price", ok, f"estimated ${value}, expected ${price[0]:g}–${price[1]:g}")
        if "start_between" in wanted:
            low, high = (parse_moment(value, spec.tz) for value in wanted["start_between"])
            self.add(
                f"{prefix}.start_between",
                low <= start <= high,
                f"starts {_when(start, spec)}, expected {_when(low, spec)} – {_when(high, spec)}",
            )
        if "start_at" in wanted:
            moment = parse_moment(wanted["start_at"], spec.tz)
            self.add(
                f"{prefix}.start_at", start == moment, f"starts {_when(start, spec)}, expected {_when(moment, spec)}"
            )
        if "start_on" in wanted:
            day = parse_date(wanted["start_on"])
            self.add(f"{prefix}.start_on", local_start.date() == day, f"starts {_when(start, spec)}, expected {day}")
        if "start_not_on" in wanted:
            days = {parse_date(value) for value in wanted["start_not_on"]}
            self.add(
                f"{prefix}.start_not_on",
                local_start.date() not in days,
                f"starts {_when(start, spec)}, must not be on {', '.join(sorted(map(str, days)))}",
            )
        if "start_weekdays" in wanted:
            days = {parse_weekday(value) for value in wanted["start_weekdays"]}
            self.add(
                f"{prefix}.start_weekdays",
                local_start.weekday() in days,
                f"starts {_when(start, spec)}, expected one of {wanted['start_weekdays']}",
            )
        if "start_time_between" in wanted:
            low, high = (parse_clock(value) for value in wanted["start_time_between"])
            at = local_start.hour * 60 + local_start.minute
            self.add(
                f"{prefix}.start_time_between",
                low <= at <= high,
                f"starts {_when(start, spec)}, expected between {wanted['start_time_between'][0]} and "
                f"{wanted['start_time_between'][1]} local",
            )
        if "ends_by" in wanted:
            limit = parse_clock(wanted["ends_by"])
            ends = local_end.hour * 60 + local_end.minute
            same_day = local_end.date() == local_start.date()
            self.add(
                f"{prefix}.ends_by",
                same_day and ends <= limit,
                f"ends {_when(end, spec)}, must end by {wanted['ends_by']}",
            )
        for pattern in wanted.get("notes_contain", []):
            self.add(
                f"{prefix}.notes",
                _matches(pattern, appointment["notes"] or ""),
                f"notes {_short(appointment['notes'] or '(empty)')!r} lack /{pattern}/",
            )
        if "address_contains" in wanted:
            self.add(
                f"{prefix}.address",
                fold(wanted["address_contains"]) in fold(appointment["address"] or ""),
                f"address {appointment['address']!r}, expected it to contain {wanted['address_contains']!r}",
            )

    def bookings(self) -> None:
        expect = self.expect
        booked = self.booked
        if "booked" in expect:
            if expect["booked"]:
                self.add("booked", bool(booked), "no appointment was booked")
            else:
                self.add(
                    "booked",
                    not booked,
                    "booked " + ", ".join(f"{a['job_type']} {_when(a['start'], self.spec)}" for a in booked),
                )
        wanted_count = expect.get("appointments_created")
        if wanted_count is None and "booked" in expect:
            wanted_count = 1 if expect["booked"] else 0
        created = [a for a in self.final.created if a["status"] in ACTIVE]
        if wanted_count is not None:
            self.add(
                "appointments_created",
                len(created) == int(wanted_count),
                f"{len(created)} appointments made, expected {wanted_count}",
            )
        if "appointment" in expect:
            if booked:
                self.appointment_checks("appointment", booked[0], expect["appointment"])
            else:
                self.add("appointment", False, "nothing booked to check")
        if "existing" in expect:
            wanted = expect["existing"]
            if not self.final.existing:
                self.add("existing", False, "the scenario set up no appointment for this customer")
                return
            appointment = self.final.existing[0]
            if "status" in wanted:
                self.add(
                    "existing.status",
                    appointment["status"] == wanted["status"],
                    f"status {appointment['status']!r}, expected {wanted['status']!r}",
                )
            if wanted.get("unchanged"):
                raw = self.scenario.setup["appointments"][0]
                start = parse_moment(raw["start"], self.spec.tz)
                self.add(
                    "existing.unchanged",
                    appointment["start"] == start and appointment["status"] == raw.get("status", "scheduled"),
                    f"now {appointment['status']} at {_when(appointment['start'], self.spec)}",
                )
            rest = {k: v for k, v in wanted.items() if k not in ("status", "unchanged")}
            if rest:
                self.appointment_checks("existing", appointment, rest)

    # --- texts ----------------------------------------------------------------------------------------
    def texts(self) -> None:
        expect, result = self.expect, self.result
        replies = result.replies
        if "replies" in expect:
            low, high = _range(expect["replies"])
            self.add("replies", low <= len(replies) <= high, f"{len(replies)} replies, expected {low}–{high}")
        low, high = _range(expect.get("owner_alerts", 0))  # A normal conversation texts the owner nothing.
        count = result.owner_alerts
        self.add("owner_alerts", low <= count <= high, f"{count} owner texts, expected {low}–{high}")
        for pattern in expect.get("reply_contains", []):
            self.add(
                "reply_contains",
                any(_matches(pattern, reply) for reply in replies),
                f"no reply matches /{pattern}/",
            )
        for pattern in expect.get("last_reply_contains", []):
            last = replies[-1] if replies else ""
            self.add("last_reply_contains", _matches(pattern, last), f"last reply {_short(last)!r} lacks /{pattern}/")
        for pattern in expect.get("reply_not_contains", []):
            # The customer's own words quoted back (“tonight at 2:30am”) are not the product saying it.
            hits = [reply for reply in replies if _matches(pattern, QUOTED.sub("“…”", reply))]
            self.add("reply_not_contains", not hits, f"/{pattern}/ in {_short(hits[0])!r}" if hits else "")
        language = expect.get("reply_language", self.scenario.language)
        if language != "any":
            wrong = [reply for reply in replies if language_of(reply) not in (None, language)]
            self.add("reply_language", not wrong, f"not in {language}: {_short(wrong[0])!r}" if wrong else "")
        for forbidden in expect.get("forbid", []):
            if forbidden == "slot_offer":
                offers = [
                    turn.replies[i]
                    for t, turn in enumerate(result.turns)
                    for i in range(len(turn.replies))
                    if _offers_slot(result, t, i)
                ]
                self.add("forbid.slot_offer", not offers, f"offered a slot: {_short(offers[0])!r}" if offers else "")
            elif forbidden == "slot_offer_after_booking":
                booked_at = next((t.index for t in result.turns if t.appointments_after > 0), None)
                offers = [
                    turn.replies[i]
                    for turn in result.turns[(booked_at + 1) if booked_at is not None else len(result.turns) :]
                    for i in range(len(turn.replies))
                    if _offers_slot(result, turn.index, i)
                ]
                self.add(
                    "forbid.slot_offer_after_booking",
                    not offers,
                    f"offered a slot after booking: {_short(offers[0])!r}" if offers else "",
                )
            elif forbidden == "booking":
                self.add("forbid.booking", not self.final.created, f"{len(self.final.created)} appointments made")
            elif forbidden == "owner_alert":
                self.add("forbid.owner_alert", result.owner_alerts == 0, f"{result.owner_alerts} owner texts")
            elif forbidden == "reply":
                self.add("forbid.reply", not replies, f"{len(replies)} replies")

    # --- flags and the lead record ----------------------------------------------------------------------------
    def _field(self, names) -> tuple[str | None, object]:
        for name in names:
            if name in self.final.conversation_fields:
                return name, (self.final.conversation or {}).get(name)
        return None, None

    def flags(self) -> None:
        flags = self.expect.get("flags", {})
        if "needs_human" in flags:
            # A flag of its own if the product has one, else the lead record's "handed to a person".
            name, value = self._field(NEEDS_HUMAN_FIELDS)
            if name is not None:
                self.add("flags.needs_human", bool(value) == bool(flags["needs_human"]), f"{name}={value!r}")
            else:
                name, value = self._field([LEAD_FIELDS["outcome"]])
                if name is None:
                    self.add(
                        "flags.needs_human",
                        False,
                        "not checkable yet: Conversation has neither a needs_human field nor lead_outcome",
                    )
                else:
                    flagged = value in HANDED_TO_HUMAN
                    self.add(
                        "flags.needs_human",
                        flagged == bool(flags["needs_human"]),
                        f"{name}={value!r} (handed_to_human is the flag)",
                    )
        if "emergency" in flags:
            wanted = bool(flags["emergency"])
            name, urgency = self._field([LEAD_FIELDS["urgency"]])
            marked = [a for a in self.booked if a["is_emergency"]]
            if wanted:
                if marked or urgency == "emergency":
                    self.add("flags.emergency", True)
                elif name is None and not self.booked:
                    self.add(
                        "flags.emergency",
                        False,
                        "not checkable yet: nothing booked and Conversation has no lead_urgency field",
                    )
                else:
                    self.add(
                        "flags.emergency",
                        False,
                        f"not flagged (booking is_emergency={[a['is_emergency'] for a in self.booked]}, "
                        f"lead_urgency={urgency!r})",
                    )
            else:
                self.add(
                    "flags.emergency",
                    not marked and urgency != "emergency",
                    f"flagged as an emergency (booking {bool(marked)}, lead_urgency={urgency!r})",
                )
        if "opted_out" in flags:
            self.add(
                "flags.opted_out",
                self.final.opted_out == bool(flags["opted_out"]),
                f"opted_out={self.final.opted_out}, expected {bool(flags['opted_out'])}",
            )

    def lead(self) -> None:
        for key, wanted in self.expect.get("lead", {}).items():
            name, value = self._field([LEAD_FIELDS[key]])
            if name is None:
                self.add(f"lead.{key}", False, f"not checkable yet: Conversation has no {LEAD_FIELDS[key]} field")
                continue
            self.add(f"lead.{key}", value == wanted, f"{name}={value!r}, expected {wanted!r}")

    def customer(self) -> None:
        if "customer_name" not in self.expect:
            return
        wanted = self.expect["customer_name"]
        name = (self.final.customer or {}).get("name") or (self.final.conversation or {}).get("customer_name") or ""
        self.add("customer_name", fold(name.strip()) == fold(wanted), f"name {name!r}, expected {wanted!r}")

    # --- invariants every scenario keeps --------------------------------------------------------------------
    def invariants(self) -> None:
        result, spec = self.result, self.spec
        moved = [
            a
            for a, raw in zip(self.final.existing, self.scenario.setup.get("appointments") or [], strict=False)
            if a["start"] != parse_moment(raw["start"], spec.tz) and a["status"] in ACTIVE
        ]
        outside = [
            a
            for a in [*self.final.created, *moved]
            if not a["is_emergency"] and not spec.within_hours(a["start"], a["end"])
        ]
        self.add(
            "invariant.within_hours",
            not outside,
            "booked outside hours: "
            + ", ".join(f"{_when(a['start'], spec)}–{_local(a['end'], spec):%H:%M}" for a in outside),
        )
        far = [a for a in self.final.created if self.in_area(a["address"]) is False]
        self.add(
            "invariant.service_area",
            not far,
            "booked outside the service area: " + ", ".join(a["address"] for a in far),
        )
        active = [a for a in self.final.created if a["status"] in ACTIVE]
        if "appointments_created" not in self.expect:
            self.add("invariant.one_booking", len(active) <= 1, f"{len(active)} appointments made")
        self.opt_out_invariants()
        self.human_invariants()
        self.emergency_invariants()
        promised = [reply for reply in result.replies if any(p.search(reply) for p in PROMISES)]
        if promised:
            self.add(
                "invariant.promise_kept",
                result.owner_alerts > 0,
                f"promised a follow-up ({_short(promised[0])!r}) but the owner was never texted",
            )
        slow = [turn for turn in result.turns if turn.seconds > MAX_REPLY_SECONDS]
        self.add(
            "invariant.reply_time",
            not slow,
            ", ".join(f"turn {turn.index + 1} took {turn.seconds:.2f} s" for turn in slow),
        )
        if result.engine == "openai":
            fallback = [usage for usage in self.final.usage if usage[0] != "openai" or usage[1]]
            detail = f"{len(fallback)} of {len(self.final.usage)} turns fell back" + (
                f" ({fallback[0][2]})" if fallback else ""
            )
            if result.unmatched_ai:
                detail += f"; the stand-in had no annotation for {result.unmatched_ai[0]!r}"
            self.add("invariant.openai_answered", not fallback and not result.unmatched_ai, detail)

    def in_area(self, address: str) -> bool | None:
        """Whether ``address`` lies inside the business's radius: its ZIP's centroid (the ``zipcodes``
        table, looked up here, not through the product's geocoder), else the scenario's say-so."""
        import zipcodes

        zips = re.findall(r"\b(\d{5})(?:-\d{4})?\b", address or "")
        rows = zipcodes.matching(zips[-1]) if zips else []
        if not rows or not rows[0].get("lat"):
            return self.expect.get("address_in_area")
        area = self.spec.area
        distance = miles_between(float(rows[0]["lat"]), float(rows[0]["long"]), area["latitude"], area["longitude"])
        return distance <= float(area["radius_miles"])

    def opt_out_invariants(self) -> None:
        result = self.result
        if self.scenario.setup.get("opted_out"):
            sent = [*result.auto_replies, *result.replies]
            self.add("invariant.silent_to_opted_out", not sent, f"{len(sent)} texts sent to an opted-out number")
            return
        marked = [turn for turn in result.turns if "opt_out" in turn.marks]
        if not marked:
            return
        first = marked[0]
        keyword = re.sub(r"[^A-Z]", "", first.text.upper())
        carrier = keyword in CARRIER_OPT_OUT_KEYWORDS
        expected = self.expect.get("replies_after_opt_out", 0 if carrier else 1)
        later = [reply for turn in result.turns[first.index + 1 :] for reply in turn.replies]
        confirmations = len(first.replies)
        self.add(
            "invariant.opt_out_confirmed_once",
            confirmations == expected and not later,
            f"{confirmations} replies to {first.text!r} (expected {expected}"
            + (", Twilio confirms this keyword itself" if carrier else "")
            + f"), {len(later)} texts after it",
        )
        offers = [reply for turn in result.turns[first.index :] for reply in turn.replies if SLOT_OFFER.search(reply)]
        offers += [
            reply
            for turn in result.turns[first.index :]
            for reply, offer in zip(turn.replies, turn.offers, strict=False)
            if offer
        ]
        self.add("invariant.no_slot_after_opt_out", not offers, f"offered {_short(offers[0])!r}" if offers else "")
        booked_later = first.appointments_after < (result.turns[-1].appointments_after if result.turns else 0)
        self.add("invariant.no_booking_after_opt_out", not booked_later, "booked after the opt-out")

    def human_invariants(self) -> None:
        result = self.result
        marked = [turn for turn in result.turns if "human_request" in turn.marks]
        if not marked:
            return
        first = marked[0]
        offers = [
            turn.replies[i]
            for turn in result.turns[first.index :]
            for i in range(len(turn.replies))
            if _offers_slot(result, turn.index, i)
        ]
        before = result.turns[first.index - 1].appointments_after if first.index else 0
        after = result.turns[-1].appointments_after
        self.add(
            "invariant.stops_selling",
            not offers and after == before,
            (f"offered {_short(offers[0])!r}" if offers else "")
            + (" booked after asking for a person" if after > before else ""),
        )

    def emergency_invariants(self) -> None:
        result = self.result
        for turn in result.turns:
            if "emergency" not in turn.marks:
                continue
            alerted = sum(len(t.owner_texts) for t in result.turns[: turn.index + 1])
            self.add(
                "invariant.owner_alerted_at_once",
                alerted > 0,
                f"no owner text by the end of turn {turn.index + 1} ({_short(turn.text, 50)!r})",
            )
            break

    def run(self) -> list[Check]:
        self.bookings()
        self.texts()
        self.flags()
        self.lead()
        self.customer()
        self.invariants()
        return self.checks


def evaluate(scenario: Scenario, spec: BusinessSpec, result: ScenarioResult) -> list[Check]:
    return Checker(scenario, spec, result).run()
