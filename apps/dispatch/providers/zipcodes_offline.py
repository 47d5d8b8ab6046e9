"""Offline geocoding: the centroid of the address's US ZIP code, from the ``zipcodes`` package.

Its data ships inside the wheel (42,000 ZIP codes), so this works with no network and no key. The
first lookup in a process loads the table (1.2-2.4 s measured on this machine); ``warm_up()`` lets
a process pay that at start instead of during a customer's conversation.
"""

import zipcodes

from apps.dispatch.geo import GeoPoint, zip_of


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


class ZipCentroidGeocoder:
    def geocode(self, address: str) -> GeoPoint | None:
        zip_code = zip_of(address)
        return lookup_zip(zip_code) if zip_code else None
