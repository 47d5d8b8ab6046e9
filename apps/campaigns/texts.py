"""The customers' texts of each campaign, in the customer's language (English or Spanish)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.translation import gettext

from apps.campaigns.models import Kind
from apps.dispatch import replies


def _language(language: str) -> str:
    return "es" if (language or "").lower().startswith("es") else "en"


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
