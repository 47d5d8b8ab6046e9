"""The Twilio stand-in as its own process for the benchmark:
``python -m bench.standin <port-file> [--callbacks <seconds>]``.

On top of ``apps.telephony.testing.TwilioStandIn`` (unchanged) with ``TCP_NODELAY`` on its sockets
(see ``BenchHandler``), three out-of-band reads for bench/:

- ``GET /_standin/count``: how many ``Messages.json`` requests arrived (cheap to poll);
- ``GET /_standin/deliveries``: for each of them the ``delivery_id`` carried by its
  ``StatusCallback`` URL (the outbox puts it there) and when it arrived, so a benchmark can tell a
  delivery sent twice from two deliveries;
- ``GET /_standin/since?n=N``: the ``Messages.json`` requests among the requests from the N-th on
  (``delivery_id``, to, when, body) and the N to ask from next time, so a benchmark can follow the
  texts as they arrive without reading them all again.

With ``--callbacks S`` it also does what Twilio does after accepting a message: S seconds later it
POSTs a signed ``MessageStatus=sent`` status callback to the message's ``StatusCallback`` URL (a few
threads, keep-alive connections). Without it no status callback is ever sent.
"""

import argparse
import heapq
import http.client
import json
import signal
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from apps.telephony.testing import ACCOUNT_SID, AUTH_TOKEN, TwilioStandIn, _Handler, sign

CALLBACK_THREADS = 4


class Callbacks:
    """Status callbacks due at a time, sent by a few threads."""

    def __init__(self, delay: float):
        self.delay = delay
        self.heap: list = []
        self.condition = threading.Condition()
        self.sent = self.failed = 0
        self.seq = 0
        for index in range(CALLBACK_THREADS):
            threading.Thread(target=self._run, name=f"callbacks-{index}", daemon=True).start()

    def schedule(self, url: str, params: dict) -> None:
        with self.condition:
            self.seq += 1
            heapq.heappush(self.heap, (time.monotonic() + self.delay, self.seq, url, params))
            self.condition.notify()

    def _next(self):
        with self.condition:
            while True:
                if self.heap and self.heap[0][0] <= time.monotonic():
                    return heapq.heappop(self.heap)[2:]
                timeout = self.heap[0][0] - time.monotonic() if self.heap else None
                self.condition.wait(timeout)

    def _run(self) -> None:
        connections: dict[str, http.client.HTTPConnection] = {}
        while True:
            url, params = self._next()
            parts = urlsplit(url)
            body = urlencode(params)
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": sign(url, params),
            }
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            for _ in range(2):  # Once more on a fresh connection if the kept-alive one was closed.
                conn = connections.get(parts.netloc) or http.client.HTTPConnection(parts.netloc, timeout=10)
                connections[parts.netloc] = conn
                try:
                    conn.request("POST", path, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    ok = response.status < 400
                    break
                except (OSError, http.client.HTTPException):
                    conn.close()
                    connections.pop(parts.netloc, None)
                    ok = False
            with self.condition:
                if ok:
                    self.sent += 1
                else:
                    self.failed += 1


def _delivery_id(request) -> str:
    callback = request.form.get("StatusCallback", "")
    return parse_qs(urlsplit(callback).query).get("delivery_id", [""])[0]


def _is_message(request) -> bool:
    return request.method == "POST" and request.path.endswith("/Messages.json")


class BenchHandler(_Handler):
    # The base handler writes the headers and the body in two sends; on a kept-alive connection
    # Nagle's algorithm then holds the body until the client's delayed ACK: 43 ms per request
    # instead of 2 ms (measured with the twilio SDK's requests session). Twilio does not do that.
    disable_nagle_algorithm = True

    def _json(self, status, body):
        self._last_body = body
        super()._json(status, body)

    def _create_message(self, match, form, query):
        super()._create_message(match, form, query)
        callbacks = self.server.callbacks
        body = getattr(self, "_last_body", None) or {}
        url = form.get("StatusCallback")
        if callbacks is not None and url and body.get("sid"):
            sid = body["sid"]
            callbacks.schedule(
                url,
                {
                    "AccountSid": ACCOUNT_SID,
                    "ApiVersion": "2010-04-01",
                    "MessageSid": sid,
                    "SmsSid": sid,
                    "MessageStatus": "sent",
                    "SmsStatus": "sent",
                    "From": form.get("From", ""),
                    "To": form.get("To", ""),
                },
            )

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/_standin/count":
            with self.state.lock:
                count = sum(1 for r in self.state.requests if _is_message(r))
            callbacks = self.server.callbacks
            return self._json(
                200,
                {
                    "messages": count,
                    "callbacks_sent": callbacks.sent if callbacks else 0,
                    "callbacks_failed": callbacks.failed if callbacks else 0,
                },
            )
        if path == "/_standin/since":
            start = int(parse_qs(urlsplit(self.path).query).get("n", ["0"])[0])
            with self.state.lock:
                recorded, total = self.state.requests[start:], len(self.state.requests)
            rows = [
                [_delivery_id(r), r.form.get("To", ""), r.received_wall, r.form.get("Body", "")]
                for r in recorded
                if _is_message(r)
            ]
            return self._json(200, {"next": total, "messages": rows})
        if path == "/_standin/deliveries":
            with self.state.lock:
                recorded = [r for r in self.state.requests if _is_message(r)]
            rows = [[_delivery_id(r), r.form.get("To", ""), r.received_wall] for r in recorded]
            payload = json.dumps({"deliveries": rows}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return None
        return super().do_GET()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port_file")
    parser.add_argument("--callbacks", type=float, default=None, help="send status callbacks after S seconds")
    args = parser.parse_args()
    standin = TwilioStandIn(auth_token=AUTH_TOKEN)
    standin.server.RequestHandlerClass = BenchHandler
    standin.server.callbacks = Callbacks(args.callbacks) if args.callbacks is not None else None
    server = standin.start()
    Path(args.port_file).write_text(server.base_url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
