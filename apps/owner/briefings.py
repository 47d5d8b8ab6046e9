"""Tomorrow's schedule and today's summary, as data and as the words the owner hears (the same
words for the JSON ``text``, the audio file and ``/twilio/owner-voice``)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, override

from apps.owner import selectors


def local_midnight(now: datetime, tz: ZoneInfo, *, days: int = 0) -> datetime:
    day = now.astimezone(tz).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def _job(appointment) -> dict:
    customer = appointment.customer
    return {
        "id": str(appointment.id),
        "start": appointment.start,
        "end": appointment.end,
        "status": appointment.status,
        "job_type": appointment.job_type,
        "trade": appointment.trade,
        "is_emergency": appointment.is_emergency,
        "estimated_value": None if appointment.estimated_value is None else float(appointment.estimated_value),
        "address": appointment.address or customer.address,
        "customer": {"id": str(customer.id), "name": customer.name, "phone": customer.phone},
        "technician_id": str(appointment.technician_id) if appointment.technician_id else None,
    }


def spoken_jobs(appointments, tz: ZoneInfo) -> list[str]:
    lines = []
    for appointment in appointments:
        when = appointment.start.astimezone(tz).strftime("%I:%M %p").lstrip("0")
        what = appointment.job_type.replace("_", " ") or _("appointment")
        address = appointment.address or appointment.customer.address
        where = f", {address}" if address else ""
        emergency = _("emergency") + " " if appointment.is_emergency else ""
        lines.append(f"{when}: {emergency}{what}{where}.")
    return lines


def _jobs_sentence(label: str, count: int) -> str:
    return ngettext("%(day)s you have %(count)d job.", "%(day)s you have %(count)d jobs.", count) % {
        "day": label,
        "count": count,
    }


def schedule_tomorrow(*, business, language: str, now: datetime | None = None) -> dict:
    tz = ZoneInfo(business.timezone)
    start = local_midnight(now or timezone.now(), tz, days=1)
    jobs = selectors.appointments_between(start=start, end=start + timedelta(days=1))
    with override(language):
        text = " ".join([_jobs_sentence(_("Tomorrow"), len(jobs)), *spoken_jobs(jobs, tz)])
    return {
        "date": start.date().isoformat(),
        "timezone": business.timezone,
        "count": len(jobs),
        "emergencies": sum(1 for job in jobs if job.is_emergency),
        "appointments": [_job(job) for job in jobs],
        "text": text,
    }


def summary_today(*, business, language: str, now: datetime | None = None) -> dict:
    tz = ZoneInfo(business.timezone)
    start = local_midnight(now or timezone.now(), tz)
    end = start + timedelta(days=1)
    figures = selectors.day_summary(start=start, end=end)
    jobs = selectors.appointments_between(start=start, end=end)
    with override(language):
        parts = [_jobs_sentence(_("Today"), len(jobs))]
        if figures.appointments["emergencies"]:
            parts.append(
                ngettext(
                    "%(count)d is an emergency.", "%(count)d are emergencies.", figures.appointments["emergencies"]
                )
                % {"count": figures.appointments["emergencies"]}
            )
        parts.extend(spoken_jobs(jobs, tz))
        parts.append(
            ngettext("%(count)d missed call today.", "%(count)d missed calls today.", figures.calls["missed"])
            % {"count": figures.calls["missed"]}
        )
        parts.append(
            ngettext(
                "%(count)d new conversation, %(booked)d booked.",
                "%(count)d new conversations, %(booked)d booked.",
                figures.conversations["new"],
            )
            % {"count": figures.conversations["new"], "booked": figures.conversations["booked"]}
        )
    return {
        "date": start.date().isoformat(),
        "timezone": business.timezone,
        "appointments": figures.appointments,
        "calls": figures.calls,
        "conversations": figures.conversations,
        "messages": figures.messages,
        "jobs": [_job(job) for job in jobs],
        "text": " ".join(parts),
    }
