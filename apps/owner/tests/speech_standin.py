"""A loopback stand-in of OpenAI's text-to-speech API (``POST /v1/audio/speech``), for the real
``openai`` SDK pointed at it with ``base_url`` (the pattern of nevermisscall/openai_standin.py).

It answers with the bytes of an MP3 frame header and the words it was asked to say, so a test can
tell which text was synthesised; ``mode = "error500"`` answers with OpenAI's error body instead.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MP3_HEADER = b"ID3\x04\x00\x00\x00\x00\x00\x00"


class SpeechStandIn:
    def __init__(self):
        self.mode = "ok"
        self.requests: list[dict] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "SpeechStandIn":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
                return

            def _send(self, status: int, body: bytes, content_type: str):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                standin.requests.append(
                    {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                )
                if self.path != "/v1/audio/speech":
                    error = {"error": {"message": "Unknown path", "type": "invalid_request_error"}}
                    return self._send(404, json.dumps(error).encode(), "application/json")
                if standin.mode == "error500":
                    error = {"error": {"message": "The server had an error", "type": "server_error"}}
                    return self._send(500, json.dumps(error).encode(), "application/json")
                return self._send(200, MP3_HEADER + body.get("input", "").encode(), "audio/mpeg")

        return Handler
