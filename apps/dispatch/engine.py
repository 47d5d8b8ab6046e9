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

import time as clock
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apps.dispatch import pricing, replies, rules, scheduling
from apps.dispatch.geo import Geocoder, check_service_area, get_geocoder
from apps.dispatch.providers import openai_chat

STAGES = ("initial", "collecting_info", "awaiting_confirmation", "confirmed", "escalated", "completed")
ACTIONS = (
    "ask_for_info",
    "answer_question",
    "propose_slot",
    "book_appointment",
    "escalate_to_owner",
    "decline_out_of_area",
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
    urgencies = [rules.detect_urgency(text) for text in texts]
    urgency, urgency_confidence = max(urgencies, key=lambda item: (rules.URGENCY_RANK[item[0]], item[1]))
    intents = [
        rules.detect_intent(text, urgency=urgency if index == 0 else None, job=jobs[index])
        for index, text in enumerate(texts)
    ]
    intent, intent_confidence = _first(item if item[0] != "general" else None for item in intents) or intents[0]
    if urgency == "emergency":
        intent, intent_confidence = "emergency", max(intent_confidence, 0.9)
    addresses = [rules.extract_address(text) for text in texts]
    address = _first(addresses)
    preferences = [rules.parse_time_preference(text, now=now_local) for text in texts]
    preference = _first(pref if not pref.is_empty else None for pref in preferences)
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
        "urgency": urgency,
        "urgency_confidence": urgency_confidence,
        "customer_name": _first(rules.extract_name(text) for text in texts),
        "address": address,
        "preference": preference,
        "confirmation": rules.detect_confirmation(current),
        "language": language,
        "reply": "",
    }


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
            merged["job_type"] = ai["job_type"]
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


def process_conversation(
    request: dict, *, now: datetime | None = None, geocoder: Geocoder | None = None, use_ai: bool | None = None
) -> tuple[dict, openai_chat.AiResult | None]:
    """The ProcessConversationResponse for ``request``, and the OpenAI call's record (None if no call)."""
    started = clock.perf_counter()
    hours = request["business_hours"]
    tz = ZoneInfo(hours.get("timezone") or "UTC")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    now_local = now.astimezone(tz)
    settings_in = request.get("business_settings") or {}
    geocoder = geocoder or get_geocoder()

    info = rule_extraction(request, now_local=now_local)
    ai_result = None
    if use_ai is None:
        use_ai = openai_chat.is_configured() and settings_in.get("ai_enabled", True)
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

    history = request.get("customer_history") or {}
    name = info["customer_name"] or history.get("name") or None
    address = info["address"] or (
        rules.extract_address(history["address"]) or rules.Address(history["address"])
        if history.get("address")
        else None
    )
    language = info["language"] or history.get("language") or settings_in.get("language") or "en"
    info["language"] = language
    emergency = info["urgency"] == "emergency"

    # Where: geocode and check the service area.
    point = geocoder.geocode(geocode_query(address, request.get("business_address") or {})) if address else None
    area = request.get("business_address") or {}
    radius = area.get("service_radius_miles")
    area_check = check_service_area(
        point, center=_business_center(request, geocoder) if point else None, radius_miles=radius
    )

    # What and how long: the business's estimate for the job.
    estimate = pricing.match_estimate(
        request.get("job_estimates", []),
        job_type=info["job_type"],
        job_label=info["job_label"],
        trade=info["trade"],
        text=info["job_description"] or "",
    )
    duration = timedelta(minutes=estimate.duration_minutes if estimate else pricing.DEFAULT_DURATION_MINUTES)
    buffer = timedelta(minutes=settings_in.get("appointment_buffer_minutes", 30))
    busy = _busy(request)

    proposed = _last_proposed_slot(request)
    confirmation = info["confirmation"] if proposed else None
    if info["confirmation"] == "confirmed" and not proposed and info["intent"] in {"general", "pricing"}:
        info["intent"] = "appointment"  # "yes" to "would you like us to schedule a visit?"
    issues: list[str] = []
    missing: list[str] = []
    slot: scheduling.Slot | None = None
    slots: list[scheduling.Slot] = []
    preference_satisfied = True
    notify_owner = False
    quote = None
    label = replies.job_label(info["job_label"], language)

    def quote_for(start):
        if estimate is None or not estimate.matched:
            return None
        return pricing.quote(estimate, emergency=emergency, start=start, tz=tz)

    def offer(kind: str, candidate: scheduling.Slot) -> str:
        nonlocal quote
        quote = quote_for(candidate.start)
        price = replies.price_range(quote.min_price, quote.max_price) if quote else None
        moment = replies.when(candidate.start, tz, language)
        if kind == "emergency":
            text = replies.render(
                "emergency_slot" if price else "emergency_slot_no_price", language, when=moment, price=price
            )
            return f"{replies.fallback_template('emergency', language)} {text}"
        if kind == "taken":
            return replies.render("slot_taken", language, when=moment)
        if kind == "other_time":
            return replies.render(
                "propose_other_time",
                language,
                when=moment,
                preference=replies.preference_phrase(info["preference"].raw),
            )
        return replies.render("propose" if price else "propose_no_price", language, when=moment, price=price)

    def find(extra_busy=()):
        if emergency and settings_in.get("emergency_service", True):
            found = scheduling.emergency_slot(
                business_hours=hours,
                tz=tz,
                busy=[*busy, *extra_busy],
                duration=duration,
                buffer=buffer,
                now=now,
                response_time=timedelta(minutes=settings_in.get("emergency_response_minutes", 60)),
            )
            return ([found] if found else []), True
        preference = info["preference"]
        if preference is not None and preference.asap:
            preference = None
        return scheduling.find_slots(
            business_hours=hours,
            tz=tz,
            busy=[*busy, *extra_busy],
            duration=duration,
            buffer=buffer,
            now=now,
            preference=preference,
            horizon_days=settings_in.get("booking_horizon_days", 14),
            min_lead=timedelta(minutes=settings_in.get("min_lead_minutes", 60)),
        )

    if area_check.valid is False:
        action, stage = "decline_out_of_area", "escalated"
        issues.append("outside_service_area")
        message = replies.render("out_of_area", language, address=address.text)
        notify_owner = emergency
    elif proposed and confirmation == "confirmed":
        candidate = _parse_slot(proposed)
        still_free = candidate.start > now and not any(
            candidate.start < b.end and b.start < candidate.end for b in busy
        )
        if still_free:
            slot = candidate
            quote = quote_for(slot.start)
            action, stage = "book_appointment", "confirmed"
            message = replies.render(
                "booked",
                language,
                job=label,
                when=replies.when(slot.start, tz, language),
                address=address.text if address else "—",
            )
            notify_owner = emergency
        else:
            issues.append("slot_taken")
            slots, preference_satisfied = find()
            if slots:
                slot = slots[0]
                action, stage = "propose_slot", "awaiting_confirmation"
                message = offer("taken", slot)
            else:
                action, stage = "escalate_to_owner", "escalated"
                message = replies.render("no_openings", language)
    elif info["intent"] == "general" and not info["trade"]:
        action, stage = "answer_question", "initial" if not request.get("conversation_history") else "collecting_info"
        message = info["reply"] or replies.fallback_template("general_inquiry", language)
    elif info["intent"] == "pricing" and not proposed:
        action, stage = "answer_question", "collecting_info"
        quote = quote_for(now)
        if quote:
            message = replies.render(
                "price_answer",
                language,
                job=label.lower() if language == "en" else label,
                price=replies.price_range(quote.min_price, quote.max_price),
            )
        else:
            message = replies.fallback_template("pricing_inquiry", language)
    else:
        if not info["trade"]:
            missing.append("job_type")
        if not address:
            missing.append("address")
        if not name:
            missing.append("customer_name")
        if emergency:
            notify_owner = True
        if "job_type" in missing:
            action, stage = "ask_for_info", "collecting_info"
            message = info["reply"] or replies.render(
                "ask_problem", language, business=request.get("business_name", "")
            )
            if emergency:
                message = replies.fallback_template("emergency", language)
        elif "address" in missing:
            action, stage = "ask_for_info", "collecting_info"
            key = "ask_name_address" if "customer_name" in missing else "ask_address"
            message = info["reply"] or replies.render(key, language, job=label)
            if emergency:
                message = (
                    f"{replies.fallback_template('emergency', language)} {replies.render(key, language, job=label)}"
                )
        elif not settings_in.get("auto_book", True) or (emergency and not settings_in.get("emergency_service", True)):
            action, stage = "escalate_to_owner", "escalated"
            message = replies.fallback_template("emergency" if emergency else "appointment_request", language)
        elif (
            confirmation == "rejected"
            and len(request["current_message"].split()) <= 2
            and rules.parse_time_preference(request["current_message"], now=now_local).is_empty
        ):
            # A bare "no": ask what suits them. "No, Friday afternoon" or "that doesn't work, any
            # other time?" gets the next proposal straight away.
            action, stage = "ask_for_info", "collecting_info"
            missing.append("preferred_time")
            message = replies.render("ask_when", language)
        else:
            rejected = [_parse_slot(proposed)] if proposed and confirmation == "rejected" else []
            slots, preference_satisfied = find(extra_busy=[scheduling.Busy(s.start, s.end) for s in rejected])
            if slots:
                slot = slots[0]
                action, stage = "propose_slot", "awaiting_confirmation"
                if emergency:
                    message = offer("emergency", slot)
                elif not preference_satisfied and info["preference"] is not None and not info["preference"].asap:
                    message = offer("other_time", slot)
                    issues.append("preference_unavailable")
                else:
                    message = offer("propose", slot)
            else:
                action, stage = "escalate_to_owner", "escalated"
                issues.append("no_availability")
                message = replies.render("no_openings", language)

    within_hours = (
        scheduling.is_within_business_hours(slot.start, hours, tz, end=slot.end)
        if slot
        else scheduling.is_within_business_hours(now, hours, tz)
    )
    if slot and not within_hours:
        issues.append("outside_business_hours")
    if address and point is None:
        issues.append("address_not_geocoded")

    preference = info["preference"]
    address_confidence = 0.0 if not address else 0.9 if address.street and point else 0.75 if address.street else 0.6
    scores = {
        "intent": round(info["intent_confidence"], 2),
        "job_type": round(info["job_confidence"], 2),
        "urgency": round(info["urgency_confidence"], 2),
        "address": address_confidence,
        "time_preference": 0.0 if preference is None else 0.85,
    }
    known = [value for key, value in scores.items() if key != "time_preference" and value > 0]
    scores["overall"] = round(sum(known) / len(known), 2) if known else 0.0

    response = {
        "extracted_info": {
            "customer_name": name,
            "job_type": info["job_type"],
            "job_label": info["job_label"],
            "trade": info["trade"],
            "job_description": info["job_description"],
            "urgency_level": info["urgency"],
            "intent": info["intent"],
            "customer_address": address.text if address else None,
            "address_components": (
                {"street": address.street, "city": address.city, "state": address.state, "zip_code": address.zip_code}
                if address
                else None
            ),
            "coordinates": {
                "latitude": point.latitude,
                "longitude": point.longitude,
                "precision": point.precision,
                "source": point.source,
            }
            if point
            else None,
            "preferred_time": preference.raw if preference else None,
            "time_preference": preference.as_dict() if preference else None,
            "confirmation": info["confirmation"],
            "language": language,
        },
        "validation": {
            "service_area_valid": area_check.valid,
            "distance_miles": area_check.distance_miles,
            "service_radius_miles": area_check.radius_miles,
            "within_business_hours": within_hours,
            "is_emergency": emergency,
            "preference_satisfied": preference_satisfied,
            "price_estimate": quote.as_dict() if quote else None,
            "estimate_job_type": estimate.job_type if estimate and estimate.matched else None,
            "issues": issues,
        },
        "next_action": {
            "action": action,
            "message": message,
            "missing_fields": missing,
            "notify_owner": notify_owner,
            "language": language,
        },
        "conversation_stage": stage,
        "needs_geocoding": bool(address) and point is None,
        "confidence_scores": scores,
        "proposed_slot": _slot_out(slot, tz=tz, language=language, emergency=emergency, quote=quote) if slot else None,
        "alternative_slots": [
            _slot_out(other, tz=tz, language=language, emergency=emergency, quote=quote_for(other.start))
            for other in slots[1:]
        ],
        "processing": {
            "engine": "openai" if ai_result is not None and ai_result.ok else "rules",
            "model": ai_result.model if ai_result is not None else None,
            "fallback_used": ai_result is not None and not ai_result.ok,
            "error": ai_result.error if ai_result is not None else "",
            "latency_ms": round((clock.perf_counter() - started) * 1000),
        },
    }
    return response, ai_result
