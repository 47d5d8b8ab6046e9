"""Reads of the current business's settings for the hottest paths."""

import copy
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays
from django.conf import settings
from django.db import connection
from django.db.models.expressions import RawSQL

from apps.tenants.config.disclosure import with_disclosure
from apps.tenants.config.models import BusinessConfig
from apps.tenants.config.services import config_get
from nevermisscall.db import execute_one

# Sent when a business emptied its template (the API and the forms refuse an empty one).
FALLBACK_AUTO_REPLY = "Thanks for calling! We missed your call but got your message. We'll get back to you shortly."


def missed_call_text(*, config: BusinessConfig, business, disclose: bool, customer_name: str = "") -> str:
    """The missed-call text as the caller gets it: the business's template with its placeholders
    filled in (``{customer_name}`` from what the business knows of a returning caller; for a new
    one the placeholder goes, "Hi {customer_name}," reading "Hi,"), and the sentence saying replies
    are automated when ``disclose`` (apps/tenants/config/disclosure.py), in the business's language,
    before the template's opt-out line."""
    body = (config.auto_reply_template or FALLBACK_AUTO_REPLY).replace("{business_name}", business.name)
    body = body.replace("{business_phone}", business.phone or "")
    first_name = customer_name.strip().split(" ", 1)[0] if customer_name.strip() else ""
    body = body.replace("{customer_name}", first_name) if first_name else re.sub(r"\s*\{customer_name\}", "", body)
    if disclose:
        body = with_disclosure(body, config.language, max_segments=settings.SMS_MAX_SEGMENTS)
    return body


@dataclass(frozen=True)
class CallRouting:
    """What an incoming-call webhook needs to answer: where and how long to ring, and in which language."""

    forwarding_number: str
    ring_timeout: int
    call_screening: bool
    language: str
    voice_enabled: bool

    @classmethod
    def of(cls, config: BusinessConfig) -> "CallRouting":
        return cls(
            config.forwarding_number,
            config.ring_timeout,
            config.call_screening,
            config.language,
            bool((config.ai_settings or {}).get("voice_enabled")),
        )


_ROUTING_SQL = """
    SELECT forwarding_number, ring_timeout, call_screening, language,
        coalesce((ai_settings ->> 'voice_enabled')::boolean, false)
    FROM {config} WHERE id = 1
"""


# --- the settings of an assistant turn, kept per process and version ---------------------------------
#
# A turn needs the settings twice (before the engine, and again under the conversation's lock, where a
# change made meanwhile wins). Each read was a round trip; now the statements the turn makes anyway
# carry the digest of the settings row (``config_digest_sql``), and the row itself is read only when
# this process has no copy of that version of it. The digest is of the row's whole text, so any write
# (``save``, ``update``, raw SQL, another process) is a new version; the copies are kept per schema.
CONFIG_CACHE_SIZE = 1000
_versions: OrderedDict[str, tuple[str, BusinessConfig]] = OrderedDict()
_versions_lock = threading.Lock()


def config_digest_sql() -> str:
    """A scalar subquery: the digest of the current schema's settings row (NULL when there is none)."""
    table = connection.ops.quote_name(BusinessConfig._meta.db_table)
    return f"(SELECT md5(config::text) FROM {table} config WHERE config.id = 1)"  # noqa: S608 - the model's table


def config_of_version(*, digest: str | None) -> BusinessConfig:
    """The current business's settings, given the digest of their row that a statement of the caller
    read: this process's copy of that version when it has one (no query), else read with its digest
    (one query) and kept. Each call returns its own copy (callers may change it)."""
    schema = connection.schema_name
    if digest is not None:
        with _versions_lock:
            kept = _versions.get(schema)
            if kept is not None and kept[0] == digest:
                _versions.move_to_end(schema)
                return copy.deepcopy(kept[1])
    table = connection.ops.quote_name(BusinessConfig._meta.db_table)
    row_digest = RawSQL(f"md5({table}::text)", [])  # noqa: S611 - the model's table, no input
    config = BusinessConfig.objects.annotate(row_digest=row_digest).filter(pk=1).first()
    if config is None:
        return config_get()  # Created with the defaults; kept from the next read on.
    with _versions_lock:
        _versions[schema] = (config.row_digest, copy.deepcopy(config))
        _versions.move_to_end(schema)
        while len(_versions) > CONFIG_CACHE_SIZE:
            _versions.popitem(last=False)
    return config


def call_routing_get() -> CallRouting:
    """The five columns in one statement, which as a webhook's first carries its ``SET search_path``
    (one round trip instead of two, and no model built: nevermisscall/db.py). A business whose
    settings row does not exist yet gets it created with the defaults, as ``config_get`` does."""
    row = execute_one(_ROUTING_SQL.format(config=connection.ops.quote_name(BusinessConfig._meta.db_table)), [])
    if row is None:
        return CallRouting.of(config_get())
    return CallRouting(*row)


@lru_cache(maxsize=256)
def _public_holidays(country: str, subdivision: str, first_year: int, last_year: int) -> tuple[tuple[date, str], ...]:
    """A holiday calendar's days of those years, computed once per process (every turn asks)."""
    calendar = holidays.country_holidays(
        country, subdiv=subdivision or None, years=range(first_year, last_year + 1), language="en_US"
    )
    return tuple(sorted(calendar.items()))


def closed_dates(config: BusinessConfig, *, start: date, end: date) -> dict[date, str]:
    """The days from ``start`` to ``end`` (inclusive) the business is closed whatever the weekday:
    its own closures and its holiday calendar's public holidays, each with its name."""
    closed: dict[date, str] = {}
    if config.holiday_country:
        calendar = _public_holidays(config.holiday_country, config.holiday_subdivision, start.year, end.year)
        closed.update({day: name for day, name in calendar if start <= day <= end})
    for closure in config.holiday_closures or []:
        first = max(date.fromisoformat(closure["start_date"]), start)
        last = min(date.fromisoformat(closure.get("end_date") or closure["start_date"]), end)
        while first <= last:
            closed[first] = closure.get("name") or closed.get(first, "")
            first += timedelta(days=1)
    return dict(sorted(closed.items()))
