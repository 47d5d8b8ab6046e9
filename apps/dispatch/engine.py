"""The dispatch brain: a conversation and the business's context in, the next step out.

``process_conversation(request)`` takes seed 000's ProcessConversationRequest (as validated by
``serializers.ProcessConversationRequestSerializer``) and returns its ProcessConversationResponse.
It is stateless, as the seed's Dispatch-Bot-AI was: everything it needs is in the request, and the
slot it proposes comes back to it on the assistant's message in ``conversation_history``, so it
can tell a "yes" to that slot from a "yes" to anything else.

Understanding comes from OpenAI (structured output) when a key is configured and from the
rule-based engine otherwise or when OpenAI fails; everything after that (validation, slots, prices,
the next action and the facts in the reply) is deterministic code.
"""

import dataclasses
import time as clock
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import translation

from apps.dispatch import catalogue, pricing, replies, rules, scheduling, vocabulary
from apps.dispatch.geo import Geocoder, check_service_area, get_geocoder
from apps.dispatch.providers import openai_chat
from nevermisscall.choices import Trade

STAGES = ("initial", "collecting_info", "awaiting_confirmation", "confirmed", "escalated", "completed")
ACTIONS = (
    "ask_for_info",
    "answer_question",
    "propose_slot",
    "book_appointment",
    "escalate_to_owner",
    "decline_out_of_area",
    "decline_out_of_trade",
    "no_reply",  # Spam, or a wrong number that was answered once: nothing is sent.
    "reschedule_appointment",  # The customer confirmed moving their appointment to proposed_slot.
    "cancel_appointment",  # The customer confirmed cancelling it.
)


def _customer_texts(request: dict) -> list[str]:
    """The customer's messages, newest first (the current one included)."""
    earlier = [turn["content"] for turn in request.get("conversation_history", []) if turn["role"] == "customer"]
    return [request["current_message"], *reversed(earlier)]


def _first(values):
    return next((value for value in values if value), None)


def _last_proposed_slot(request: dict) -> dict | None:
    """The slot the assistant's latest message proposed, if that message proposed one."""
    for turn in reversed(request.get("conversation_history", [])):
        if turn["role"] == "assistant":
            return turn.get("proposed_slot")
    return None


def rule_extraction(request: dict, *, now_local: datetime) -> dict:
    """Everything the rule-based engine reads from the conversation, newest information first."""
    texts = _customer_texts(request)
    current = texts[0]
    trades = [request.get("trade_type")] if request.get("trade_type") else []
    jobs = [rules.detect_job_type(text, trades=trades) for text in texts]
    job = _first(match if match.trade else None for match in jobs) or rules.JobMatch(None, None, None, 0.0)
    urgencies = [rules.detect_urgency(rules.without_denials(text)) for text in texts]
    urgency, urgency_confidence = max(urgencies, key=lambda item: (rules.URGENCY_RANK[item[0]], item[1]))
    intents = [
        rules.detect_intent(text, urgency=urgency if index == 0 else None, job=jobs[index])
        for index, text in enumerate(texts)
    ]
    intent, intent_confidence = _first(item if item[0] != "general" else None for item in intents) or intents[0]
    urgency_reasons = rules.urgency_reasons(texts)
    situation = None if urgency == "emergency" else rules.situational_emergency(texts, local_hour=now_local.hour)
    if situation is not None and not rules.says_not_urgent(texts):
        urgency, urgency_confidence = "emergency", 0.85
        urgency_reasons = {**urgency_reasons, "emergency": situation}
    if urgency == "emergency":
        intent, intent_confidence = "emergency", max(intent_confidence, 0.9)
    address = rules.conversation_address(texts)
    preferences = [rules.parse_time_preference(text, now=now_local) for text in texts]
    preference = _latest_preference(preferences)
    language = rules.detect_language(current, default="")
    if not language or len(current.split()) < 3:
        language = rules.detect_language(" ".join(texts), default="") or language
    return {
        "intent": intent,
        "intent_confidence": intent_confidence,
        "trade": job.trade,
        "job_type": job.job_type,
        "job_label": job.label,
        "job_description": _first(text for text, match in zip(texts, jobs, strict=True) if match.trade),
        "job_confidence": job.confidence,
        "job_key_from_model": False,  # the rules' job types are their own, not the business's keys
        "urgency": urgency,
        "urgency_confidence": urgency_confidence,
        "urgency_reasons": urgency_reasons,  # the words (or the situation) behind each level
        "customer_name": _first(rules.extract_name(text) for text in texts),
        "address": address,
        "preference": preference,
        "confirmation": rules.detect_confirmation(current),
        "language": language,
        "human_request": rules.asks_for_human(current),
        "reply": "",
    }


def _latest_preference(preferences: list[rules.TimePreference]) -> rules.TimePreference | None:
    """The newest time preference; one that only rules days out ("not Monday") narrows the one before
    it ("sometime next week") instead of replacing it."""
    given = [pref for pref in preferences if not pref.is_empty]
    if not given:
        return None
    newest = given[0]
    if len(given) > 1 and newest.weekday is not None and newest.weekday == given[1].weekday:
        # "Make that Thursday, I have the dentist Wed": a correction moves away from the day before.
        others = [day for day in rules.weekdays_named(newest.raw) if day != newest.weekday]
        if others and newest.date is not None:
            ahead = (others[0] - newest.date.weekday()) % 7
            newest = dataclasses.replace(newest, weekday=others[0], date=newest.date + timedelta(days=ahead))
    only_days_out = newest.matched == ["excluded_weekdays"]
    if len(given) < 2 or not (only_days_out or rules.says_same_time(newest.raw)):
        return newest
    older = given[1]
    if rules.says_same_time(newest.raw) and not (newest.at or newest.after or newest.before):
        # "Friday same time instead?": the new day at the time asked for before.
        return dataclasses.replace(newest, at=older.at, after=older.after, before=older.before)
    excluded = tuple(sorted({*older.excluded_weekdays, *newest.excluded_weekdays}))
    day = older.date if older.date is not None and older.date.weekday() not in excluded else None
    return dataclasses.replace(
        older,
        date=day,
        weekday=older.weekday if day is not None else None,
        earliest_date=older.earliest_date or (older.date if day is None else None),
        excluded_weekdays=excluded,
        matched=[*older.matched, "excluded_weekdays"],
    )


def merge_ai(extraction: dict, ai: dict, *, now_local: datetime) -> dict:
    """The model's reading over the rules' reading: the model wins wherever it gave a value."""
    merged = dict(extraction)
    merged.update(
        intent=ai["intent"],
        intent_confidence=ai["intent_confidence"],
        urgency=ai["urgency"],
        urgency_confidence=max(ai["intent_confidence"], 0.7),
        confirmation=ai["confirmation"],
        language=ai["language"],
        reply=ai["reply"].strip(),
    )
    if ai["trade"]:
        merged.update(trade=ai["trade"], job_confidence=ai["job_confidence"])
        if ai["job_type"]:
            merged.update(job_type=ai["job_type"], job_key_from_model=True)
            known = next((job for job in rules.JOB_TYPES if job.key == ai["job_type"]), None)
            merged["job_label"] = known.label if known else ai["job_type"].replace("_", " ").capitalize()
    if ai["job_description"]:
        merged["job_description"] = ai["job_description"]
    if ai["customer_name"]:
        merged["customer_name"] = ai["customer_name"]
    if ai["address"]:
        merged["address"] = rules.extract_address(ai["address"]) or rules.Address(ai["address"])
    if ai["preferred_time"]:
        preference = rules.parse_time_preference(ai["preferred_time"], now=now_local)
        if not preference.is_empty:
            merged["preference"] = preference
    return merged


def _slot_out(
    slot: scheduling.Slot, *, tz: ZoneInfo, language: str, emergency: bool, quote: pricing.PriceQuote | None
) -> dict:
    return {
        "start_datetime": slot.start.astimezone(tz).isoformat(),
        "end_datetime": slot.end.astimezone(tz).isoformat(),
        "duration_minutes": int((slot.end - slot.start).total_seconds() // 60),
        "timezone": str(tz.key),
        "display": replies.when(slot.start, tz, language),
        "is_emergency": emergency,
        "within_business_hours": slot.within_business_hours,
        "pricing_multiplier": float(quote.multiplier) if quote else 1.0,
        "estimated_min": float(quote.min_price) if quote else None,
        "estimated_max": float(quote.max_price) if quote else None,
    }


def _busy(request: dict) -> list[scheduling.Busy]:
    return [
        scheduling.Busy(event["start_datetime"].astimezone(UTC), event["end_datetime"].astimezone(UTC))
        for event in request.get("existing_calendar", [])
    ]


def _parse_slot(slot: dict | None) -> scheduling.Slot | None:
    if not slot:
        return None
    # From the serializer these are datetimes; from a conversation's stored JSON, ISO strings.
    start, end = (
        value if isinstance(value, datetime) else datetime.fromisoformat(value)
        for value in (slot["start_datetime"], slot["end_datetime"])
    )
    return scheduling.Slot(start.astimezone(UTC), end.astimezone(UTC), bool(slot.get("within_business_hours", True)))


def _job_text(text: str) -> str:
    """What in the text can name the job: not its street address ("Spring St" names no garage-door
    spring), not what the customer says is fine ("no huele a gas")."""
    address = rules.extract_address(text)
    return rules.without_denials(text.replace(address.text, " ") if address else text)


def _asks_for_small_hours(preference: rules.TimePreference | None) -> bool:
    """ "At 2:30 tonight, I work nights": a time outside the routine hours asked for outright."""
    if preference is None:
        return False
    opens, closes = scheduling.ROUTINE_HOURS
    return bool(
        (preference.at and not opens <= preference.at < closes)
        or (preference.after and preference.after >= closes)
        or (preference.before and preference.before <= opens)
    )


def geocode_query(address: rules.Address, area: dict) -> str:
    """The address to geocode: "55 Oak Street" alone is ambiguous across the country, so an address
    without city or ZIP is read as being in the business's city and state (never its ZIP code,
    which would place every such address at the business's own centroid)."""
    if address.city or address.zip_code:
        return address.text
    locality = ", ".join(str(area[key]) for key in ("city", "state") if area.get(key))
    return f"{address.text}, {locality}" if locality else address.text


def _business_center(request: dict, geocoder: Geocoder) -> tuple[float, float] | None:
    area = request.get("business_address") or {}
    if area.get("latitude") is not None and area.get("longitude") is not None:
        return float(area["latitude"]), float(area["longitude"])
    text = " ".join(str(area.get(key) or "") for key in ("street", "city", "state", "zip_code")).strip()
    point = geocoder.geocode(text) if text else None
    return (point.latitude, point.longitude) if point else None


class _Turn:
    """One message's decision. Fields are filled in order: understand, locate, price, decide."""

    def __init__(self, request: dict, *, now: datetime, info: dict, geocoder: Geocoder):
        self.request = request
        self.hours = request["business_hours"]
        self.tz = ZoneInfo(self.hours.get("timezone") or "UTC")
        self.now = now
        self.now_local = now.astimezone(self.tz)
        self.settings = request.get("business_settings") or {}
        self.info = info

        history = request.get("customer_history") or {}
        self.name = info["customer_name"] or history.get("name") or None
        self.address = info["address"]
        if self.address is None and history.get("address"):
            self.address = rules.extract_address(history["address"]) or rules.Address(history["address"])
        self.language = info["language"] or history.get("language") or self.settings.get("language") or "en"
        info["language"] = self.language
        self.emergency = info["urgency"] == "emergency"

        # Where: geocode and check the service area.
        area = request.get("business_address") or {}
        self.point = geocoder.geocode(geocode_query(self.address, area)) if self.address else None
        self.area_check = check_service_area(
            self.point,
            center=_business_center(request, geocoder) if self.point else None,
            radius_miles=area.get("service_radius_miles"),
        )

        # What and how long: the business's own job for what the customer asked.
        self.estimates = request.get("job_estimates", [])
        texts = _customer_texts(request)
        self.other_work = _first(catalogue.names_other_work(text, self.estimates) for text in texts)
        self.estimate = catalogue.match(
            self.estimates,
            texts=[_job_text(text) for text in texts],
            trade=info["trade"] if info["job_key_from_model"] else None,
            job_type=info["job_type"] if info["job_key_from_model"] else None,
            hint=info["job_label"] or "",
            kind=_first(catalogue.work_kind(_job_text(text)) for text in texts),
        )
        asked_outright = any(
            catalogue.asks_whether_they_do(text) and catalogue.names_other_work(text, self.estimates) for text in texts
        )
        # "The breaker trips when the microwave runs" is the breaker's job; "do you guys patch drywall?"
        # asks for the drywall, whatever else the text names.
        if (
            self.other_work
            and not asked_outright
            and self.estimate is not None
            and catalogue.names_substance(self.estimate)
        ):
            self.other_work = None
        if self.estimate is not None and not self.other_work:
            item = next(item for item in self.estimates if str(item.get("job_type", "")) == self.estimate.job_type)
            info.update(
                trade=item.get("trade") or request.get("trade_type") or info["trade"],
                job_type=self.estimate.job_type,
                job_label=self.estimate.label,
                job_description=texts[self.estimate.source],
                job_confidence=max(info["job_confidence"], 0.85),
            )
        else:
            self.estimate = catalogue.fallback(self.estimates, trade=info["trade"])
        minutes = self.estimate.duration_minutes if self.estimate else catalogue.DEFAULT_DURATION_MINUTES
        self.duration = timedelta(minutes=minutes)
        self.buffer = timedelta(minutes=self.settings.get("appointment_buffer_minutes", 30))
        self.busy = _busy(request)
        self.label = replies.job_label(info["job_label"], self.language)

        # What the customer is answering.
        self.proposed = _last_proposed_slot(request)
        self.confirmation = info["confirmation"] if self.proposed else None
        wrong_number = any(rules.says_wrong_number(text) for text in texts[1:])
        if (
            info["confirmation"] == "confirmed"
            and not self.proposed
            and info["intent"] in {"general", "pricing"}
            and not wrong_number  # "👍" after "sorry, wrong number" closes the conversation
        ):
            info["intent"] = "appointment"  # "yes" to "would you like us to schedule a visit?"

        # The decision.
        self.action = self.stage = self.message = ""
        self.issues: list[str] = []
        self.missing: list[str] = []
        self.slot: scheduling.Slot | None = None
        self.slots: list[scheduling.Slot] = []
        self.preference_satisfied = True
        self.notify_owner = False
        self.quote: pricing.PriceQuote | None = None
        self.change: tuple[str, str] | None = None  # ("reschedule" | "cancel", appointment id) proposed
        self.upcoming = (request.get("customer_history") or {}).get("upcoming_appointment")

    # --- helpers ---------------------------------------------------------------------------------
    def say(self, key: str, **values) -> str:
        return replies.render(key, self.language, **values)

    def seed_template(self, intent_key: str) -> str:
        """Seed 000's fallback: each promises that a team member follows up, so the owner is told."""
        self.promise_follow_up()
        return replies.fallback_template(intent_key, self.language)

    def emergency_lead(self) -> str:
        """Seed 000's emergency sentence, and what to do right now when the danger is to people."""
        lead = self.seed_template("emergency")
        named = frozenset().union(*(catalogue.concepts(text) for text in _customer_texts(self.request)))
        reason = str((self.info.get("urgency_reasons") or {}).get("emergency") or "")
        if "carbon_monoxide" in named or "carbon monoxide" in reason:
            return f"{self.say('co_safety')} {lead}"
        if {"gas", "smell"} <= named or {"gas", "leak"} <= named:
            return f"{self.say('gas_safety')} {lead}"
        if "child locked in a car" in reason:
            return f"{self.say('child_in_car_safety')} {lead}"
        return lead

    def promise_follow_up(self) -> None:
        if "team_follow_up" not in self.issues:
            self.issues.append("team_follow_up")

    def decide_as(self, action: str, stage: str, message: str) -> None:
        self.action, self.stage, self.message = action, stage, message

    def quote_for(self, start: datetime) -> pricing.PriceQuote | None:
        if self.estimate is None or not self.estimate.matched:
            return None
        own = self.settings.get("emergency_multiplier")
        return pricing.quote(
            self.estimate,
            emergency=self.emergency,
            start=start,
            tz=self.tz,
            business_multiplier=Decimal(str(own)) if own is not None else None,
        )

    def closure_asked_for(self) -> str | None:
        """The name of the closure ("" if unnamed) on the day the customer asked for; None if open."""
        preference = self.info["preference"]
        if preference is None or preference.date is None:
            return None
        return self.closed_day(preference.date)

    def closed_day(self, day) -> str | None:
        """The closure's name on ``day`` ("" when unnamed, or a day of the week it never opens); None if open."""
        named = scheduling.closed_on(day, self.hours)
        if named is not None:
            return named
        return None if scheduling.opening_windows(day, self.hours, self.tz) else ""

    def waits_for_opening(self) -> bool:
        """An emergency outside business hours at a business that does not dispatch after hours:
        the first slot of the next open day, and the owner is told now."""
        return (
            self.emergency
            and self.settings.get("after_hours_emergency") == "next_open_day"
            and not scheduling.is_within_business_hours(self.now, self.hours, self.tz)
        )

    def find(self, extra_busy=()) -> tuple[list[scheduling.Slot], bool]:
        busy = [*self.busy, *extra_busy]
        if self.waits_for_opening():
            self.issues.append("emergency_waits_for_opening")
            slots, _ = scheduling.find_slots(
                business_hours=self.hours,
                tz=self.tz,
                busy=busy,
                duration=self.duration,
                buffer=self.buffer,
                now=self.now,
                horizon_days=self.settings.get("booking_horizon_days", 14),
                min_lead=timedelta(minutes=self.settings.get("min_lead_minutes", 60)),
                limit=1,
            )
            return slots, True
        if self.emergency and self.settings.get("emergency_service", True):
            found = scheduling.emergency_slot(
                business_hours=self.hours,
                tz=self.tz,
                busy=busy,
                duration=self.duration,
                buffer=self.buffer,
                now=self.now,
                response_time=timedelta(minutes=self.settings.get("emergency_response_minutes", 60)),
            )
            return ([found] if found else []), True
        preference = self.info["preference"]
        if preference is not None and preference.asap:
            preference = None
        if self.closure_asked_for() is not None:  # Closed that day: the same time on the days after.
            preference = dataclasses.replace(
                preference, date=None, weekday=None, earliest_date=preference.date + timedelta(days=1)
            )
        return scheduling.find_slots(
            business_hours=self.hours,
            tz=self.tz,
            busy=busy,
            duration=self.duration,
            buffer=self.buffer,
            now=self.now,
            preference=preference,
            horizon_days=self.settings.get("booking_horizon_days", 14),
            min_lead=timedelta(minutes=self.settings.get("min_lead_minutes", 60)),
            waking_hours=None if _asks_for_small_hours(preference) else scheduling.ROUTINE_HOURS,
        )

    def propose(self, kind: str, extra_busy=()) -> None:
        """Find slots and offer the first; ``kind`` picks the wording (plain, taken, other time)."""
        self.slots, self.preference_satisfied = self.find(extra_busy)
        if not self.slots:
            self.issues.append("no_availability")
            self.decide_as("escalate_to_owner", "escalated", self.say("no_openings"))
            return
        self.slot = self.slots[0]
        self.quote = self.quote_for(self.slot.start)
        price = replies.price_range(self.quote.min_price, self.quote.max_price) if self.quote else None
        moment = replies.when(self.slot.start, self.tz, self.language)
        preference = self.info["preference"]
        if kind == "taken":
            message = self.say("slot_taken", when=moment)
        elif self.emergency:
            key = "emergency_slot" if price else "emergency_slot_no_price"
            message = f"{self.emergency_lead()} {self.say(key, when=moment, price=price)}"
        elif self.closure_asked_for() is not None:
            self.issues.append("closed_that_day")
            day, name = preference.date, self.closure_asked_for()
            holiday = f" ({name})" if name and self.language == "en" else ""
            message = self.say("closed_that_day", day=replies.day(day, self.language), holiday=holiday, when=moment)
        elif not self.preference_satisfied and preference is not None and not preference.asap:
            self.issues.append("preference_unavailable")
            message = self.say(
                "propose_other_time", when=moment, preference=replies.preference_phrase(preference.raw, self.language)
            )
        else:
            message = self.say("propose" if price else "propose_no_price", when=moment, price=price)
        self.decide_as("propose_slot", "awaiting_confirmation", message)

    # --- the decision ----------------------------------------------------------------------------
    def decide(self) -> None:
        if self.is_spam():
            self.issues.append("suspected_spam")
        if self.info.get("human_request") and not self.emergency:
            self.hand_over()
        elif (
            self.proposed
            and self.confirmation == "confirmed"
            and self.proposed.get("change")
            and not self.yes_with_a_condition()
        ):
            self.confirm_change()
        elif self.change_asked() and not self.emergency:
            self.handle_change(self.change_asked())
        elif self.area_check.valid is False:
            self.issues.append("outside_service_area")
            self.promise_follow_up()  # "We've passed your request to the owner."
            self.notify_owner = self.emergency
            self.decide_as("decline_out_of_area", "escalated", self.say("out_of_area", address=self.address.text))
        elif self.proposed and self.confirmation == "confirmed" and self.yes_with_a_condition():
            self.confirmation = "rejected"  # "Yes, but not before 10": the condition wins over the yes.
            self.info["preference"] = self.condition_on_the_proposed_day()
            self.collect_or_propose()
        elif self.proposed and self.confirmation == "confirmed":
            self.confirm()
        elif "suspected_spam" in self.issues:
            self.decide_as("no_reply", "collecting_info" if self.request.get("conversation_history") else "initial", "")
        elif self.out_of_trade():
            self.issues.append("outside_trades")  # Not the owner's job, emergency or not: no alert.
            self.decide_as("decline_out_of_trade", "escalated", self.out_of_trade_reply())
        elif self.info["intent"] == "general" and not self.info["trade"]:
            self.answer_general()
        elif self.info["intent"] == "pricing" and not self.proposed:
            self.answer_price()
        else:
            self.collect_or_propose()

    def out_of_trade_reply(self) -> str:
        """Said plainly ("we do plumbing work"), with the owner's referral note when there is one."""
        with translation.override(self.language if self.language in replies.SUPPORTED_LANGUAGES else "en"):
            if self.other_work:
                job = translation.gettext(vocabulary.OTHER_WORK_LABELS[self.other_work])
            elif self.info["job_label"]:
                job = self.label
            else:
                named = _first(catalogue.names_trade(text) for text in _customer_texts(self.request))
                job = Trade(named or self.info["trade"]).label if named or self.info["trade"] else ""
            served = [str(Trade(trade).label).lower() for trade in self.served_trades() if trade in Trade.values]
        trades = " / ".join(served) or self.request.get("trade_type", "")
        message = self.say("out_of_trade", job=job, trades=trades)
        note = (self.settings.get("referral_note") or "").strip()
        return f"{message} {note}" if note else message

    def served_trades(self) -> list[str]:
        request = self.request
        served = [request.get("trade_type"), *(request.get("business_trades") or [])]
        served += [estimate.get("trade") for estimate in request.get("job_estimates", [])]
        return list(dict.fromkeys(trade for trade in served if trade))

    def is_spam(self) -> bool:
        texts = _customer_texts(self.request)
        earlier_spam = any(rules.looks_like_spam(text) for text in texts[1:])
        if earlier_spam and not self.info["trade"] and not self.info.get("human_request"):
            return True  # A pitch's follow-up ("Just following up on this 🙂") names no job either.
        return rules.looks_like_spam(texts[0], job_named=bool(self.info["trade"]), after_spam=earlier_spam)

    def answer_general(self) -> None:
        """A message that names no job: the first is answered with what this business does (a wrong
        number learns it once); after that the team answers, and is told so."""
        texts = _customer_texts(self.request)
        asked_before = len(texts) > 1
        stage = "collecting_info" if self.request.get("conversation_history") else "initial"
        if asked_before and any(rules.says_wrong_number(text) for text in texts):  # "😅" after "wrong number"
            self.decide_as("no_reply", stage, "")
        elif rules.asks_about_hours(self.request["current_message"]):
            hours = replies.hours_summary(self.hours, scheduling.day_intervals, self.language)
            self.decide_as("answer_question", stage, self.say("hours_answer", hours=hours))
        elif self.info["reply"]:
            self.decide_as("answer_question", stage, self.info["reply"])
        elif not asked_before:
            self.decide_as(
                "answer_question", stage, self.say("ask_problem", business=self.request.get("business_name", ""))
            )
        else:
            self.decide_as("answer_question", stage, self.seed_template("general_inquiry"))

    def out_of_trade(self) -> bool:
        """Work none of the five trades does ("roofing"); else, when the business's catalogue matched
        nothing, a tradesperson it is not ("necesito un plomero") or a named job of a trade it does
        not serve (``trade_type``, ``business_trades``, the trades of its estimates) with no message
        asking for one it serves. A bare trade word ("the key is under the mat") is not enough."""
        if self.other_work:
            return True
        if self.estimate is not None and self.estimate.matched:
            return False
        served = set(self.served_trades())
        texts = _customer_texts(self.request)
        named = _first(catalogue.names_trade(text) for text in texts)
        if named and named not in served:
            return True  # "Necesito un plomero", asked of an electrician
        if not served or not self.info["job_type"] or self.info["trade"] in served:
            return False
        return not any(rules.detect_job_type(text, trades=sorted(served)).trade in served for text in texts)

    # --- changing an appointment the customer has ----------------------------------------------------
    def change_asked(self) -> str | None:
        """ "reschedule" or "cancel": asked now, or asked just before and now answered with a time."""
        texts = _customer_texts(self.request)
        asked = rules.detect_change(texts[0])
        if asked is None and len(texts) > 1 and self.info["preference"] is not None:
            asked = rules.detect_change(texts[1]) if rules.detect_change(texts[1]) == "reschedule" else None
        if asked == "reschedule" and self.upcoming is None and self.proposed:
            return None  # "Can we do Thursday instead?" of the slot just offered: a new preference
        booked = self._upcoming_slot() if self.upcoming is not None else None
        offer_pending = self.proposed and (booked is None or _parse_slot(self.proposed).start != booked.start)
        if asked is None and booked is not None and not offer_pending:
            # A customer with an appointment who mentions it and another time, or cancelling, means it,
            # whichever brain read the text ("can ur guy do thursday same time instead?"). A slot
            # offered and not yet taken is answered as an offer instead.
            booked_day = booked.start.astimezone(self.tz).date()
            asked = rules.change_of_booked(texts[0], appointment_day=booked_day, today=self.now_local.date())
        return asked

    def _upcoming_slot(self) -> scheduling.Slot:
        return _parse_slot({**self.upcoming, "within_business_hours": True})

    def handle_change(self, kind: str) -> None:
        if self.upcoming is None:
            self.decide_as("ask_for_info", "collecting_info", self.say("no_appointment_found"))
            return
        current = self._upcoming_slot()
        job = replies.mid_sentence(str(self.upcoming.get("job_type") or "").replace("_", " ")) or self.label
        old = replies.when(current.start, self.tz, self.language)
        appointment_id = str(self.upcoming["appointment_id"])
        if kind == "cancel":
            self.slot, self.change = current, ("cancel", appointment_id)
            self.decide_as("propose_slot", "awaiting_confirmation", self.say("confirm_cancel", job=job, when=old))
            return
        current_text = self.request["current_message"]
        preference = rules.reschedule_target(current_text, now=self.now_local, booked=current.start.astimezone(self.tz))
        if preference.is_empty and self.info["preference"] is not None:
            preference = self.info["preference"]
        if preference is None or preference.is_empty:
            self.missing.append("preferred_time")
            self.decide_as("ask_for_info", "collecting_info", self.say("ask_new_time", job=job, when=old))
            return
        if rules.says_same_time(current_text) and preference.at is None and preference.after is None:
            preference = dataclasses.replace(preference, at=current.start.astimezone(self.tz).time())
        closed = self.closed_day(preference.date) if preference.date is not None else None
        asked_day = preference.date
        if closed is not None:  # "Monday" at a business closed on Mondays: the same time on the days after.
            preference = dataclasses.replace(
                preference, date=None, weekday=None, earliest_date=preference.date + timedelta(days=1)
            )
        own = scheduling.Busy(current.start, current.end)
        slots, satisfied = scheduling.find_slots(
            business_hours=self.hours,
            tz=self.tz,
            busy=[busy for busy in self.busy if busy != own],
            duration=current.end - current.start,
            buffer=self.buffer,
            now=self.now,
            preference=preference,
            horizon_days=self.settings.get("booking_horizon_days", 14),
            min_lead=timedelta(minutes=self.settings.get("min_lead_minutes", 60)),
            waking_hours=None if _asks_for_small_hours(preference) else scheduling.ROUTINE_HOURS,
        )
        if not slots:
            self.issues.append("no_availability")
            self.decide_as("escalate_to_owner", "escalated", self.say("no_openings"))
            return
        self.slots, self.preference_satisfied = slots, satisfied
        self.slot, self.change = slots[0], ("reschedule", appointment_id)
        new = replies.when(self.slot.start, self.tz, self.language)
        if closed is not None:
            self.issues.append("closed_that_day")
            holiday = f" ({closed})" if closed and self.language == "en" else ""
            day = replies.day(asked_day, self.language)
            message = self.say("closed_move", day=day, holiday=holiday, job=job, old=old, new=new)
        else:
            message = self.say("propose_move", job=job, old=old, new=new)
        self.decide_as("propose_slot", "awaiting_confirmation", message)

    def confirm_change(self) -> None:
        """A "yes" to moving or cancelling: the conversation engine applies it to the appointment."""
        kind, appointment_id = self.proposed["change"], str(self.proposed["changes_appointment"])
        self.slot, self.change = _parse_slot(self.proposed), (kind, appointment_id)
        when = replies.when(self.slot.start, self.tz, self.language)
        if kind == "cancel":
            self.decide_as("cancel_appointment", "confirmed", self.say("canceled", when=when))
        else:
            self.decide_as("reschedule_appointment", "confirmed", self.say("moved", when=when))

    def yes_with_a_condition(self) -> bool:
        """A "yes" that names a time the proposed slot does not meet."""
        condition = rules.parse_time_preference(self.request["current_message"], now=self.now_local)
        if condition.is_empty or condition.asap or condition.flexible:
            return False
        slot = _parse_slot(self.proposed)
        start = slot.start.astimezone(self.tz).time()
        # "yes friday at 7" to 7:00 PM: an hour said without am/pm agrees with the slot's on the 12-hour clock
        if (
            condition.at is not None
            and not rules.says_am_or_pm(self.request["current_message"])
            and (condition.at.hour % 12, condition.at.minute) == (start.hour % 12, start.minute)
        ):
            condition = dataclasses.replace(condition, at=start)
        if condition.at is not None and start != condition.at:
            return True  # "sí, pero mejor a las 11"
        return not scheduling.matches(slot.start, slot.end, self.tz, condition)

    def condition_on_the_proposed_day(self) -> rules.TimePreference:
        """The condition, on the day that was proposed when it names none ("yes, but after 10")."""
        condition = rules.parse_time_preference(self.request["current_message"], now=self.now_local)
        if condition.date is None and condition.weekday is None:
            condition = dataclasses.replace(condition, date=_parse_slot(self.proposed).start.astimezone(self.tz).date())
        return condition

    def hand_over(self) -> None:
        """The customer wants a person: say what this is and stop selling; the conversation engine
        alerts the owner (once) and hands the conversation to the team."""
        self.issues.append("human_requested")
        message = self.say("human_handoff", business=self.request.get("business_name", ""))
        self.decide_as("escalate_to_owner", "escalated", message)

    def confirm(self) -> None:
        """A "yes" to the proposed slot: book it if it is still free, else offer the next one."""
        candidate = _parse_slot(self.proposed)
        taken = any(candidate.start < b.end and b.start < candidate.end for b in self.busy)
        if candidate.start <= self.now or taken:
            self.issues.append("slot_taken")
            self.propose("taken")
            return
        self.slot = candidate
        self.quote = self.quote_for(candidate.start)
        self.notify_owner = self.emergency
        when = replies.when(candidate.start, self.tz, self.language)
        address = self.address.text if self.address else "—"
        self.decide_as("book_appointment", "confirmed", self.say("booked", job=self.label, when=when, address=address))

    def answer_price(self) -> None:
        self.quote = self.quote_for(self.now)
        if self.quote is None:
            self.decide_as("answer_question", "collecting_info", self.seed_template("pricing_inquiry"))
            return
        job = replies.mid_sentence(self.label)
        price = replies.price_range(self.quote.min_price, self.quote.max_price)
        note = (self.settings.get("pricing_note") or "").strip()
        others = self.other_prices_asked()
        out_of_hours = self.out_of_hours_quote()
        if others or out_of_hours:
            lines = [self.say("price_line", job=job, price=price)]
            lines += [
                self.say("price_line", job=replies.mid_sentence(other.label), price=other_price)
                for other, other_price in others
            ]
            if out_of_hours:
                lines.append(self.say("price_line_emergency", price=out_of_hours))
            message = " ".join([*lines, *([note] if note else []), self.say("schedule_question")])
        elif note:
            message = self.say("price_answer_note", job=job, price=price, note=note)
        else:
            message = self.say("price_answer", job=job, price=price)
        self.decide_as("answer_question", "collecting_info", message)

    def other_prices_asked(self) -> list[tuple[catalogue.Estimate, str]]:
        """The other jobs of one price question, each with its range: a repair against a replacement
        of the same thing ("fix it vs just replacing it"), or a price asked in each of two sentences."""
        current = _job_text(self.request["current_message"])
        trade = self.info["trade"] if self.info["job_key_from_model"] else None
        asked = []
        if rules.contrasts_prices(current):
            kinds = catalogue.work_kinds(current)
            asked += [
                catalogue.match(self.estimates, texts=[current], trade=trade, kind=kind, only_kind=True)
                for kind in kinds
            ]
        asked += [
            catalogue.match(self.estimates, texts=[_job_text(part)], trade=trade)
            for part in rules.price_questions(self.request["current_message"])
        ]
        seen, others = {self.estimate.job_type}, []
        for estimate in asked:
            if estimate is not None and estimate.matched and estimate.job_type not in seen:
                seen.add(estimate.job_type)
                others.append((estimate, replies.price_range(estimate.min_price, estimate.max_price)))
        return others[:2]

    def out_of_hours_quote(self) -> str | None:
        """The emergency rate, when the price asked is for tonight or right now and the business
        dispatches then ("how much if someone comes tonight vs waiting til Tuesday?")."""
        if self.emergency or not rules.asks_out_of_hours_price(self.request["current_message"]):
            return None
        if (
            not self.settings.get("emergency_service", True)
            or self.settings.get("after_hours_emergency") == "next_open_day"
        ):
            return None
        own = self.settings.get("emergency_multiplier")
        start = self.now
        if scheduling.is_within_business_hours(self.now, self.hours, self.tz):
            start = self.now.astimezone(self.tz).replace(hour=20, minute=0)  # asked by day: tonight's rate
        quote = pricing.quote(
            self.estimate,
            emergency=True,
            start=start,
            tz=self.tz,
            business_multiplier=Decimal(str(own)) if own is not None else None,
        )
        return replies.price_range(quote.min_price, quote.max_price)

    def collect_or_propose(self) -> None:
        """Ask for what is missing (the problem, then address and name); then propose a slot."""
        info = self.info
        self.missing = [
            field
            for field, known in (("job_type", info["trade"]), ("address", self.address), ("customer_name", self.name))
            if not known
        ]
        self.notify_owner = self.emergency
        emergency_lead = f"{self.emergency_lead()} " if self.emergency else ""
        if "job_type" in self.missing:
            question = (
                self.emergency_lead()
                if self.emergency
                else (info["reply"] or self.say("ask_problem", business=self.request.get("business_name", "")))
            )
            self.decide_as("ask_for_info", "collecting_info", question)
        elif "address" in self.missing:
            key = "ask_name_address" if "customer_name" in self.missing else "ask_address"
            question = (
                self.say(key, job=self.label) if self.emergency else info["reply"] or self.say(key, job=self.label)
            )
            self.decide_as("ask_for_info", "collecting_info", emergency_lead + question)
        elif not self.settings.get("auto_book", True) or (
            self.emergency and not self.settings.get("emergency_service", True)
        ):
            intent_key = "emergency" if self.emergency else "appointment_request"
            self.issues.append("auto_book_off" if not self.settings.get("auto_book", True) else "emergency_service_off")
            self.decide_as("escalate_to_owner", "escalated", self.seed_template(intent_key))
        elif self.confirmation == "rejected" and self.is_bare_rejection():
            self.missing.append("preferred_time")
            self.decide_as("ask_for_info", "collecting_info", self.say("ask_when"))
        else:
            rejected = _parse_slot(self.proposed) if self.confirmation == "rejected" else None
            self.propose("plain", extra_busy=[scheduling.Busy(rejected.start, rejected.end)] if rejected else ())

    def is_bare_rejection(self) -> bool:
        """A bare "no" asks what suits them; "no, Friday afternoon" or "that doesn't work, any other
        time?" gets the next proposal straight away."""
        current = self.request["current_message"]
        return len(current.split()) <= 2 and rules.parse_time_preference(current, now=self.now_local).is_empty

    # --- the answer ------------------------------------------------------------------------------
    def response(self, *, ai_result: openai_chat.AiResult | None, started: float) -> dict:
        info, address, point, slot = self.info, self.address, self.point, self.slot
        if slot:
            within_hours = scheduling.is_within_business_hours(slot.start, self.hours, self.tz, end=slot.end)
            if not within_hours:
                self.issues.append("outside_business_hours")
        else:
            within_hours = scheduling.is_within_business_hours(self.now, self.hours, self.tz)
        if address and point is None:
            self.issues.append("address_not_geocoded")
        preference = info["preference"]
        return {
            "extracted_info": {
                "customer_name": self.name,
                "job_type": info["job_type"],
                "job_label": info["job_label"],
                "trade": info["trade"],
                "job_description": info["job_description"],
                "urgency_level": info["urgency"],
                "urgency_reason": (info.get("urgency_reasons") or {}).get(info["urgency"]),
                "intent": info["intent"],
                "customer_address": address.text if address else None,
                "address_components": (
                    {
                        "street": address.street,
                        "city": address.city,
                        "state": address.state,
                        "zip_code": address.zip_code,
                    }
                    if address
                    else None
                ),
                "coordinates": (
                    {
                        "latitude": point.latitude,
                        "longitude": point.longitude,
                        "precision": point.precision,
                        "source": point.source,
                    }
                    if point
                    else None
                ),
                "preferred_time": preference.raw if preference else None,
                "time_preference": preference.as_dict() if preference else None,
                "confirmation": info["confirmation"],
                "language": self.language,
            },
            "validation": {
                "service_area_valid": self.area_check.valid,
                "distance_miles": self.area_check.distance_miles,
                "service_radius_miles": self.area_check.radius_miles,
                "within_business_hours": within_hours,
                "is_emergency": self.emergency,
                "preference_satisfied": self.preference_satisfied,
                "price_estimate": self.quote.as_dict() if self.quote else None,
                "estimate_job_type": self.estimate.job_type if self.estimate and self.estimate.matched else None,
                "issues": self.issues,
            },
            "next_action": {
                "action": self.action,
                "message": self.message,
                "missing_fields": self.missing,
                "notify_owner": self.notify_owner,
                "language": self.language,
            },
            "conversation_stage": self.stage,
            "needs_geocoding": bool(address) and point is None,
            "confidence_scores": self.confidence_scores(),
            "proposed_slot": self.proposed_out(slot),
            "alternative_slots": [self.slot_out(other, self.quote_for(other.start)) for other in self.slots[1:]],
            "processing": {
                "engine": "openai" if ai_result is not None and ai_result.ok else "rules",
                "model": ai_result.model if ai_result is not None else None,
                "fallback_used": ai_result is not None and not ai_result.ok,
                "error": ai_result.error if ai_result is not None else "",
                "latency_ms": round((clock.perf_counter() - started) * 1000),
            },
        }

    def proposed_out(self, slot: scheduling.Slot | None) -> dict | None:
        if slot is None:
            return None
        out = self.slot_out(slot, self.quote)
        if self.change is not None:
            out.update(change=self.change[0], changes_appointment=self.change[1])
        return out

    def slot_out(self, slot: scheduling.Slot, quote: pricing.PriceQuote | None) -> dict:
        return _slot_out(slot, tz=self.tz, language=self.language, emergency=self.emergency, quote=quote)

    def confidence_scores(self) -> dict:
        info, address = self.info, self.address
        if not address:
            address_score = 0.0
        elif address.street:
            address_score = 0.9 if self.point else 0.75
        else:
            address_score = 0.6
        scores = {
            "intent": round(info["intent_confidence"], 2),
            "job_type": round(info["job_confidence"], 2),
            "urgency": round(info["urgency_confidence"], 2),
            "address": address_score,
            "time_preference": 0.0 if info["preference"] is None else 0.85,
        }
        known = [value for key, value in scores.items() if key != "time_preference" and value > 0]
        scores["overall"] = round(sum(known) / len(known), 2) if known else 0.0
        return scores


def process_conversation(
    request: dict, *, now: datetime | None = None, geocoder: Geocoder | None = None, use_ai: bool | None = None
) -> tuple[dict, openai_chat.AiResult | None]:
    """The ProcessConversationResponse for ``request``, and the OpenAI call's record (None if no call)."""
    started = clock.perf_counter()
    hours = request["business_hours"]
    now = (now or datetime.now(UTC)).astimezone(UTC)
    now_local = now.astimezone(ZoneInfo(hours.get("timezone") or "UTC"))
    info = rule_extraction(request, now_local=now_local)
    ai_result = None
    if use_ai is None:
        use_ai = openai_chat.is_configured() and (request.get("business_settings") or {}).get("ai_enabled", True)
    if use_ai:
        ai_result = openai_chat.extract(
            history=request.get("conversation_history", []),
            current_message=request["current_message"],
            context={
                "business_name": request.get("business_name"),
                "trade": request.get("trade_type"),
                "business_hours": {key: value for key, value in hours.items() if key != "timezone"},
                "job_estimates": request.get("job_estimates", []),
            },
        )
        if ai_result.ok:
            info = merge_ai(info, ai_result.extraction, now_local=now_local)
    turn = _Turn(request, now=now, info=info, geocoder=geocoder or get_geocoder())
    turn.decide()
    return turn.response(ai_result=ai_result, started=started), ai_result
