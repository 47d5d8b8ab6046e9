"""Job estimates and the emergency multiplier (seed 000: 1.5x to 2.75x by time of day and day of week)."""

import re
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from apps.dispatch.rules import fold

CENT = Decimal("0.01")
DEFAULT_DURATION_MINUTES = 60

# (weekday, day 07-17 / evening 17-22 / night 22-07) -> multiplier. Weekday daytime is the floor,
# a weekend night the ceiling.
EMERGENCY_MULTIPLIERS = {
    "weekday": {"day": Decimal("1.50"), "evening": Decimal("2.00"), "night": Decimal("2.50")},
    "saturday": {"day": Decimal("1.75"), "evening": Decimal("2.25"), "night": Decimal("2.75")},
    "sunday": {"day": Decimal("2.00"), "evening": Decimal("2.50"), "night": Decimal("2.75")},
}
MIN_MULTIPLIER = Decimal("1.50")
MAX_MULTIPLIER = Decimal("2.75")


def _period(hour: int) -> str:
    if 7 <= hour < 17:
        return "day"
    if 17 <= hour < 22:
        return "evening"
    return "night"


def emergency_multiplier(moment: datetime, tz: ZoneInfo) -> Decimal:
    """The emergency multiplier for a job starting at ``moment`` (read in the business's zone)."""
    local = moment.astimezone(tz)
    # The small hours belong to the evening before: Saturday 01:00 is still "Friday night".
    day = local.weekday()
    if local.hour < 7:
        day = (day - 1) % 7
    kind = "saturday" if day == 5 else "sunday" if day == 6 else "weekday"
    return EMERGENCY_MULTIPLIERS[kind][_period(local.hour)]


@dataclass(frozen=True)
class Estimate:
    job_type: str
    min_price: Decimal
    max_price: Decimal
    duration_minutes: int
    matched: bool  # False: no estimate for this job; another job of its trade lends its duration only.


@dataclass(frozen=True)
class PriceQuote:
    base_min: Decimal
    base_max: Decimal
    multiplier: Decimal
    min_price: Decimal
    max_price: Decimal

    @property
    def midpoint(self) -> Decimal:
        return ((self.min_price + self.max_price) / 2).quantize(CENT, rounding=ROUND_HALF_UP)

    def as_dict(self) -> dict:
        return {
            "base_min": float(self.base_min),
            "base_max": float(self.base_max),
            "multiplier": float(self.multiplier),
            "min_price": float(self.min_price),
            "max_price": float(self.max_price),
        }


# Words every job name shares; matching on them would price a toilet like a leak.
_GENERIC_WORDS = frozenset(
    [
        "repair",
        "repairs",
        "service",
        "services",
        "install",
        "installation",
        "replace",
        "replacement",
        "job",
        "fix",
        "new",
        "the",
        "and",
    ]
)


def _words(value: str) -> set[str]:
    words = fold(value).replace("_", " ").replace("/", " ").replace("-", " ").split()
    return {word for word in words if len(word) > 2 and word not in _GENERIC_WORDS}


# The kind of work, which the generic words carry: a new or replaced unit is priced and timed as an
# install, not as a repair of the old one (accent-folded English and Spanish).
_INSTALL_WORDS = frozenset(
    [
        "install",
        "installed",
        "installing",
        "installation",
        "new",
        "replace",
        "replaced",
        "replacing",
        "replacement",
        "upgrade",
        "instalar",
        "instalacion",
        "instalen",
        "nuevo",
        "nueva",
        "reemplazar",
        "reemplazo",
        "cambiar",
    ]
)
_REPAIR_WORDS = frozenset(
    [
        "repair",
        "repairs",
        "fix",
        "fixing",
        "fixed",
        "broken",
        "leak",
        "leaking",
        "leaks",
        "reparar",
        "reparacion",
        "arreglar",
        "descompuesto",
        "descompuesta",
        "fuga",
    ]
)


def work_kind(text: str) -> str | None:
    """``install`` or ``repair`` when ``text`` says which (install wins: "replace the broken one")."""
    folded = fold(text)
    words = set(re.findall(r"[a-z]+", folded))
    if words & _INSTALL_WORDS or "put in" in folded:
        return "install"
    if words & _REPAIR_WORDS or "not working" in folded:
        return "repair"
    return None


def match_estimate(
    estimates: list[dict],
    *,
    job_type: str | None,
    job_label: str | None,
    trade: str | None,
    text: str = "",
    kind: str | None = None,
) -> Estimate | None:
    """The business's estimate for a job, scored: the same key, the words it shares with the job's
    label or the customer's text, and the kind of work (install or repair: ``kind``, the customer's
    latest word on it, else what the text or the label says); else the first estimate of the same
    trade, for its duration only."""
    if not estimates:
        return None

    def build(item: dict) -> Estimate:
        return Estimate(
            job_type=str(item.get("job_type", "")),
            min_price=Decimal(str(item.get("min_price", 0))).quantize(CENT),
            max_price=Decimal(str(item.get("max_price", 0))).quantize(CENT),
            duration_minutes=int(item.get("duration_minutes") or DEFAULT_DURATION_MINUTES),
            matched=True,
        )

    wanted = _words(job_label or "") | _words(job_type or "") | _words(text)
    kind = kind or work_kind(text) or work_kind(job_label or "")
    best, best_score = None, 0
    for item in estimates:
        if trade and item.get("trade") and item.get("trade") != trade:
            continue
        name = str(item.get("job_type", ""))
        same_key = bool(job_type) and fold(name).replace(" ", "_") == job_type
        shared = len(wanted & (_words(name) | _words(str(item.get("description", "")))))
        if not same_key and not shared:
            continue
        score = 3 * same_key + 2 * shared
        if kind is not None:
            own_kind = work_kind(f"{name} {item.get('description', '')}")
            score += 3 if own_kind == kind else -1 if own_kind is None else -3
        if score > best_score:
            best, best_score = item, score
    if best is not None:
        return build(best)
    for item in estimates:
        if trade and item.get("trade") == trade:
            # Another job of the same trade: its duration is a fair guess, its price is not.
            return replace(build(item), matched=False)
    return None


def quote(
    estimate: Estimate,
    *,
    emergency: bool,
    start: datetime | None,
    tz: ZoneInfo,
    business_multiplier: Decimal | None = None,
) -> PriceQuote:
    """The estimate's range, times the emergency multiplier when it is one: the business's own, or
    seed 000's for the slot's start."""
    if not emergency:
        multiplier = Decimal("1.00")
    elif business_multiplier is not None:
        multiplier = business_multiplier
    else:
        multiplier = emergency_multiplier(start, tz) if start is not None else Decimal("1.00")
    return PriceQuote(
        base_min=estimate.min_price,
        base_max=estimate.max_price,
        multiplier=multiplier,
        min_price=(estimate.min_price * multiplier).quantize(CENT, rounding=ROUND_HALF_UP),
        max_price=(estimate.max_price * multiplier).quantize(CENT, rounding=ROUND_HALF_UP),
    )
