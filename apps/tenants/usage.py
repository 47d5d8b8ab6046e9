"""Usage per business for the operator (``/v1/admin/businesses/usage`` and ``usage.csv``).

Computed by PostgreSQL: one statement per page of businesses, a row per business built from
schema-qualified aggregates over its own tables (calls, texts and segments, AI tokens, bookings,
emergencies, service mix) and the estimated cost at the configured prices. A page of 100
businesses is one round trip, whatever the number of businesses on the platform.
"""

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection


@dataclass(frozen=True)
class BusinessUsage:
    business_id: str
    business_name: str
    calls: int
    missed_calls: int
    texts_in: int
    texts_out: int
    sms_segments: int
    ai_tokens: int
    ai_cost_usd: Decimal
    bookings: int
    emergencies: int
    service_mix: dict
    estimated_cost_usd: Decimal

    def as_dict(self) -> dict:
        data = asdict(self)
        data["ai_cost_usd"] = float(self.ai_cost_usd)
        data["estimated_cost_usd"] = float(self.estimated_cost_usd)
        return data


def _table(label: str) -> str:
    return django_apps.get_model(label)._meta.db_table


def _business_sql(schema: str) -> str:
    q = f'"{schema}"'
    call, message, usage = _table("telephony.Call"), _table("conversations.Message"), _table("dispatch.AiUsage")
    appointment, conversation = _table("crm.Appointment"), _table("conversations.Conversation")
    window = "{column} >= %(since)s AND {column} < %(until)s"
    calls_w, msg_w = window.format(column="started_at"), window.format(column="created_at")
    # Schema and table names come from the database and the models, never from input.
    sql = f"""
    SELECT %(id_{schema})s::text AS business_id, u.* FROM (SELECT
      (SELECT count(*) FROM {q}.{call} WHERE {calls_w}) AS calls,
      (SELECT count(*) FROM {q}.{call} WHERE {calls_w} AND status = 'missed') AS missed_calls,
      (SELECT count(*) FROM {q}.{message} WHERE {msg_w} AND direction = 'inbound') AS texts_in,
      (SELECT count(*) FROM {q}.{message} WHERE {msg_w} AND direction = 'outbound'
         AND status NOT IN ('failed', 'canceled', 'undelivered')) AS texts_out,
      (SELECT coalesce(sum(coalesce(segments, 1)), 0) FROM {q}.{message} WHERE {msg_w} AND direction = 'outbound'
         AND status NOT IN ('failed', 'canceled', 'undelivered')) AS sms_segments,
      (SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) FROM {q}.{usage} WHERE {msg_w}) AS ai_tokens,
      (SELECT coalesce(sum(cost_usd), 0) FROM {q}.{usage} WHERE {msg_w}) AS ai_cost_usd,
      (SELECT count(*) FROM {q}.{appointment} WHERE {msg_w}) AS bookings,
      (SELECT count(*) FROM {q}.{conversation} WHERE {msg_w} AND lead_intent = 'emergency') AS emergencies,
      (SELECT coalesce(jsonb_object_agg(kind, n), '{{}}'::jsonb) FROM (
         SELECT coalesce(nullif(job_type, ''), 'unspecified') AS kind, count(*) AS n
         FROM {q}.{appointment} WHERE {msg_w} GROUP BY 1) mix) AS service_mix
    ) u"""  # noqa: S608
    return sql


def usage_for(*, businesses: list, since: datetime, until: datetime) -> list[BusinessUsage]:
    """Usage of ``businesses`` (Business rows) between ``since`` and ``until``, in their order."""
    if not businesses:
        return []
    params = {
        "since": since,
        "until": until,
        "p_segment": Decimal(str(settings.USAGE_PRICE_SMS_SEGMENT)),
        "p_call": Decimal(str(settings.USAGE_PRICE_CALL)),
        "p_tokens": Decimal(str(settings.USAGE_PRICE_AI_1K_TOKENS)),
    }
    parts = []
    for business in businesses:
        params[f"id_{business.schema_name}"] = str(business.pk)
        parts.append(_business_sql(business.schema_name))
    cost = "round(r.sms_segments * %(p_segment)s + r.calls * %(p_call)s + r.ai_tokens / 1000.0 * %(p_tokens)s, 4)"
    union = " UNION ALL ".join(parts)
    sql = f"SELECT r.*, {cost} AS estimated_cost_usd FROM ({union}) r"  # noqa: S608 (parts above; values are parameters)
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column.name for column in cursor.description]
        rows = {row[0]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}
    result = []
    for business in businesses:
        row = rows[str(business.pk)]
        mix = row["service_mix"]
        if isinstance(mix, str):  # Django leaves jsonb undecoded (its JSONField decodes itself).
            mix = json.loads(mix)
        result.append(
            BusinessUsage(
                business_id=str(business.pk),
                business_name=business.name,
                calls=row["calls"],
                missed_calls=row["missed_calls"],
                texts_in=row["texts_in"],
                texts_out=row["texts_out"],
                sms_segments=int(row["sms_segments"]),
                ai_tokens=int(row["ai_tokens"]),
                ai_cost_usd=Decimal(row["ai_cost_usd"]),
                bookings=row["bookings"],
                emergencies=row["emergencies"],
                service_mix=mix if isinstance(mix, dict) else {},
                estimated_cost_usd=Decimal(row["estimated_cost_usd"]),
            )
        )
    return result


CSV_COLUMNS = [
    "business_id",
    "business_name",
    "calls",
    "missed_calls",
    "texts_in",
    "texts_out",
    "sms_segments",
    "ai_tokens",
    "ai_cost_usd",
    "bookings",
    "emergencies",
    "service_mix",
    "estimated_cost_usd",
]
