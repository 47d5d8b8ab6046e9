"""Google Maps Geocoding API client, behind the ``geocoding`` circuit breaker, with a timeout."""

import json
import logging
import urllib.parse
import urllib.request

from django.conf import settings

from apps.dispatch.geo import GeoPoint
from nevermisscall.breakers import get_breaker

logger = logging.getLogger(__name__)

PRECISION = {"ROOFTOP": "rooftop", "RANGE_INTERPOLATED": "street", "GEOMETRIC_CENTER": "street"}


class GoogleMapsError(Exception):
    pass


class GoogleMapsGeocoder:
    def __init__(self, *, api_key: str, base_url: str | None = None, timeout: float | None = None):
        self.api_key = api_key
        self.base_url = (base_url or settings.GOOGLE_MAPS_BASE_URL).rstrip("/")
        self.timeout = timeout or settings.GOOGLE_MAPS_TIMEOUT_SECONDS

    def _request(self, address: str) -> dict:
        query = urllib.parse.urlencode({"address": address, "key": self.api_key, "components": "country:US"})
        url = f"{self.base_url}/maps/api/geocode/json?{query}"
        with urllib.request.urlopen(url, timeout=self.timeout) as response:  # noqa: S310 - https URL from settings
            body = json.load(response)
        status = body.get("status")
        if status not in {"OK", "ZERO_RESULTS"}:
            # OVER_QUERY_LIMIT, REQUEST_DENIED, UNKNOWN_ERROR: the provider is failing, not the address.
            raise GoogleMapsError(f"geocoding status {status}: {body.get('error_message', '')}")
        return body

    def geocode(self, address: str) -> GeoPoint | None:
        body = get_breaker("geocoding").call(self._request, address)
        results = body.get("results") or []
        if not results:
            return None
        first = results[0]
        location = first["geometry"]["location"]
        return GeoPoint(
            latitude=float(location["lat"]),
            longitude=float(location["lng"]),
            formatted_address=first.get("formatted_address", address),
            precision=PRECISION.get(first["geometry"].get("location_type"), "approximate"),
            source="google",
        )
