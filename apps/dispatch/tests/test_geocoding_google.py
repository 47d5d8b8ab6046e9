"""The Google Maps geocoder against a loopback stand-in of its JSON API, and its fallback."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from apps.dispatch.geo import FallbackGeocoder, get_geocoder
from apps.dispatch.providers.google_maps import GoogleMapsGeocoder
from apps.dispatch.providers.zipcodes_offline import ZipCentroidGeocoder
from nevermisscall.breakers import get_breaker

EVANSTON = {
    "results": [
        {
            "formatted_address": "2210 Maple Ave, Evanston, IL 60201, USA",
            "geometry": {"location": {"lat": 42.0567, "lng": -87.6878}, "location_type": "ROOFTOP"},
        }
    ],
    "status": "OK",
}


@pytest.fixture
def google():
    state = {"mode": "ok", "queries": []}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002
            return

        def do_GET(self):
            url = urlparse(self.path)
            state["queries"].append((url.path, parse_qs(url.query)))
            if state["mode"] == "slow":
                time.sleep(1.5)
            status, body = {
                "ok": (200, EVANSTON),
                "none": (200, {"results": [], "status": "ZERO_RESULTS"}),
                "denied": (200, {"results": [], "status": "REQUEST_DENIED", "error_message": "bad key"}),
                "error": (500, {}),
                "slow": (200, EVANSTON),
            }[state["mode"]]
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    breaker = get_breaker("geocoding")
    breaker.close()
    state["base_url"] = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    breaker.close()
    server.shutdown()
    server.server_close()


def test_google_geocoder_sends_the_address_and_reads_the_location(google):
    point = GoogleMapsGeocoder(api_key="g-key", base_url=google["base_url"], timeout=0.5).geocode(
        "2210 Maple Dr Evanston IL"
    )
    assert (point.latitude, point.longitude, point.precision, point.source) == (42.0567, -87.6878, "rooftop", "google")
    path, query = google["queries"][0]
    assert path == "/maps/api/geocode/json"
    assert query == {"address": ["2210 Maple Dr Evanston IL"], "key": ["g-key"], "components": ["country:US"]}
    google["mode"] = "none"
    assert GoogleMapsGeocoder(api_key="g-key", base_url=google["base_url"]).geocode("nowhere") is None


@pytest.mark.parametrize("mode", ["denied", "error", "slow"])
def test_google_failures_fall_back_to_the_offline_table(google, mode):
    google["mode"] = mode
    geocoder = FallbackGeocoder(
        GoogleMapsGeocoder(api_key="g-key", base_url=google["base_url"], timeout=0.3), ZipCentroidGeocoder()
    )
    started = time.perf_counter()
    point = geocoder.geocode("2210 Maple Dr, Evanston IL 60201")
    assert time.perf_counter() - started < 1.0
    assert point.source == "zipcodes" and point.precision == "zip_centroid"


def test_the_key_selects_google(settings):
    settings.GOOGLE_MAPS_API_KEY = ""
    assert isinstance(get_geocoder(), ZipCentroidGeocoder)
    settings.GOOGLE_MAPS_API_KEY = "g-key"
    geocoder = get_geocoder()
    assert isinstance(geocoder, FallbackGeocoder) and isinstance(geocoder.primary, GoogleMapsGeocoder)
