"""A loopback stand-in of OpenAI's API, for tests and local demos.

It speaks the real protocol (``POST /v1/chat/completions``, the ``chat.completion`` object, usage,
OpenAI's error body; ``POST /v1/audio/speech``, audio bytes), so the official ``openai`` SDK is
pointed at it with ``base_url`` and runs unmodified. Every request is recorded; ``mode`` makes it
answer normally, fail with 500, stall past the client's timeout, or return content that is not JSON.
Speech answers with an MP3 header followed by the words it was asked to say, so a test can tell
which text was synthesised.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MP3_HEADER = b"ID3\x04\x00\x00\x00\x00\x00\x00"


class OpenAIStandIn:
    def __init__(self, responder=None):
        # ``responder(body) -> dict``: the JSON object the "model" returns for a request body.
        self.responder = responder or (lambda body: {})
        self.mode = "ok"  # ok | error500 | timeout | malformed
        self.stall_seconds = 3.0
        self.requests: list[dict] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "OpenAIStandIn":
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

            def _send(self, status: int, payload: dict | str | bytes, content_type: str = "application/json"):
                if isinstance(payload, bytes):
                    body = payload
                else:
                    body = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
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
                if self.path not in ("/v1/chat/completions", "/v1/audio/speech"):
                    return self._send(
                        404,
                        {
                            "error": {
                                "message": "Unknown path",
                                "type": "invalid_request_error",
                                "param": None,
                                "code": None,
                            }
                        },
                    )
                if standin.mode == "error500":
                    return self._send(
                        500,
                        {
                            "error": {
                                "message": "The server had an error",
                                "type": "server_error",
                                "param": None,
                                "code": None,
                            }
                        },
                    )
                if standin.mode == "timeout":
                    time.sleep(standin.stall_seconds)
                if self.path == "/v1/audio/speech":
                    return self._send(200, MP3_HEADER + body.get("input", "").encode(), "audio/mpeg")
                content = (
                    "Sure! I'd love to help." if standin.mode == "malformed" else json.dumps(standin.responder(body))
                )
                prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", [])) * 2
                completion_tokens = len(content.split()) * 2
                try:
                    return self._send(
                        200,
                        {
                            "id": f"chatcmpl-standin{len(standin.requests)}",
                            "object": "chat.completion",
                            "created": int(time.time()),
                            "model": body.get("model", ""),
                            "choices": [
                                {
                                    "index": 0,
                                    "message": {"role": "assistant", "content": content, "refusal": None},
                                    "logprobs": None,
                                    "finish_reason": "stop",
                                }
                            ],
                            "usage": {
                                "prompt_tokens": prompt_tokens,
                                "completion_tokens": completion_tokens,
                                "total_tokens": prompt_tokens + completion_tokens,
                            },
                        },
                    )
                except (BrokenPipeError, ConnectionResetError):
                    return None  # the client gave up (timeout test)

        return Handler
