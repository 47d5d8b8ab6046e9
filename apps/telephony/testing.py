"""A loopback stand-in for Twilio's REST API, and helpers to sign webhooks as Twilio does.

Used by the test suite and by ``bench/``. It speaks the part of Twilio's protocol this project
uses — ``Messages.json``, ``AvailablePhoneNumbers/{Country}/Local.json``, ``IncomingPhoneNumbers``
— with Basic auth, form-encoded bodies and Twilio-shaped JSON answers, so the real twilio SDK
(pointed here by ``TWILIO_API_BASE_URL``) runs unmodified. Failure modes are switchable: answer
500 for the next N requests, be down (close the connection), or refuse a recipient with an error
code (21610 unsubscribed).
"""

import base64
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
API_VERSION = "2010-04-01"


def _sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def _rfc2822() -> str:
    return datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict
    form: dict
    received_at: float  # time.monotonic(), for in-process comparisons
    received_wall: float  # time.time(), for comparisons with another process (bench/)
    traceparent: str | None = None  # W3C trace context the SDK sent (nevermisscall/tracing.py)


@dataclass
class StandInState:
    requests: list = field(default_factory=list)
    fail_next: int = 0
    fail_status: int = 500
    slow_next: int = 0  # Requests accepted, then answered only after slow_seconds (a read timeout).
    slow_seconds: float = 0.0
    slow_creates: bool = True  # False: the slow request is lost inside Twilio (nothing is created).
    late_answers: int = 0  # Slow requests finished (their message created or lost).
    down: bool = False
    refuse: dict = field(default_factory=dict)  # recipient -> Twilio error code
    created: list = field(default_factory=list)  # Every message resource created, oldest first.
    numbers: dict = field(default_factory=dict)  # sid -> IncomingPhoneNumber resource (bought or set).
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TwilioStandIn/1.0"

    def log_message(self, format, *args):
        pass

    @property
    def state(self) -> StandInState:
        return self.server.state

    def _json(self, status: int, body: dict | None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # The client timed out (``slow()``).
            self.close_connection = True

    def _error(self, status: int, code: int, message: str) -> None:
        self._json(
            status,
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
        )

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        parts = urlsplit(self.path)
        form = {key: values[0] for key, values in parse_qs(raw).items()}
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        state = self.state
        with state.lock:
            if state.down:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if method == "GET" and parts.path == "/_standin/messages":
                recorded = list(state.requests)
            else:
                recorded = None
                state.requests.append(
                    RecordedRequest(
                        method,
                        parts.path,
                        query,
                        form,
                        time.monotonic(),
                        time.time(),
                        self.headers.get("traceparent"),
                    )
                )
            failing = recorded is None and state.fail_next > 0
            if failing:
                state.fail_next -= 1
            slow = recorded is None and not failing and state.slow_next > 0
            if slow:
                state.slow_next -= 1
        if recorded is not None:
            return self._dump_messages(recorded)
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{self.server.auth_token}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            return self._error(401, 20003, "Authenticate")
        if failing:
            return self._error(state.fail_status, 20500, "Internal Server Error")
        route = self._route(method, parts.path)
        if route is None:
            return self._error(404, 20404, "The requested resource was not found")
        handler, match = route
        if not slow:
            return handler(match, form, query)
        time.sleep(state.slow_seconds)
        if state.slow_creates:
            handler(match, form, query)
        else:
            self._error(500, 20500, "Internal Server Error")
        with state.lock:
            state.late_answers += 1

    def _dump_messages(self, recorded: list) -> None:
        """Out-of-band (no auth, not Twilio's API): what reached Messages.json and when, for bench/."""
        messages = [
            {"to": r.form.get("To"), "received_wall": r.received_wall}
            for r in recorded
            if r.method == "POST" and r.path.endswith("/Messages.json")
        ]
        self._json(200, {"messages": messages})

    def _route(self, method: str, path: str):
        base = rf"^/{API_VERSION}/Accounts/(?P<account>AC\w+)"
        routes = [
            ("POST", base + r"/Messages\.json$", self._create_message),
            ("GET", base + r"/Messages\.json$", self._list_messages),
            ("GET", base + r"/AvailablePhoneNumbers/(?P<country>[A-Z]{2})/Local\.json$", self._available),
            ("POST", base + r"/IncomingPhoneNumbers\.json$", self._buy),
            ("POST", base + r"/IncomingPhoneNumbers/(?P<sid>PN\w+)\.json$", self._update_number),
            ("GET", base + r"/IncomingPhoneNumbers/(?P<sid>PN\w+)\.json$", self._fetch_number),
            ("DELETE", base + r"/IncomingPhoneNumbers/(?P<sid>PN\w+)\.json$", self._release),
        ]
        for route_method, pattern, handler in routes:
            match = re.match(pattern, path)
            if match and route_method == method:
                return handler, match
        return None

    def _create_message(self, match, form, query):
        to, body = form.get("To", ""), form.get("Body", "")
        code = self.state.refuse.get(to)
        if code:
            return self._error(400, code, "Attempt to send to unsubscribed recipient")
        sid = _sid("SM")
        account = match["account"]
        message = {
            "account_sid": account,
            "api_version": API_VERSION,
            "body": body,
            "date_created": _rfc2822(),
            "date_sent": None,
            "date_updated": _rfc2822(),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"/{API_VERSION}/Accounts/{account}/Messages/{sid}/Media.json"},
            "to": to,
            "uri": f"/{API_VERSION}/Accounts/{account}/Messages/{sid}.json",
        }
        with self.state.lock:
            self.state.created.append(message)
        self._json(201, message)

    def _list_messages(self, match, form, query):
        """Newest first, filtered by ``To`` and ``From`` as Twilio's list is (one page)."""
        with self.state.lock:
            found = [
                message
                for message in reversed(self.state.created)
                if query.get("To", message["to"]) == message["to"]
                and query.get("From", message["from"]) == message["from"]
            ]
        size = int(query.get("PageSize", 50))
        uri = f"/{API_VERSION}/Accounts/{match['account']}/Messages.json"
        self._json(
            200,
            {
                "messages": found[:size],
                "first_page_uri": uri,
                "next_page_uri": None,
                "previous_page_uri": None,
                "page": 0,
                "page_size": size,
                "uri": uri,
            },
        )

    def _available(self, match, form, query):
        area = query.get("AreaCode", "312")
        contains = re.sub(r"\D", "", query.get("Contains", ""))[:4]
        numbers = []
        for index in range(min(3, int(query.get("PageSize", 3)))):
            line = (contains + f"{index:04d}"[len(contains) :])[:4]
            e164 = f"+1{area}555{line}"
            numbers.append(
                {
                    "friendly_name": f"({area}) 555-{line}",
                    "phone_number": e164,
                    "lata": "358",
                    "rate_center": "CHICAGO",
                    "latitude": "41.8781",
                    "longitude": "-87.6298",
                    "locality": "Chicago",
                    "region": "IL",
                    "postal_code": "60601",
                    "iso_country": match["country"],
                    "address_requirements": "none",
                    "beta": False,
                    "capabilities": {"voice": True, "SMS": True, "MMS": True, "fax": False},
                }
            )
        uri = f"/{API_VERSION}/Accounts/{match['account']}/AvailablePhoneNumbers/{match['country']}/Local.json"
        self._json(200, {"available_phone_numbers": numbers, "uri": uri})

    def _number_body(self, account: str, sid: str, form: dict) -> dict:
        return {
            "account_sid": account,
            "api_version": API_VERSION,
            "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            "date_created": _rfc2822(),
            "date_updated": _rfc2822(),
            "friendly_name": form.get("FriendlyName") or form.get("PhoneNumber"),
            "phone_number": form.get("PhoneNumber"),
            "sid": sid,
            "sms_method": form.get("SmsMethod", "POST"),
            "sms_url": form.get("SmsUrl", ""),
            "status_callback": form.get("StatusCallback", ""),
            "status_callback_method": form.get("StatusCallbackMethod", "POST"),
            "voice_method": form.get("VoiceMethod", "POST"),
            "voice_url": form.get("VoiceUrl", ""),
            "status": "in-use",
            "uri": f"/{API_VERSION}/Accounts/{account}/IncomingPhoneNumbers/{sid}.json",
        }

    def _buy(self, match, form, query):
        body = self._number_body(match["account"], _sid("PN"), form)
        with self.state.lock:
            self.state.numbers[body["sid"]] = body
        self._json(201, body)

    def _update_number(self, match, form, query):
        with self.state.lock:
            known = self.state.numbers.get(match["sid"])
            body = self._number_body(match["account"], match["sid"], form)
            if known is not None:  # Twilio changes only the fields sent.
                body = {**known, **{key: value for key, value in body.items() if value or key not in known}}
                for field_name, param in (("voice_url", "VoiceUrl"), ("sms_url", "SmsUrl")):
                    body[field_name] = form.get(param, known[field_name])
                body["phone_number"] = known["phone_number"]
                body["friendly_name"] = form.get("FriendlyName") or known["friendly_name"]
            self.state.numbers[match["sid"]] = body
        self._json(200, body)

    def _fetch_number(self, match, form, query):
        with self.state.lock:
            body = self.state.numbers.get(match["sid"])
        if body is None:
            return self._error(404, 20404, f"The requested resource {match['sid']} was not found")
        self._json(200, body)

    def _release(self, match, form, query):
        self._json(204, None)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_DELETE(self):
        self._handle("DELETE")


class TwilioStandIn:
    """``with TwilioStandIn() as twilio:`` — ``twilio.base_url``, ``twilio.messages()``, failure switches."""

    def __init__(self, auth_token: str = AUTH_TOKEN):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.state = StandInState()
        self.server.auth_token = auth_token
        self.server.standin = self  # For handlers that control it out of band (bench/standin.py).
        self.thread = threading.Thread(target=self.server.serve_forever, name="twilio-stand-in", daemon=True)

    @property
    def state(self) -> StandInState:
        return self.server.state

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "TwilioStandIn":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def number_set(self, *, sid: str, phone_number: str, voice_url: str, sms_url: str) -> None:
        """A number as it is configured at Twilio (the account's numbers survive ``reset``)."""
        body = _Handler._number_body(
            None, ACCOUNT_SID, sid, {"PhoneNumber": phone_number, "VoiceUrl": voice_url, "SmsUrl": sms_url}
        )
        with self.state.lock:
            self.state.numbers[sid] = body

    def reset(self) -> None:
        with self.state.lock:
            self.state.requests.clear()
            self.state.fail_next = 0
            self.state.slow_next = 0
            self.state.slow_creates = True
            self.state.late_answers = 0
            self.state.down = False
            self.state.refuse.clear()
            self.state.created.clear()

    def fail(self, times: int, status: int = 500) -> None:
        with self.state.lock:
            self.state.fail_next, self.state.fail_status = times, status

    def slow(self, times: int, seconds: float, creates: bool = True) -> None:
        """The next ``times`` requests answer only after ``seconds`` (a client's read timeout); with
        ``creates=False`` they are lost inside Twilio, so a lookup finds no message either."""
        with self.state.lock:
            self.state.slow_next, self.state.slow_seconds, self.state.slow_creates = times, seconds, creates

    def wait_for_late_answers(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.state.late_answers < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} slow requests were not answered within {timeout} s")
            time.sleep(0.02)

    def set_down(self, down: bool) -> None:
        with self.state.lock:
            self.state.down = down

    def requests(self, method: str | None = None, path_suffix: str = "") -> list[RecordedRequest]:
        with self.state.lock:
            return [
                r
                for r in self.state.requests
                if (method is None or r.method == method) and r.path.endswith(path_suffix)
            ]

    def messages(self) -> list[RecordedRequest]:
        return self.requests("POST", "/Messages.json")


def sign(url: str, params: dict, auth_token: str = AUTH_TOKEN) -> str:
    """``X-Twilio-Signature`` for a POST of ``params`` to ``url``, as Twilio computes it."""
    return RequestValidator(auth_token).compute_signature(url, params)
