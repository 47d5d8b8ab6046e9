"""Offline geocoding: the centroid of the address's US ZIP code, from the ``zipcodes`` package; an
address with a city and state but no ZIP, the centroid of that city's ZIP codes.

Its data ships inside the wheel (42,000 ZIP codes), so this works with no network and no key. The
first lookup in a process loads the table (1.2-2.4 s measured on this machine); ``warm_up()`` lets
a process pay that at start instead of during a customer's conversation. A lookup scans the table
(~2.5 ms), so its answers are kept per process (the table is the wheel's, the same for everyone).
"""

import statistics
from functools import lru_cache

import zipcodes

from apps.dispatch.geo import GeoPoint, zip_of
from apps.dispatch.rules import extract_address


@lru_cache(maxsize=4096)
def lookup_zip(zip_code: str) -> GeoPoint | None:
    try:
        matches = zipcodes.matching(zip_code)
    except (TypeError, ValueError):
        return None
    if not matches or not matches[0].get("lat"):
        return None
    row = matches[0]
    return GeoPoint(
        latitude=float(row["lat"]),
        longitude=float(row["long"]),
        formatted_address=f"{row['city']}, {row['state']} {row['zip_code']}",
        precision="zip_centroid",
        source="zipcodes",
    )


def warm_up() -> None:
    lookup_zip("10001")


@lru_cache(maxsize=4096)
def lookup_city(city: str, state: str) -> GeoPoint | None:
    """The median of the city's ZIP centroids ("Joliet, IL" is 36 miles from Chicago, whatever its ZIP)."""
    try:
        rows = zipcodes.filter_by(city=city.title(), state=state.upper())
        points = [(float(row["lat"]), float(row["long"])) for row in rows if row.get("lat") and row.get("long")]
    except (TypeError, ValueError):
        return None
    points = [point for point in points if point != (0.0, 0.0)]  # ZIPs without a location are stored as 0, 0
    if not points:
        return None
    return GeoPoint(
        latitude=statistics.median(lat for lat, _ in points),  # the median: a far-flung ZIP moves it little
        longitude=statistics.median(lon for _, lon in points),
        formatted_address=f"{rows[0]['city']}, {rows[0]['state']}",
        precision="city_centroid",
        source="zipcodes",
    )


class ZipCentroidGeocoder:
    def geocode(self, address: str) -> GeoPoint | None:
        zip_code = zip_of(address)
        if zip_code:
            return lookup_zip(zip_code)
        parsed = extract_address(address or "")
        if parsed and parsed.city and parsed.state:
            return lookup_city(parsed.city, parsed.state)
        return None
