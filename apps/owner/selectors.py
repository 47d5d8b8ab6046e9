"""Reads for the Owner API (seed 002 ``/v1/owner/*``): every figure is computed by PostgreSQL.

Each selector is a fixed number of statements (aggregates with ``FILTER``, window functions,
``percentile_cont``) whatever the size of the business's data; Python only renames columns and
fills in the zero rows of categories the data does not mention. The queries run in the request's
tenant schema (``search_path``), so they see one business's tables only.

Windows (``since``): appointments by their ``start`` for what happened (service mix, economics,
neighbourhoods, customer analytics, completeness), by ``created_at`` for the pipeline (what was
booked in the window); calls, conversations and messages by when they came in.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from apps.conversations.models import Conversation, Message
from apps.crm.models import Appointment, Reschedule

ACTIVE = [str(status) for status in Appointment.ACTIVE_STATUSES]
STATUSES = [str(value) for value in Appointment.Status.values]
# A ZIP code at the end of an address ("…, Chicago, IL 60614" or "60614-1234").
ZIP_PATTERN = r"(\d{5})(?:-\d{4})?\s*$"


def _rows(sql: str, params: dict | None = None) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _row(sql: str, params: dict | None = None) -> dict:
    return _rows(sql, params)[0]


def _money(value) -> float:
    return float(round(value or 0, 2))


def _pct(part, whole) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


# --- schedules and summaries ---------------------------------------------------------------------


def appointments_between(*, start: datetime, end: datetime) -> list[Appointment]:
    """The slot-holding appointments starting in [start, end), with their customer: one query."""
    return list(
        Appointment.objects.filter(start__gte=start, start__lt=end, status__in=ACTIVE)
        .select_related("customer")
        .order_by("start")
    )


@dataclass(frozen=True)
class DaySummary:
    appointments: dict
    calls: dict
    conversations: dict
    messages: dict


def day_summary(*, start: datetime, end: datetime) -> DaySummary:
    """What happened in [start, end): four aggregate statements."""
    appointments = _row(
        """
        SELECT count(*) AS total,
               count(*) FILTER (WHERE status = 'scheduled') AS scheduled,
               count(*) FILTER (WHERE status = 'confirmed') AS confirmed,
               count(*) FILTER (WHERE status = 'completed') AS completed,
               count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
               count(*) FILTER (WHERE status = 'no_show') AS no_show,
               count(*) FILTER (WHERE is_emergency AND status = ANY(%(active)s)) AS emergencies,
               coalesce(sum(estimated_value) FILTER (WHERE status = ANY(%(active)s)), 0) AS estimated_value
        FROM crm_appointment WHERE start >= %(start)s AND start < %(end)s
        """,
        {"start": start, "end": end, "active": ACTIVE},
    )
    appointments["estimated_value"] = _money(appointments["estimated_value"])
    calls = _row(
        """
        SELECT count(*) AS total,
               count(*) FILTER (WHERE status = 'answered') AS answered,
               count(*) FILTER (WHERE status = 'missed') AS missed
        FROM telephony_call WHERE started_at >= %(start)s AND started_at < %(end)s
        """,
        {"start": start, "end": end},
    )
    conversations = _row(
        """
        SELECT count(*) AS new,
               count(*) FILTER (WHERE appointment_id IS NOT NULL) AS booked,
               count(*) FILTER (WHERE needs_you_at IS NOT NULL) AS needs_you
        FROM conversations_conversation WHERE created_at >= %(start)s AND created_at < %(end)s
        """,
        {"start": start, "end": end},
    )
    messages = _row(
        """
        SELECT count(*) FILTER (WHERE direction = 'inbound') AS inbound,
               count(*) FILTER (WHERE direction = 'outbound') AS outbound
        FROM conversations_message WHERE created_at >= %(start)s AND created_at < %(end)s
        """,
        {"start": start, "end": end},
    )
    return DaySummary(appointments=appointments, calls=calls, conversations=conversations, messages=messages)


def workload(*, first_day: date, days: int, tz: str) -> list[dict]:
    """One row per local day from ``first_day``: jobs, emergencies, booked minutes and value."""
    rows = _rows(
        """
        SELECT day::date AS date,
               count(a.id) AS appointments,
               count(a.id) FILTER (WHERE a.is_emergency) AS emergencies,
               coalesce(round(sum(extract(epoch FROM a."end" - a.start)) / 60), 0)::int AS booked_minutes,
               coalesce(sum(a.estimated_value), 0) AS estimated_value
        FROM generate_series(%(first)s::timestamp, %(first)s::timestamp + (%(days)s - 1) * interval '1 day',
                             interval '1 day') AS day
        LEFT JOIN crm_appointment a
               ON a.start >= (day AT TIME ZONE %(tz)s)
              AND a.start < ((day + interval '1 day') AT TIME ZONE %(tz)s)
              AND a.status = ANY(%(active)s)
        GROUP BY day ORDER BY day
        """,
        {"first": first_day, "days": days, "tz": tz, "active": ACTIVE},
    )
    for row in rows:
        row["date"] = row["date"].isoformat()
        row["estimated_value"] = _money(row["estimated_value"])
    return rows


# --- analytics -----------------------------------------------------------------------------------

SERVICE = "coalesce(nullif(a.job_type, ''), nullif(a.trade, ''), 'unspecified')"


def service_mix(*, since: datetime, until: datetime) -> list[dict]:
    """Appointments starting in [since, until) by service, with each service's share."""
    rows = _rows(
        f"""
        SELECT {SERVICE} AS service,
               count(*) AS appointments,
               count(*) FILTER (WHERE a.status = 'completed') AS completed,
               count(*) FILTER (WHERE a.status IN ('cancelled', 'no_show')) AS lost,
               count(*) FILTER (WHERE a.is_emergency) AS emergencies,
               coalesce(sum(a.estimated_value), 0) AS estimated_value,
               round(100.0 * count(*) / sum(count(*)) OVER (), 1)::float AS share_pct
        FROM crm_appointment a
        WHERE a.start >= %(since)s AND a.start < %(until)s
        GROUP BY 1 ORDER BY appointments DESC, service
        """,  # noqa: S608 - SERVICE is a constant expression; the values are bound parameters
        {"since": since, "until": until},
    )
    for row in rows:
        row["estimated_value"] = _money(row["estimated_value"])
    return rows


def service_mix_csv_rows(*, since: datetime, until: datetime):
    """The service mix as CSV rows, read through a server-side cursor."""
    yield ["service", "appointments", "completed", "lost", "emergencies", "estimated_value", "share_pct"]
    for row in service_mix(since=since, until=until):
        yield [row[key] for key in ("service", "appointments", "completed", "lost", "emergencies")] + [
            f"{row['estimated_value']:.2f}",
            row["share_pct"],
        ]


def pipeline(*, since: datetime, now: datetime) -> dict:
    """Appointments booked since ``since`` by status (one ``ROLLUP`` statement)."""
    rows = _rows(
        """
        SELECT status, count(*) AS appointments,
               coalesce(sum(estimated_value), 0) AS estimated_value,
               count(*) FILTER (WHERE start >= %(now)s) AS upcoming,
               coalesce(sum(estimated_value) FILTER (WHERE start >= %(now)s), 0) AS upcoming_value
        FROM crm_appointment WHERE created_at >= %(since)s
        GROUP BY ROLLUP (status)
        """,
        {"since": since, "now": now},
    )
    by_status = {status: {"appointments": 0, "estimated_value": 0.0, "upcoming": 0} for status in STATUSES}
    total = {"appointments": 0, "estimated_value": 0.0, "upcoming": 0, "upcoming_value": 0.0}
    for row in rows:
        figures = {
            "appointments": row["appointments"],
            "estimated_value": _money(row["estimated_value"]),
            "upcoming": row["upcoming"],
        }
        if row["status"] is None:
            total = {**figures, "upcoming_value": _money(row["upcoming_value"])}
        else:
            by_status[row["status"]] = figures
    open_value = by_status["scheduled"]["estimated_value"] + by_status["confirmed"]["estimated_value"]
    return {
        "stages": [{"status": status, **by_status[status]} for status in STATUSES],
        "total": total,
        "open_value": round(open_value, 2),
        "won_value": by_status["completed"]["estimated_value"],
        "completion_rate_pct": _pct(by_status["completed"]["appointments"], total["appointments"]),
    }


def customer_analytics(*, since: datetime, now: datetime) -> dict:
    """Customers: how many, new, active and repeat in the window, lifetime value; top ten by revenue."""
    summary = _row(
        """
        WITH visits AS (
            SELECT customer_id,
                   count(*) AS bookings,
                   count(*) FILTER (WHERE start >= %(since)s AND start < %(now)s) AS in_window,
                   coalesce(sum(estimated_value) FILTER (WHERE status = 'completed'), 0) AS revenue
            FROM crm_appointment WHERE status = ANY(%(active)s)
            GROUP BY customer_id
        )
        SELECT (SELECT count(*) FROM crm_customer) AS total_customers,
               (SELECT count(*) FROM crm_customer WHERE created_at >= %(since)s) AS new_customers,
               count(*) FILTER (WHERE in_window > 0) AS active_customers,
               count(*) FILTER (WHERE in_window > 0 AND bookings >= 2) AS repeat_customers,
               count(*) AS customers_with_bookings,
               coalesce(avg(revenue), 0) AS average_lifetime_value,
               coalesce(avg(bookings), 0) AS average_bookings
        FROM visits
        """,
        {"since": since, "now": now, "active": ACTIVE},
    )
    top = _rows(
        """
        SELECT rank, customer_id, name, phone, bookings, revenue, last_visit FROM (
            SELECT a.customer_id, c.name, c.phone,
                   count(*) AS bookings,
                   coalesce(sum(a.estimated_value) FILTER (WHERE a.status = 'completed'), 0) AS revenue,
                   max(a.start) FILTER (WHERE a.start < %(now)s) AS last_visit,
                   rank() OVER (ORDER BY coalesce(sum(a.estimated_value) FILTER (WHERE a.status = 'completed'), 0)
                                DESC) AS rank
            FROM crm_appointment a JOIN crm_customer c ON c.id = a.customer_id
            WHERE a.status = ANY(%(active)s)
            GROUP BY a.customer_id, c.name, c.phone
        ) ranked WHERE rank <= 10 ORDER BY rank, phone LIMIT 10
        """,
        {"now": now, "active": ACTIVE},
    )
    for row in top:
        row["customer_id"] = str(row["customer_id"])
        row["revenue"] = _money(row["revenue"])
    summary["average_lifetime_value"] = _money(summary["average_lifetime_value"])
    summary["average_bookings"] = round(float(summary["average_bookings"]), 2)
    summary["repeat_rate_pct"] = _pct(summary["repeat_customers"], summary["active_customers"])
    return {**summary, "top_customers": top}


def service_economics(*, since: datetime, until: datetime) -> list[dict]:
    """Per service, the completed jobs' revenue, average and median ticket, emergency vs standard."""
    rows = _rows(
        f"""
        SELECT {SERVICE} AS service,
               count(*) FILTER (WHERE a.status = ANY(%(active)s)) AS booked,
               count(*) FILTER (WHERE a.status = 'completed') AS completed_jobs,
               coalesce(sum(a.estimated_value) FILTER (WHERE a.status = 'completed'), 0) AS revenue,
               avg(a.estimated_value) FILTER (WHERE a.status = 'completed') AS average_ticket,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY a.estimated_value)
                   FILTER (WHERE a.status = 'completed') AS median_ticket,
               avg(a.estimated_value) FILTER (WHERE a.status = 'completed' AND a.is_emergency) AS emergency_ticket,
               avg(a.estimated_value) FILTER (WHERE a.status = 'completed' AND NOT a.is_emergency) AS standard_ticket,
               coalesce(round(avg(extract(epoch FROM a."end" - a.start)) / 60), 0)::int AS average_minutes,
               round(100.0 * coalesce(sum(a.estimated_value) FILTER (WHERE a.status = 'completed'), 0)
                     / nullif(sum(sum(a.estimated_value) FILTER (WHERE a.status = 'completed')) OVER (), 0), 1)::float
                   AS revenue_share_pct
        FROM crm_appointment a
        WHERE a.start >= %(since)s AND a.start < %(until)s
        GROUP BY 1 ORDER BY revenue DESC, service
        """,  # noqa: S608 - SERVICE is a constant expression; the values are bound parameters
        {"since": since, "until": until, "active": ACTIVE},
    )
    for row in rows:
        row["revenue"] = _money(row["revenue"])
        for key in ("average_ticket", "median_ticket", "emergency_ticket", "standard_ticket"):
            row[key] = None if row[key] is None else _money(row[key])
    return rows


def neighborhoods(*, since: datetime, until: datetime) -> list[dict]:
    """Appointments by ZIP code (the job's address, else the customer's); ``unknown`` without one."""
    rows = _rows(
        """
        SELECT coalesce(substring(coalesce(nullif(a.address, ''), c.address) FROM %(zip)s), 'unknown') AS area,
               count(*) AS appointments,
               count(*) FILTER (WHERE a.status = 'completed') AS completed,
               count(*) FILTER (WHERE a.is_emergency) AS emergencies,
               count(DISTINCT a.customer_id) AS customers,
               coalesce(sum(a.estimated_value) FILTER (WHERE a.status = ANY(%(active)s)), 0) AS estimated_value,
               round(100.0 * count(*) / sum(count(*)) OVER (), 1)::float AS share_pct
        FROM crm_appointment a JOIN crm_customer c ON c.id = a.customer_id
        WHERE a.start >= %(since)s AND a.start < %(until)s
        GROUP BY 1 ORDER BY appointments DESC, area LIMIT 100
        """,
        {"since": since, "until": until, "zip": ZIP_PATTERN, "active": ACTIVE},
    )
    for row in rows:
        row["estimated_value"] = _money(row["estimated_value"])
    return rows


def time_to_book(*, since: datetime) -> dict:
    """From a conversation's first contact to the appointment it booked, for conversations since ``since``."""
    row = _row(
        """
        WITH booked AS (
            SELECT extract(epoch FROM a.created_at - v.created_at) AS seconds
            FROM conversations_conversation v JOIN crm_appointment a ON a.id = v.appointment_id
            WHERE v.created_at >= %(since)s AND a.created_at >= v.created_at
        )
        SELECT (SELECT count(*) FROM conversations_conversation WHERE created_at >= %(since)s) AS conversations,
               count(*) AS booked,
               avg(seconds) AS average_seconds,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median_seconds,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90_seconds,
               min(seconds) AS fastest_seconds,
               max(seconds) AS slowest_seconds,
               count(*) FILTER (WHERE seconds <= 300) AS within_5_minutes,
               count(*) FILTER (WHERE seconds > 300 AND seconds <= 3600) AS within_1_hour,
               count(*) FILTER (WHERE seconds > 3600 AND seconds <= 86400) AS within_1_day,
               count(*) FILTER (WHERE seconds > 86400) AS over_1_day
        FROM booked
        """,
        {"since": since},
    )
    for key in ("average_seconds", "median_seconds", "p90_seconds", "fastest_seconds", "slowest_seconds"):
        row[key] = None if row[key] is None else round(float(row[key]), 1)
    row["booking_rate_pct"] = _pct(row["booked"], row["conversations"])
    return row


FUNNEL = ("missed_calls", "texted", "replied", "booked", "completed")


def conversion_funnel(*, since: datetime) -> dict:
    """Missed calls since ``since`` → texted back → customer replied → booked → job completed.

    Counted per missed call, each stage a subset of the one before it: texted means an outbound
    text in the call's conversation at or after the call, replied an inbound one, booked that the
    conversation booked an appointment, completed that the appointment is completed.
    """
    row = _row(
        """
        WITH missed AS (
            SELECT
              EXISTS (SELECT 1 FROM conversations_message m
                      WHERE m.conversation_id = c.conversation_id AND m.direction = 'outbound'
                        AND m.created_at >= c.started_at) AS texted,
              EXISTS (SELECT 1 FROM conversations_message m
                      WHERE m.conversation_id = c.conversation_id AND m.direction = 'inbound'
                        AND m.created_at >= c.started_at) AS replied,
              v.appointment_id IS NOT NULL AS booked,
              coalesce(a.status = 'completed', false) AS completed
            FROM telephony_call c
            LEFT JOIN conversations_conversation v ON v.id = c.conversation_id
            LEFT JOIN crm_appointment a ON a.id = v.appointment_id
            WHERE c.status = 'missed' AND c.started_at >= %(since)s
        )
        SELECT count(*) AS missed_calls,
               count(*) FILTER (WHERE texted) AS texted,
               count(*) FILTER (WHERE texted AND replied) AS replied,
               count(*) FILTER (WHERE texted AND replied AND booked) AS booked,
               count(*) FILTER (WHERE texted AND replied AND booked AND completed) AS completed
        FROM missed
        """,
        {"since": since},
    )
    stages = []
    for index, stage in enumerate(FUNNEL):
        previous = row[FUNNEL[index - 1]] if index else None
        stages.append(
            {
                "stage": stage,
                "count": row[stage],
                "of_previous_pct": _pct(row[stage], previous) if index else None,
                "of_missed_pct": _pct(row[stage], row["missed_calls"]),
            }
        )
    return {"stages": stages, "overall_conversion_pct": _pct(row["completed"], row["missed_calls"])}


def _completeness(row: dict, total_key: str) -> dict:
    total = row.pop(total_key)
    return {
        "total": total,
        "fields": {name: {"filled": value, "pct": _pct(value, total)} for name, value in row.items()},
    }


def data_completeness(*, since: datetime, until: datetime) -> dict:
    """How much of each record is filled in: three aggregate statements."""
    appointments = _row(
        """
        SELECT count(*) AS total,
               count(*) FILTER (WHERE a.job_type <> '') AS job_type,
               count(*) FILTER (WHERE coalesce(nullif(a.address, ''), c.address) <> '') AS address,
               count(*) FILTER (WHERE a.estimated_value IS NOT NULL) AS estimated_value,
               count(*) FILTER (WHERE a.technician_id IS NOT NULL) AS technician,
               count(*) FILTER (WHERE c.name <> '') AS customer_name
        FROM crm_appointment a JOIN crm_customer c ON c.id = a.customer_id
        WHERE a.start >= %(since)s AND a.start < %(until)s
        """,
        {"since": since, "until": until},
    )
    customers = _row(
        """
        SELECT count(*) AS total,
               count(*) FILTER (WHERE name <> '') AS name,
               count(*) FILTER (WHERE email <> '') AS email,
               count(*) FILTER (WHERE address <> '') AS address
        FROM crm_customer WHERE created_at >= %(since)s
        """,
        {"since": since},
    )
    conversations = _row(
        """
        SELECT count(*) AS total,
               count(*) FILTER (WHERE customer_name <> '') AS customer_name,
               count(*) FILTER (WHERE lead_job_type <> '') AS job_type,
               count(*) FILTER (WHERE lead_address <> '') AS address,
               count(*) FILTER (WHERE lead_urgency <> '') AS urgency,
               count(*) FILTER (WHERE lead_outcome <> '') AS outcome
        FROM conversations_conversation WHERE created_at >= %(since)s
        """,
        {"since": since},
    )
    return {
        "appointments": _completeness(appointments, "total"),
        "customers": _completeness(customers, "total"),
        "conversations": _completeness(conversations, "total"),
    }


FOLLOWUP_CLOSED = ["booked", "spam", "opted_out", "declined_out_of_area", "declined_out_of_trade"]


def followups(*, since: datetime, limit: int = 50) -> dict:
    """Leads since ``since`` who wrote to us and did not book (and did not opt out, were not spam
    or declined): how many by outcome, and the most recent ones to chase."""
    rows = _rows(
        """
        WITH leads AS (
            SELECT v.id, v.customer_number, v.customer_name, v.lead_job_type, v.lead_urgency,
                   v.lead_outcome, v.last_message_at, v.created_at,
                   (SELECT count(*) FROM conversations_message m
                     WHERE m.conversation_id = v.id AND m.direction = 'inbound') AS inbound_messages
            FROM conversations_conversation v
            WHERE v.created_at >= %(since)s AND v.appointment_id IS NULL
              AND v.lead_outcome <> ALL(%(closed)s)
              AND NOT EXISTS (SELECT 1 FROM conversations_optout o
                              WHERE o.phone_number = v.customer_number AND o.opted_out)
              AND NOT EXISTS (SELECT 1 FROM crm_appointment a JOIN crm_customer c ON c.id = a.customer_id
                              WHERE c.phone = v.customer_number AND a.created_at >= v.created_at
                                AND a.status = ANY(%(active)s))
        )
        SELECT l.* FROM leads l WHERE l.inbound_messages > 0
        ORDER BY l.last_message_at DESC NULLS LAST, l.created_at DESC LIMIT %(limit)s
        """,
        {"since": since, "closed": FOLLOWUP_CLOSED, "active": ACTIVE, "limit": limit},
    )
    # The outcome counts must cover every lead, not only the listed ones: one more statement.
    by_outcome = _rows(
        """
        SELECT coalesce(nullif(v.lead_outcome, ''), 'open') AS outcome, count(*) AS leads
        FROM conversations_conversation v
        WHERE v.created_at >= %(since)s AND v.appointment_id IS NULL AND v.lead_outcome <> ALL(%(closed)s)
          AND EXISTS (SELECT 1 FROM conversations_message m
                      WHERE m.conversation_id = v.id AND m.direction = 'inbound')
          AND NOT EXISTS (SELECT 1 FROM conversations_optout o
                          WHERE o.phone_number = v.customer_number AND o.opted_out)
          AND NOT EXISTS (SELECT 1 FROM crm_appointment a JOIN crm_customer c ON c.id = a.customer_id
                          WHERE c.phone = v.customer_number AND a.created_at >= v.created_at
                            AND a.status = ANY(%(active)s))
        GROUP BY 1 ORDER BY leads DESC, outcome
        """,
        {"since": since, "closed": FOLLOWUP_CLOSED, "active": ACTIVE},
    )
    leads = [
        {
            "conversation_id": str(row["id"]),
            "customer_number": row["customer_number"],
            "customer_name": row["customer_name"],
            "job_type": row["lead_job_type"],
            "urgency": row["lead_urgency"],
            "outcome": row["lead_outcome"] or "open",
            "inbound_messages": row["inbound_messages"],
            "last_message_at": row["last_message_at"],
        }
        for row in rows
    ]
    return {"total": sum(item["leads"] for item in by_outcome), "by_outcome": by_outcome, "leads": leads}


def retention(*, now: datetime, min_days: int) -> dict:
    """Customers by the age of their last visit, repeat rate, days between visits, and who is due
    a retention text (last visit ``min_days`` ago or more, nothing booked ahead, not opted out)."""
    row = _row(
        """
        WITH per_customer AS (
            SELECT a.customer_id,
                   max(a.start) FILTER (WHERE a.start < %(now)s) AS last_visit,
                   bool_or(a.start >= %(now)s AND a.status IN ('scheduled', 'confirmed')) AS has_future,
                   count(*) FILTER (WHERE a.status = 'completed') AS completed_jobs
            FROM crm_appointment a WHERE a.status = ANY(%(active)s)
            GROUP BY a.customer_id
        )
        SELECT count(*) FILTER (WHERE last_visit IS NOT NULL) AS customers_with_visits,
               count(*) FILTER (WHERE last_visit >= %(now)s - interval '90 days') AS last_visit_0_90_days,
               count(*) FILTER (WHERE last_visit < %(now)s - interval '90 days'
                                  AND last_visit >= %(now)s - interval '180 days') AS last_visit_91_180_days,
               count(*) FILTER (WHERE last_visit < %(now)s - interval '180 days'
                                  AND last_visit >= %(now)s - interval '365 days') AS last_visit_181_365_days,
               count(*) FILTER (WHERE last_visit < %(now)s - interval '365 days') AS last_visit_over_365_days,
               count(*) FILTER (WHERE completed_jobs >= 2) AS repeat_customers,
               count(*) FILTER (WHERE has_future) AS with_future_appointment,
               count(*) FILTER (WHERE last_visit < %(now)s - %(min_days)s * interval '1 day' AND NOT has_future
                                  AND NOT EXISTS (SELECT 1 FROM conversations_optout o
                                                  WHERE o.phone_number = c.phone AND o.opted_out)) AS due_for_retention,
               (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) FROM (
                    SELECT extract(epoch FROM start - lag(start) OVER (PARTITION BY customer_id ORDER BY start))
                           / 86400 AS gap
                    FROM crm_appointment WHERE status = 'completed') gaps) AS median_days_between_visits
        FROM per_customer p JOIN crm_customer c ON c.id = p.customer_id
        """,
        {"now": now, "active": ACTIVE, "min_days": min_days},
    )
    median = row["median_days_between_visits"]
    row["median_days_between_visits"] = None if median is None else round(float(median), 1)
    row["repeat_rate_pct"] = _pct(row["repeat_customers"], row["customers_with_visits"])
    row["min_days_since_last_visit"] = min_days
    return row


# --- conversations and QA ------------------------------------------------------------------------


def _with_message_figures(queryset):
    messages = Message.objects.filter(conversation=OuterRef("pk"))
    return queryset.annotate(
        message_count=Coalesce(
            Subquery(messages.order_by().values("conversation").annotate(n=Count("id")).values("n")[:1]), 0
        ),
        last_message_body=Subquery(messages.order_by("-created_at").values("body")[:1]),
    )


def conversations_recent(*, limit: int) -> list[Conversation]:
    queryset = Conversation.objects.order_by("-last_message_at", "-created_at")
    return list(_with_message_figures(queryset)[:limit])


def conversations_review(*, limit: int) -> list[Conversation]:
    """What a person should look at: needs-you first (oldest first), then hand-offs and conversations
    tagged ``review`` that are still open."""
    queryset = Conversation.objects.filter(
        Q(needs_you_at__isnull=False)
        | Q(status=Conversation.Status.ACTIVE, lead_outcome="handed_to_human")
        | Q(tags__contains=["review"])
    ).order_by("needs_you_at", "-last_message_at")
    return list(_with_message_figures(queryset)[:limit])


def reschedule_requests(*, since: datetime, limit: int) -> dict:
    """The business's reschedules (``crm.Reschedule``) asked for or moved since ``since``, newest
    first, with their figures: open requests, moves, moves by who placed them, and the median time
    from a customer's request to the move that answered it. Two statements."""
    window = "(r.created_at >= %(since)s OR r.moved_at >= %(since)s)"
    sources = list(Reschedule.MovedBy.values)
    by_source = ", ".join(
        f"count(*) FILTER (WHERE status = 'moved' AND moved_by = %(source_{i})s) AS by_source_{i}"
        for i in range(len(sources))
    )
    figures = _row(
        f"""
        SELECT count(*) AS total,
               count(*) FILTER (WHERE status = 'requested') AS open_requests,
               count(*) FILTER (WHERE status = 'moved') AS moved,
               count(*) FILTER (WHERE status = 'moved' AND requested_at IS NOT NULL) AS requests_moved,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM moved_at - requested_at) / 3600)
                   FILTER (WHERE status = 'moved' AND requested_at IS NOT NULL) AS median_hours_to_move,
               {by_source}
        FROM crm_reschedule r WHERE {window}
        """,  # noqa: S608 - the window and the column list are constants; the values are bound parameters
        {"since": since, **{f"source_{i}": source for i, source in enumerate(sources)}},
    )
    rows = _rows(
        f"""
        SELECT r.id, r.status, r.moved_by, r.from_start, r.from_end, r.to_start, r.to_end, r.actor_id,
               r.conversation_id, r.requested_at, r.moved_at, r.created_at,
               a.id AS appointment_id, a.start AS appointment_start, a.status AS appointment_status,
               c.id AS customer_id, c.phone AS customer_number, c.name AS customer_name
        FROM crm_reschedule r
        JOIN crm_appointment a ON a.id = r.appointment_id
        JOIN crm_customer c ON c.id = a.customer_id
        WHERE {window}
        ORDER BY COALESCE(r.moved_at, r.created_at) DESC, r.id DESC LIMIT %(limit)s
        """,  # noqa: S608 - the window is a constant; the values are bound parameters
        {"since": since, "limit": limit},
    )
    median = figures["median_hours_to_move"]
    return {
        "total": figures["total"],
        "open_requests": figures["open_requests"],
        "moved": figures["moved"],
        "requests_moved": figures["requests_moved"],
        "median_hours_to_move": round(median, 1) if median is not None else None,
        "moved_by": {source: figures[f"by_source_{i}"] for i, source in enumerate(sources)},
        "requests": [
            {
                "id": str(row["id"]),
                "status": row["status"],
                "moved_by": row["moved_by"],
                "appointment_id": str(row["appointment_id"]),
                "appointment_start": row["appointment_start"],
                "appointment_status": row["appointment_status"],
                "customer_id": str(row["customer_id"]),
                "customer_number": row["customer_number"],
                "customer_name": row["customer_name"],
                "conversation_id": str(row["conversation_id"]) if row["conversation_id"] else None,
                "actor_id": str(row["actor_id"]) if row["actor_id"] else None,
                "from_start": row["from_start"],
                "from_end": row["from_end"],
                "to_start": row["to_start"],
                "to_end": row["to_end"],
                "requested_at": row["requested_at"],
                "moved_at": row["moved_at"],
                "created_at": row["created_at"],
            }
            for row in rows
        ],
    }


def callbacks_due(*, since: datetime, limit: int) -> dict:
    """Callers whose latest missed call since ``since`` was not followed by an answered call either
    way, nor by a booking: who to call back, most recent first."""
    rows = _rows(
        """
        WITH missed AS (
            SELECT c.from_number, c.started_at, c.conversation_id, c.missed_reason,
                   count(*) OVER (PARTITION BY c.from_number) AS missed_calls,
                   row_number() OVER (PARTITION BY c.from_number ORDER BY c.started_at DESC) AS latest
            FROM telephony_call c
            WHERE c.status = 'missed' AND c.direction = 'inbound' AND c.started_at >= %(since)s
        )
        SELECT m.from_number, m.started_at AS last_missed_at, m.missed_calls, m.missed_reason,
               m.conversation_id, cu.name AS customer_name, count(*) OVER () AS total
        FROM missed m
        LEFT JOIN crm_customer cu ON cu.phone = m.from_number
        WHERE m.latest = 1
          AND NOT EXISTS (SELECT 1 FROM telephony_call later
                          WHERE later.status = 'answered' AND later.started_at > m.started_at
                            AND (later.from_number = m.from_number OR later.to_number = m.from_number))
          AND NOT EXISTS (SELECT 1 FROM crm_appointment a
                          WHERE a.customer_id = cu.id AND a.created_at >= m.started_at)
        ORDER BY m.started_at DESC LIMIT %(limit)s
        """,
        {"since": since, "limit": limit},
    )
    return {
        "total": rows[0]["total"] if rows else 0,
        "callbacks": [
            {
                "customer_number": row["from_number"],
                "customer_name": row["customer_name"] or "",
                "missed_calls": row["missed_calls"],
                "last_missed_at": row["last_missed_at"],
                "missed_reason": row["missed_reason"],
                "conversation_id": str(row["conversation_id"]) if row["conversation_id"] else None,
            }
            for row in rows
        ],
    }


# --- metrics -------------------------------------------------------------------------------------


def sms_metrics(*, since: datetime) -> dict:
    totals = _row(
        """
        SELECT count(*) FILTER (WHERE direction = 'inbound') AS inbound,
               count(*) FILTER (WHERE direction = 'outbound') AS outbound,
               count(*) FILTER (WHERE direction = 'outbound' AND status = 'delivered') AS delivered,
               count(*) FILTER (WHERE direction = 'outbound' AND status = 'sent') AS sent,
               count(*) FILTER (WHERE direction = 'outbound' AND status IN ('queued', 'sending')) AS pending,
               count(*) FILTER (WHERE direction = 'outbound' AND status = 'undelivered') AS undelivered,
               count(*) FILTER (WHERE direction = 'outbound' AND status = 'failed') AS failed,
               coalesce(sum(segments) FILTER (WHERE direction = 'outbound'), 0) AS segments,
               (SELECT count(*) FROM conversations_optout WHERE opted_out AND opted_out_at >= %(since)s) AS opt_outs
        FROM conversations_message WHERE created_at >= %(since)s
        """,
        {"since": since},
    )
    by_kind = _rows(
        """
        SELECT kind, direction, count(*) AS messages,
               count(*) FILTER (WHERE status = 'delivered') AS delivered,
               count(*) FILTER (WHERE status IN ('failed', 'undelivered')) AS failed
        FROM conversations_message WHERE created_at >= %(since)s
        GROUP BY kind, direction ORDER BY messages DESC, kind
        """,
        {"since": since},
    )
    finished = totals["delivered"] + totals["undelivered"] + totals["failed"]
    totals["delivery_rate_pct"] = _pct(totals["delivered"], finished)
    return {**totals, "by_kind": by_kind}


def twilio_metrics(*, since: datetime) -> dict:
    calls = _row(
        """
        SELECT count(*) AS calls,
               count(*) FILTER (WHERE direction = 'inbound') AS inbound,
               count(*) FILTER (WHERE status = 'answered') AS answered,
               count(*) FILTER (WHERE status = 'missed') AS missed,
               count(*) FILTER (WHERE status IN ('ringing', 'in-progress')) AS in_progress,
               count(*) FILTER (WHERE status = 'missed' AND auto_reply_skipped = '') AS missed_texted_or_due,
               round(avg(duration) FILTER (WHERE status = 'answered'))::int AS average_talk_seconds
        FROM telephony_call WHERE started_at >= %(since)s
        """,
        {"since": since},
    )
    reasons = _rows(
        """
        SELECT 'missed_reason' AS kind, missed_reason AS value, count(*) AS calls
        FROM telephony_call WHERE started_at >= %(since)s AND status = 'missed' GROUP BY missed_reason
        UNION ALL
        SELECT 'auto_reply_skipped', auto_reply_skipped, count(*)
        FROM telephony_call WHERE started_at >= %(since)s AND auto_reply_skipped <> '' GROUP BY auto_reply_skipped
        UNION ALL
        SELECT 'sms_error_code', error_code, count(*)
        FROM conversations_messagestatusevent WHERE received_at >= %(since)s AND error_code <> ''
        GROUP BY error_code
        ORDER BY 1, 3 DESC, 2
        """,
        {"since": since},
    )
    callbacks = _row(
        "SELECT count(*) AS sms_status_callbacks FROM conversations_messagestatusevent WHERE received_at >= %(since)s",
        {"since": since},
    )
    grouped: dict[str, dict] = {"missed_reason": {}, "auto_reply_skipped": {}, "sms_error_code": {}}
    for row in reasons:
        grouped[row["kind"]][row["value"] or "unknown"] = row["calls"]
    calls["answer_rate_pct"] = _pct(calls["answered"], calls["answered"] + calls["missed"])
    return {
        **calls,
        **callbacks,
        "missed_by_reason": grouped["missed_reason"],
        "auto_reply_skipped": grouped["auto_reply_skipped"],
        "sms_errors": grouped["sms_error_code"],
    }


# --- exports -------------------------------------------------------------------------------------

CONVERSATION_CSV_HEADER = [
    "conversation_id",
    "created_at",
    "customer_number",
    "customer_name",
    "status",
    "handled_by",
    "job_type",
    "urgency",
    "outcome",
    "outcome_reason",
    "appointment_id",
    "last_message_at",
]


def conversations_csv_rows(*, since: datetime, chunk_size: int = 500):
    """Conversations since ``since``, oldest first, through a server-side cursor (``iterator``):
    memory stays at one chunk whatever the number of rows."""
    yield CONVERSATION_CSV_HEADER
    rows = (
        Conversation.objects.filter(created_at__gte=since)
        .order_by("created_at", "id")
        .values_list(
            "id",
            "created_at",
            "customer_number",
            "customer_name",
            "status",
            "handled_by",
            "lead_job_type",
            "lead_urgency",
            "lead_outcome",
            "lead_outcome_reason",
            "appointment_id",
            "last_message_at",
        )
    )
    for row in rows.iterator(chunk_size=chunk_size):
        yield ["" if value is None else value.isoformat() if hasattr(value, "isoformat") else value for value in row]


def window_start(*, now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
