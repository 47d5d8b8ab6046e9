"""The evaluation corpus: five businesses and the scripted customers, loaded from YAML and checked.

The YAML is read with a loader that keeps customer text as text: YAML 1.1 would turn an unquoted
``yes``, ``no``, ``ok``-like ``on``/``off`` into booleans and ``2026-11-23 10:15:00`` into a naive
datetime. Only ``true``/``false`` are booleans here, and times are strings parsed below, in the
business's time zone unless they carry a zone or an offset. Unknown keys are errors: a typo in an
expectation must not silently turn it off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DATA_DIR = Path(__file__).parent / "data"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_ABBREVIATIONS = {name[:3]: index for index, name in enumerate(WEEKDAYS)}

# The skills of issue 10, in the order the report prints them.
CATEGORIES = {
    "human_request": "asks for a person / whether it is a bot",
    "reschedule": "moves an existing appointment found by phone",
    "cancel": "cancels an existing appointment found by phone",
    "opt_out": "STOP and its kin, and free-text opt-outs",
    "emergency": "emergencies recognised from the situation",
    "time_window": "time windows, deadlines and corrections",
    "calendar": "DST nights and holidays",
    "confirmation": "the many ways of saying yes",
    "after_booking": "what customers add after the booking",
    "name_address": "a name given together with an address",
    "price_question": "price-only questions",
    "spam": "spam and wrong numbers",
    "out_of_area": "addresses outside the service area",
    "outside_trade": "requests outside the business's trades",
    "catalogue": "the right job from the business's own catalogue",
}
TURN_MARKS = frozenset({"human_request", "opt_out", "emergency"})
FLAG_NAMES = frozenset({"needs_human", "emergency", "opted_out"})
LEAD_KEYS = frozenset({"job_type", "urgency", "outcome"})
# The lead record's outcomes (apps/conversations/models.py LeadOutcome) and urgencies.
LEAD_OUTCOMES = frozenset(
    {
        "booked",
        "declined_out_of_area",
        "declined_out_of_trade",
        "price_only",
        "handed_to_human",
        "opted_out",
        "spam",
        "abandoned",
    }
)
LEAD_URGENCIES = frozenset({"emergency", "urgent", "normal"})
FORBIDDEN = frozenset({"slot_offer", "slot_offer_after_booking", "booking", "owner_alert", "reply"})
APPOINTMENT_KEYS = frozenset(
    {
        "job_type",
        "start_between",
        "start_on",
        "start_not_on",
        "start_weekdays",
        "start_time_between",
        "start_at",
        "ends_by",
        "duration_minutes",
        "price",
        "emergency",
        "notes_contain",
        "address_contains",
    }
)
EXISTING_KEYS = frozenset({"status", "unchanged"}) | APPOINTMENT_KEYS
EXPECT_KEYS = frozenset(
    {
        "booked",
        "appointments_created",
        "appointment",
        "existing",
        "owner_alerts",
        "replies",
        "replies_after_opt_out",
        "reply_contains",
        "last_reply_contains",
        "reply_not_contains",
        "reply_language",
        "flags",
        "lead",
        "forbid",
        "customer_name",
        "address_in_area",
    }
)
SCENARIO_KEYS = frozenset(
    {"id", "category", "language", "business", "start", "phone", "missed_call", "setup", "turns", "expect", "suite"}
)
SCENARIO_KEYS_OPTIONAL = frozenset({"note"})
TURN_KEYS = frozenset({"text", "after", "ai", "marks"})
AI_KEYS = frozenset(
    {
        "intent",
        "trade",
        "job_type",
        "job_description",
        "urgency",
        "customer_name",
        "address",
        "preferred_time",
        "confirmation",
        "language",
        "reply",
    }
)
SETUP_KEYS = frozenset({"config", "opted_out", "customer", "appointments", "calendar"})


class CorpusError(ValueError):
    """The corpus is malformed (the message names the file and the scenario)."""


# --- YAML ---------------------------------------------------------------------------------------


def _loader():
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    resolvers = {}
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items():
        kept = [
            (tag, regexp)
            for tag, regexp in entries
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
        ]
        if kept:
            resolvers[first] = kept
    Loader.yaml_implicit_resolvers = resolvers
    Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))
    return Loader


def load_yaml(path: Path):
    import yaml

    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_loader())  # noqa: S506 - a SafeLoader subclass


# --- times --------------------------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(?:(?P<d>\d+)\s*d)?\s*(?:(?P<h>\d+)\s*h)?\s*(?:(?P<m>\d+)\s*m)?\s*(?:(?P<s>\d+)\s*s)?\s*$")
_LOCAL = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{1,2}:\d{2}(?::\d{2})?)(?:\s+(?P<zone>[A-Za-z_/+\-]+))?$"
)


def parse_duration(value) -> timedelta:
    """``90`` (seconds), ``"45s"``, ``"2m"``, ``"1h30m"``, ``"1d"``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match or not any(match.groupdict().values()):
        raise CorpusError(f"not a duration: {value!r} (use 45s, 2m, 1h30m, 1d)")
    parts = {key: int(number or 0) for key, number in match.groupdict().items()}
    return timedelta(days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"])


def parse_moment(value, tz: ZoneInfo) -> datetime:
    """An aware datetime: ISO 8601 with an offset, or ``"YYYY-MM-DD HH:MM[:SS] [Zone/Name]"``
    read in ``tz`` (the business's zone) when no zone is given."""
    text = str(value).strip()
    match = _LOCAL.match(text)
    if match:
        zone = tz
        if match.group("zone"):
            try:
                zone = ZoneInfo(match.group("zone"))
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise CorpusError(f"unknown time zone in {value!r}") from exc
        clock = match.group("time")
        if len(clock.split(":")[0]) == 1:
            clock = "0" + clock
        return datetime.fromisoformat(f"{match.group('date')}T{clock}").replace(tzinfo=zone)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CorpusError(f"not a date and time: {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def parse_clock(value) -> int:
    """``"08:30"`` → minutes after midnight; ``"24:00"`` is the end of the day."""
    match = re.match(r"^(\d{1,2}):(\d{2})$", str(value).strip())
    if not match or int(match.group(1)) > 24 or int(match.group(2)) > 59:
        raise CorpusError(f"not a clock time: {value!r}")
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    if minutes > 24 * 60:
        raise CorpusError(f"not a clock time: {value!r}")
    return minutes


def clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_weekday(value) -> int:
    name = str(value).strip().lower()[:3]
    if name not in WEEKDAY_ABBREVIATIONS:
        raise CorpusError(f"not a weekday: {value!r}")
    return WEEKDAY_ABBREVIATIONS[name]


def parse_date(value) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise CorpusError(f"not a date: {value!r}") from exc


# --- businesses ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueItem:
    key: str
    label: str
    trade: str
    min_price: float
    max_price: float
    duration_minutes: int
    description: str = ""

    def as_estimate(self) -> dict:
        """The business's job estimate as the product stores it (its key is the estimate's job_type)."""
        return {
            "job_type": self.key,
            "trade": self.trade,
            "min_price": self.min_price,
            "max_price": self.max_price,
            "duration_minutes": self.duration_minutes,
            "label": self.label,
            "description": self.description,
        }


@dataclass
class BusinessSpec:
    key: str
    name: str
    slug: str
    trade: str
    trades: list[str]
    timezone: str
    language: str
    number: str
    forwarding: str
    email: str
    hours: dict[int, list[tuple[int, int]]]  # weekday -> [(open, close)] in minutes, breaks between
    holidays: set[date]
    holiday_names: dict[date, str]
    area: dict
    catalogue: list[CatalogueItem]
    ai_settings: dict
    auto_reply: str
    default_phone: str
    emergency_multiplier: float | None = None  # None: seed 000's table by time of day

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def item(self, key: str) -> CatalogueItem | None:
        return next((item for item in self.catalogue if item.key == key), None)

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The UTC instants of ``day``'s opening hours (breaks excluded); none on a holiday."""
        if day in self.holidays:
            return []
        intervals = []
        for start, end in self.hours.get(day.weekday(), []):
            begin = datetime.combine(day, time(start // 60, start % 60), tzinfo=self.tz).astimezone(UTC)
            if end >= 24 * 60:
                finish = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz).astimezone(UTC)
            else:
                finish = datetime.combine(day, time(end // 60, end % 60), tzinfo=self.tz).astimezone(UTC)
            intervals.append((begin, finish))
        return intervals

    def within_hours(self, start: datetime, end: datetime) -> bool:
        """``[start, end)`` lies inside one opening interval (not across a break or a closed night;
        a 24-hour day runs on into the next one)."""
        start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
        day = start.astimezone(self.tz).date()
        merged: list[list[datetime]] = []
        for offset in (-1, 0, 1):
            for begin, finish in self.open_intervals(day + timedelta(days=offset)):
                if merged and merged[-1][1] >= begin:
                    merged[-1][1] = max(merged[-1][1], finish)
                else:
                    merged.append([begin, finish])
        return any(begin <= start_utc and end_utc <= finish for begin, finish in merged)

    def product_hours(self) -> dict:
        """The hours in the product's ``business_hours`` shape: ``open``/``close`` for one span a
        day, ``intervals`` for several (a lunch break), ``24:00`` for midnight."""
        result = {}
        for index, day in enumerate(WEEKDAYS):
            spans = self.hours.get(index, [])
            if not spans:
                result[day] = {"closed": True}
            elif len(spans) == 1:
                result[day] = {"open": clock_text(spans[0][0]), "close": clock_text(spans[0][1]), "closed": False}
            else:
                result[day] = {
                    "closed": False,
                    "intervals": [{"open": clock_text(start), "close": clock_text(end)} for start, end in spans],
                }
        return result

    def product_config(self) -> dict:
        """The business's settings as an owner would enter them (validated by the config API's
        serializer before they are stored)."""
        from apps.tenants.config.models import DEFAULT_AUTO_REPLY

        return {
            "business_hours": self.product_hours(),
            "holiday_closures": [
                {"start_date": day.isoformat(), "name": self.holiday_names.get(day, "")}
                for day in sorted(self.holidays)
            ],
            "trades": self.trades,
            "service_area": {
                "address": self.area["address"],
                "latitude": self.area["latitude"],
                "longitude": self.area["longitude"],
                "radius_miles": self.area["radius_miles"],
            },
            "job_estimates": [item.as_estimate() for item in self.catalogue],
            "ai_settings": self.ai_settings,
            "forwarding_number": self.forwarding,
            "language": self.language,
            "emergency_multiplier": self.emergency_multiplier,
            "auto_reply_template": self.auto_reply or DEFAULT_AUTO_REPLY,
        }


def _parse_hours(raw: dict, where: str) -> dict[int, list[tuple[int, int]]]:
    hours: dict[int, list[tuple[int, int]]] = {}
    for day, spec in raw.items():
        days = [parse_weekday(part) for part in str(day).split(",")]
        spans = []
        if str(spec).strip().lower() != "closed":
            for part in str(spec).split(","):
                begin, _, finish = part.strip().partition("-")
                span = (parse_clock(begin), parse_clock(finish))
                if span[0] >= span[1]:
                    raise CorpusError(f"{where}: {part!r} closes before it opens")
                spans.append(span)
        for index in days:
            hours[index] = sorted(spans)
    return hours


def _business(key: str, raw: dict, where: str) -> BusinessSpec:
    required = {"name", "slug", "trade", "timezone", "language", "number", "forwarding", "hours", "area", "catalogue"}
    missing = required - set(raw)
    if missing:
        raise CorpusError(f"{where}: business {key} lacks {sorted(missing)}")
    raw_holidays = raw.get("holidays") or {}
    if isinstance(raw_holidays, list):
        raw_holidays = dict.fromkeys(raw_holidays, "")
    holidays = {parse_date(day): str(name or "") for day, name in raw_holidays.items()}
    catalogue = [
        CatalogueItem(
            key=item["key"],
            label=item["label"],
            trade=item.get("trade") or raw["trade"],
            min_price=float(item["price"][0]),
            max_price=float(item["price"][1]),
            duration_minutes=int(item["duration_minutes"]),
            description=item.get("description", ""),
        )
        for item in raw["catalogue"]
    ]
    return BusinessSpec(
        key=key,
        name=raw["name"],
        slug=raw["slug"],
        trade=raw["trade"],
        trades=raw.get("trades") or [raw["trade"]],
        timezone=raw["timezone"],
        language=raw["language"],
        number=raw["number"],
        forwarding=raw["forwarding"],
        email=raw.get("email", ""),
        hours=_parse_hours(raw["hours"], f"{where}: {key}"),
        holidays=set(holidays),
        holiday_names={day: name for day, name in holidays.items() if name},
        area=raw["area"],
        catalogue=catalogue,
        ai_settings=raw.get("ai_settings") or {},
        auto_reply=raw.get("auto_reply", ""),
        default_phone=raw.get("default_phone", "+17735550142"),
        emergency_multiplier=float(raw["emergency_multiplier"]) if raw.get("emergency_multiplier") else None,
    )


# --- scenarios ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    text: str
    after: timedelta
    ai: dict
    marks: frozenset


@dataclass
class Scenario:
    id: str
    category: str
    language: str
    business: str
    start: datetime
    phone: str
    missed_call: bool
    setup: dict
    turns: list[Turn]
    expect: dict
    suite: bool
    source: str
    note: str = ""


@dataclass
class Corpus:
    businesses: dict[str, BusinessSpec]
    scenarios: list[Scenario] = field(default_factory=list)

    def select(
        self, *, category: str | None = None, scenario_id: str | None = None, suite_only: bool = False
    ) -> list[Scenario]:
        chosen = self.scenarios
        if category:
            chosen = [s for s in chosen if s.category == category]
        if scenario_id:
            chosen = [s for s in chosen if s.id == scenario_id or s.id.startswith(scenario_id)]
        if suite_only:
            chosen = [s for s in chosen if s.suite]
        return chosen


def _check_keys(data: dict, allowed: frozenset, where: str) -> None:
    if not isinstance(data, dict):
        raise CorpusError(f"{where}: expected a mapping, got {type(data).__name__}")
    unknown = set(data) - allowed
    if unknown:
        raise CorpusError(f"{where}: unknown keys {sorted(unknown)} (allowed: {sorted(allowed)})")


def _check_expect(expect: dict, business: BusinessSpec, where: str) -> None:
    _check_keys(expect, EXPECT_KEYS, f"{where} expect")
    for name, allowed in (("appointment", APPOINTMENT_KEYS), ("existing", EXISTING_KEYS)):
        if name in expect:
            _check_keys(expect[name], allowed, f"{where} expect.{name}")
            job = expect[name].get("job_type")
            if job and business.item(job) is None:
                raise CorpusError(f"{where}: {job!r} is not in {business.key}'s catalogue")
    _check_keys(expect.get("flags", {}), FLAG_NAMES, f"{where} expect.flags")
    lead = expect.get("lead", {})
    _check_keys(lead, LEAD_KEYS, f"{where} expect.lead")
    if "outcome" in lead and lead["outcome"] not in LEAD_OUTCOMES:
        raise CorpusError(f"{where}: lead outcome {lead['outcome']!r} is not one of {sorted(LEAD_OUTCOMES)}")
    if "urgency" in lead and lead["urgency"] not in LEAD_URGENCIES:
        raise CorpusError(f"{where}: lead urgency {lead['urgency']!r} is not one of {sorted(LEAD_URGENCIES)}")
    unknown = set(expect.get("forbid", [])) - FORBIDDEN
    if unknown:
        raise CorpusError(f"{where}: unknown forbid {sorted(unknown)} (allowed: {sorted(FORBIDDEN)})")
    for key in ("reply_contains", "last_reply_contains", "reply_not_contains"):
        for pattern in expect.get(key, []):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise CorpusError(f"{where}: bad regex in {key}: {pattern!r}: {exc}") from exc


def _scenario(raw: dict, businesses: dict[str, BusinessSpec], source: str) -> Scenario:
    where = f"{source}: {raw.get('id', '?')}"
    _check_keys(raw, SCENARIO_KEYS | SCENARIO_KEYS_OPTIONAL, where)
    for key in ("id", "category", "language", "business", "start", "turns", "expect"):
        if key not in raw:
            raise CorpusError(f"{where}: missing {key!r}")
    if raw["category"] not in CATEGORIES:
        raise CorpusError(f"{where}: unknown category {raw['category']!r}")
    if raw["language"] not in ("en", "es"):
        raise CorpusError(f"{where}: language must be en or es")
    business = businesses.get(raw["business"])
    if business is None:
        raise CorpusError(f"{where}: unknown business {raw['business']!r}")
    turns = []
    for index, turn in enumerate(raw["turns"]):
        if isinstance(turn, str):
            turn = {"text": turn}
        _check_keys(turn, TURN_KEYS, f"{where} turn {index + 1}")
        _check_keys(turn.get("ai") or {}, AI_KEYS, f"{where} turn {index + 1} ai")
        marks = frozenset(turn.get("marks") or [])
        if marks - TURN_MARKS:
            raise CorpusError(f"{where} turn {index + 1}: unknown marks {sorted(marks - TURN_MARKS)}")
        turns.append(
            Turn(
                text=str(turn["text"]),
                after=parse_duration(turn.get("after", "1m")),
                ai=dict(turn.get("ai") or {}),
                marks=marks,
            )
        )
    setup = raw.get("setup") or {}
    _check_keys(setup, SETUP_KEYS, f"{where} setup")
    _check_expect(raw["expect"], business, where)
    return Scenario(
        id=str(raw["id"]),
        category=raw["category"],
        language=raw["language"],
        business=business.key,
        start=parse_moment(raw["start"], business.tz),
        phone=str(raw.get("phone") or business.default_phone),
        missed_call=bool(raw.get("missed_call", True)),
        setup=setup,
        turns=turns,
        expect=raw["expect"],
        suite=bool(raw.get("suite", False)),
        source=source,
        note=raw.get("note", ""),
    )


def load_corpus(data_dir: Path = DATA_DIR) -> Corpus:
    raw_businesses = load_yaml(data_dir / "businesses.yaml")
    businesses = {key: _business(key, value, "businesses.yaml") for key, value in (raw_businesses or {}).items()}
    corpus = Corpus(businesses=businesses)
    seen = set()
    for path in sorted((data_dir / "scenarios").glob("*.yaml")):
        for raw in load_yaml(path) or []:
            scenario = _scenario(raw, businesses, path.name)
            if scenario.id in seen:
                raise CorpusError(f"{path.name}: duplicate scenario id {scenario.id}")
            seen.add(scenario.id)
            corpus.scenarios.append(scenario)
    return corpus
