"""Geocoding behind one interface, and the service-area check.

``get_geocoder()`` returns the Google Maps client when ``GOOGLE_MAPS_API_KEY`` is set (falling back
to the offline table when Google fails or its breaker is open), else the offline ZIP-centroid
geocoder, which needs no network. Distances are great-circle miles (haversine).
"""

import logging
import math
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

from apps.dispatch.rules import extract_address
from nevermisscall.demo_guard import current_business_is_demo

logger = logging.getLogger(__name__)
EARTH_RADIUS_MILES = 3958.8


@dataclass(frozen=True)
class GeoPoint:
    latitude: float
    longitude: float
    formatted_address: str
    precision: str  # "rooftop", "street", "zip_centroid", "city_centroid"
    source: str  # "google", "zipcodes"


class Geocoder(Protocol):
    def geocode(self, address: str) -> GeoPoint | None: ...


def haversine_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class ServiceAreaCheck:
    valid: bool | None  # None: one of the two points is unknown
    distance_miles: float | None
    radius_miles: float | None


def check_service_area(
    point: GeoPoint | None, *, center: tuple[float, float] | None, radius_miles: float | None
) -> ServiceAreaCheck:
    if point is None or center is None or radius_miles is None:
        return ServiceAreaCheck(None, None, radius_miles)
    distance = haversine_miles(center[0], center[1], point.latitude, point.longitude)
    return ServiceAreaCheck(distance <= radius_miles, round(distance, 2), radius_miles)


class FallbackGeocoder:
    """Try ``primary``; when it finds nothing or fails, ask ``fallback``."""

    def __init__(self, primary: Geocoder, fallback: Geocoder):
        self.primary, self.fallback = primary, fallback

    def geocode(self, address: str) -> GeoPoint | None:
        try:
            point = self.primary.geocode(address)
        except Exception:
            logger.warning("geocoding failed, using the offline table", exc_info=True)
            point = None
        return point or self.fallback.geocode(address)


def get_geocoder() -> Geocoder:
    from apps.dispatch.providers.zipcodes_offline import ZipCentroidGeocoder

    offline = ZipCentroidGeocoder()
    if settings.GOOGLE_MAPS_API_KEY and not current_business_is_demo():  # nevermisscall/demo_guard.py
        from apps.dispatch.providers.google_maps import GoogleMapsGeocoder

        return FallbackGeocoder(GoogleMapsGeocoder(api_key=settings.GOOGLE_MAPS_API_KEY), offline)
    return offline


def zip_of(address: str) -> str | None:
    parsed = extract_address(address or "")
    return parsed.zip_code if parsed else None
