"""The customers' texts of each campaign, in the customer's language (English or Spanish)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import formats, translation
from django.utils.translation import gettext

from apps.campaigns.models import Kind
from apps.dispatch import replies


def _language(language: str) -> str:
    return "es" if (language or "").lower().startswith("es") else "en"


language_of = _language


def campaign_text(
    *, kind: str, business, language: str, name: str, when: datetime | None, review_link: str, minutes: int = 0
) -> str:
    language = _language(language)
    zone = ZoneInfo(business.timezone)
    with translation.override(language):
        first = (name or "").split(" ")[0]
        hello = gettext("Hi %(name)s, ") % {"name": first} if first else gettext("Hi, ")
        if kind == Kind.REMINDER:
            text = gettext(
                "%(business)s: %(hello)sa reminder of your appointment on %(when)s. "
                "Reply C to confirm, R to reschedule, X to cancel."
            ) % {"business": business.name, "hello": hello, "when": replies.when(when, zone, language)}
        elif kind == Kind.FOLLOWUP:
            text = gettext(
                "%(business)s: %(hello)sstill need help? Reply with a good time and we'll get you scheduled."
            ) % {"business": business.name, "hello": hello}
        elif kind == Kind.RETENTION:
            text = gettext(
                "%(business)s: %(hello)sit has been a while since our last visit. "
                "Reply to book a check-up. Reply STOP to opt out."
            ) % {"business": business.name, "hello": hello}
        elif kind == Kind.RECOVERY:
            text = gettext(
                "%(business)s: %(name)s wrote %(minutes)s min ago and nobody has booked or answered them yet. "
                "Please call or text them back."
            ) % {"business": business.name, "name": name, "minutes": minutes}
        else:
            text = gettext(
                "%(business)s: %(hello)sthanks for choosing us! Would you leave us a review? %(link)s "
                "Reply STOP to opt out."
            ) % {"business": business.name, "hello": hello, "link": review_link}
    return text


def reply_text(*, answer: str, business, language: str, when: datetime) -> str:
    """What the business answers a "C" or an "X"."""
    language = _language(language)
    zone = ZoneInfo(business.timezone)
    with translation.override(language):
        moment = replies.when(when, zone, language)
        if answer == "confirmed":
            return gettext("%(business)s: thanks, your appointment on %(when)s is confirmed.") % {
                "business": business.name,
                "when": moment,
            }
        return gettext("%(business)s: your appointment on %(when)s is cancelled. Reply anytime to book again.") % {
            "business": business.name,
            "when": moment,
        }


def reschedule_request(language: str) -> str:
    """What an "R" means, in words the assistant's reschedule flow understands: move the
    appointment to the next opening, so that it offers new slots."""
    if _language(language) == "es":
        return "quiero cambiar mi cita para lo antes posible"
    return "I need to reschedule my appointment to as soon as possible"


def call_summary_text(*, business, language: str, name: str, job: str, outcome: str, booked_at: datetime | None) -> str:
    """The owner's line after a missed call the assistant handled, in the owner's language:
    "Missed call from Dana, burst pipe, booked Tue 9:00" / "…, asked about price, not booked"."""
    language = _language(language)
    with translation.override(language):
        if booked_at is not None:
            # Translators: a PHP-style date format (Django's date filter): a short day and time.
            short = gettext("D G:i")
            moment = formats.date_format(booked_at.astimezone(ZoneInfo(business.timezone)), short)
            result = gettext("booked %(when)s") % {"when": moment}
        elif outcome == "price_only":
            result = gettext("asked about price, not booked")
        elif outcome == "declined_out_of_area":
            result = gettext("outside your service area, declined")
        elif outcome == "declined_out_of_trade":
            result = gettext("not a service you offer, declined")
        elif outcome == "handed_to_human":
            result = gettext("handed to you, please call back")
        elif outcome == "opted_out":
            result = gettext("opted out of texts, not booked")
        else:
            result = gettext("not booked")
        parts = [gettext("Missed call from %(name)s") % {"name": name}]
        if job:
            parts.append(job)
        parts.append(result)
        return f"{business.name}: " + ", ".join(parts)


def digest_text(*, business, language: str, figures) -> str:
    """The owner's daily digest as one text, in the owner's language (today so far)."""
    with translation.override(_language(language)):
        return gettext(
            "%(business)s today: %(calls)s calls, %(missed)s missed, %(recovered)s recovered by text, "
            "%(booked)s booked (est. $%(value)s), %(waiting)s leads waiting in the recovery queue."
        ) % {
            "business": business.name,
            "calls": figures.calls,
            "missed": figures.missed,
            "recovered": figures.recovered,
            "booked": figures.booked,
            "value": figures.booked_value,
            "waiting": figures.waiting,
        }
