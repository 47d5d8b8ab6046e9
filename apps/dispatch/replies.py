"""What the assistant says, in the customer's language (English, or Spanish through locale/es).

Facts (times, prices, addresses) always come from these templates, never from a language model:
the model may phrase a question, but a proposed slot or a price is read out from the engine's
own numbers. Seed 000's four fallback templates are kept word for word.
"""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import formats, translation
from django.utils.translation import gettext as _

SUPPORTED_LANGUAGES = ("en", "es")


def _language(language: str | None) -> str:
    return language if language in SUPPORTED_LANGUAGES else "en"


def fallback_template(intent_key: str, language: str = "en") -> str:
    """Seed 000's fallback answer for ``appointment_request``, ``pricing_inquiry``, ``emergency``
    or ``general_inquiry`` (anything else is a general inquiry)."""
    with translation.override(_language(language)):
        templates = {
            "appointment_request": _(
                "I'd be happy to help schedule an appointment. A team member will contact you shortly to arrange a convenient time."
            ),
            "pricing_inquiry": _(
                "Thanks for your interest in our pricing. A team member will provide you with a detailed quote soon."
            ),
            "emergency": _(
                "We understand this is urgent. A team member will contact you immediately to address your emergency."
            ),
            "general_inquiry": _("Thanks for your message. A team member will respond soon."),
        }
        return templates.get(intent_key, templates["general_inquiry"])


def when(moment: datetime, tz: ZoneInfo, language: str = "en") -> str:
    """ "Tuesday, November 24, 9:00 AM" / "martes 24 de noviembre, 09:00", in the business's zone."""
    with translation.override(_language(language)):
        # Translators: a PHP-style date format (Django's date filter) for a proposed appointment.
        return formats.date_format(moment.astimezone(tz), _("l, F j, g:i A"))


def day(value: date, language: str = "en") -> str:
    """ "Friday, December 25" / "viernes 25 de diciembre"."""
    with translation.override(_language(language)):
        # Translators: a PHP-style date format (Django's date filter) for a day.
        return formats.date_format(value, _("l, F j"))


def money(value: Decimal | float) -> str:
    return f"${Decimal(str(value)):,.0f}"


def price_range(min_price, max_price) -> str:
    if Decimal(str(min_price)) == Decimal(str(max_price)):
        return money(min_price)
    return f"{money(min_price)}–{money(max_price)}"


def render(key: str, language: str = "en", **values) -> str:
    """The engine's reply ``key`` with ``values`` filled in."""
    with translation.override(_language(language)):
        templates = {
            "ask_problem": _("Thanks for reaching out to {business}! What's going on, and how can we help?"),
            "ask_address": _("Got it: {job}. What's the address where you need the service?"),
            "ask_name_address": _("Got it: {job}. Could I get your name and the service address?"),
            "ask_when": _("No problem. What day and time would work better for you?"),
            "propose": _(
                "We can have a technician there {when}. The estimate is {price}. Does that work? Reply YES to book."
            ),
            "propose_no_price": _("We can have a technician there {when}. Does that work? Reply YES to book."),
            "propose_other_time": _(
                "We don't have an opening {preference}. The earliest we can come is {when}. Does that work? Reply YES to book."
            ),
            # Translators: {holiday} is " (Christmas Day)" or empty.
            "closed_that_day": _(
                "We're closed on {day}{holiday}. The closest we can come is {when}. Does that work? Reply YES to book."
            ),
            "emergency_slot": _(
                "The earliest a technician can be there is {when}. The emergency rate is {price}. Reply YES to confirm."
            ),
            "emergency_slot_no_price": _("The earliest a technician can be there is {when}. Reply YES to confirm."),
            "booked": _("You're booked! {job} on {when} at {address}. We'll see you then."),
            "slot_taken": _(
                "Sorry, that time was just taken. The next opening is {when}. Does that work? Reply YES to book."
            ),
            "out_of_area": _(
                "Sorry, {address} is outside our service area. We've passed your request to the owner, who may reach out."
            ),
            "price_answer": _("A {job} job usually runs {price}. Would you like us to schedule a visit?"),
            # Translators: {job} is a job ("AC repair") or a trade ("Electrical").
            # Translators: {trades} is what the business does, e.g. "plumbing" or "plumbing and HVAC".
            "out_of_trade": _("Sorry, that's not a service we offer ({job}): we do {trades} work."),
            "price_line": _("A {job} job usually runs {price}."),
            "price_line_emergency": _("Tonight or outside our hours, the emergency rate is {price}."),
            "schedule_question": _("Would you like us to schedule a visit?"),
            # Translators: {note} is the business's own note on what its prices include.
            "price_answer_note": _("A {job} job usually runs {price}. {note} Would you like us to schedule a visit?"),
            "gas_safety": _(
                "If you smell gas, leave the house now, don't switch anything on or off, and call 911 or your gas company from outside."
            ),
            "co_safety": _(
                "If a carbon monoxide alarm is going off, get everyone out into fresh air now and call 911 from outside."
            ),
            "child_in_car_safety": _(
                "If a child is locked in a car, call 911 now: they can get the door open fastest, especially in the heat."
            ),
            "after_booking_thanks": _("You're welcome! See you {when}."),
            "after_booking_price": _(
                "Your visit on {when} is estimated at {price}; the technician confirms the price before starting any work."
            ),
            "after_booking_note": _("Got it, I've added that to your appointment on {when} for the technician."),
            "no_appointment_found": _(
                "I couldn't find an upcoming appointment for this number. What would you like us to do, and at what address?"
            ),
            "ask_new_time": _("Sure. Your {job} is on {when}: what day and time would work better?"),
            "propose_move": _("I can move your {job} from {old} to {new}. Reply YES to confirm."),
            "closed_move": _(
                "We're closed on {day}{holiday}. I can move your {job} from {old} to {new}. Reply YES to confirm."
            ),
            "confirm_cancel": _("Do you want me to cancel your {job} on {when}? Reply YES to cancel it."),
            "moved": _("Done: your appointment is now {when}. We'll see you then."),
            "canceled": _("Your appointment on {when} is cancelled. Text us anytime to book again."),
            "hours_answer": _("We're open {hours}. How can we help?"),
            "human_handoff": _(
                "This is {business}'s automated assistant. I've asked a team member to call you back at this number as soon as they can."
            ),
            "no_openings": _(
                "We're fully booked for the next two weeks. A team member will contact you shortly to find a time."
            ),
        }
        return templates[key].format(**values)


def job_label(label: str | None, language: str = "en") -> str:
    with translation.override(_language(language)):
        return _(label) if label else _("your service request")


def mid_sentence(label: str) -> str:
    """ "Drain cleaning" -> "drain cleaning", but "AC repair" and "HVAC tune-up" keep their capitals."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def preference_phrase(raw: str, language: str = "en") -> str:
    """The customer's own words for the time they wanted, quoted back when they are only that
    ("Saturday morning"); a longer message (with their name and address in it) is not quoted."""
    words = raw.strip()
    if len(words) <= 40 and not any(char.isdigit() for char in words[:1]) and "," not in words:
        return f"“{words}”"
    with translation.override(_language(language)):
        return _("at the time you asked for")


_DAY_NAMES = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
}
_WEEKDAY_KEYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _clock(value: str, language: str) -> str:
    hours, minutes = (int(part) for part in value.split(":")[:2])
    if language == "es":
        return f"{hours % 24:02d}:{minutes:02d}"
    suffix = "AM" if hours % 24 < 12 else "PM"
    return f"{(hours % 12) or 12}:{minutes:02d} {suffix}"


def hours_summary(business_hours: dict, intervals_of, language: str = "en") -> str:
    """ "Mon–Fri 8:00 AM–12:00 PM and 1:00 PM–5:00 PM, Sat 9:00 AM–1:00 PM, closed Sun" from the
    weekday shapes (``intervals_of(day_hours)`` gives ``(open, close)`` pairs), consecutive equal days
    grouped."""
    language = _language(language)
    with translation.override(language):
        names = _DAY_NAMES[language]
        spans: list[tuple[int, int, tuple]] = []
        for index, key in enumerate(_WEEKDAY_KEYS):
            pairs = tuple(intervals_of(business_hours.get(key) or {}))
            if spans and spans[-1][2] == pairs and spans[-1][1] == index - 1:
                spans[-1] = (spans[-1][0], index, pairs)
            else:
                spans.append((index, index, pairs))
        parts = []
        for first, last, pairs in spans:
            days = names[first] if first == last else f"{names[first]}–{names[last]}"
            if not pairs:
                parts.append(_("closed {days}").format(days=days))
            elif pairs == (("00:00", "24:00"),):
                parts.append(_("{days} 24 hours").format(days=days))
            else:
                times = _(" and ").join(f"{_clock(a, language)}–{_clock(b, language)}" for a, b in pairs)
                parts.append(f"{days} {times}")
        return ", ".join(parts)
