"""Job estimates and the emergency multiplier (seed 000: 1.5x to 2.75x by time of day and day of week)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from apps.dispatch.catalogue import Estimate

CENT = Decimal("0.01")

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
