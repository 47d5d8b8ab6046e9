"""What observability costs per request and per log line, in one process, against baselines measured
in the same run: ``.venv/bin/python -m bench.observability [--requests 2000] [--lines 5000]``.

1. ``GET /healthz`` through the full middleware stack with OpenTelemetry's Django middleware (and
   the exporter none: spans made, not exported) beside the same stack without it;
2. one INFO line through the project's handlers (context, redaction, JSON to a null stream, the
   Redis buffer's deque) beside the stdlib's plain formatter on the same null stream.
"""

import argparse
import io
import logging
import os
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nevermisscall.settings")
os.environ.setdefault("APP_ENV", "testing")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from nevermisscall import logs, tracing  # noqa: E402


def _requests(client: Client, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        client.get("/healthz")
        times.append(time.perf_counter() - started)
    return times


def _lines(logger: logging.Logger, count: int, message: str) -> float:
    started = time.perf_counter()
    for n in range(count):
        logger.info(message, "CA123", n)
    return (time.perf_counter() - started) / count


ORDINARY = "call %s answered in %d ms"
SECRET = "call %s answered in %d ms Authorization: Bearer abcdefgh12345678"


def _logger(name: str, handlers: list[logging.Handler]) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.propagate = False
    logger.handlers = handlers
    logger.setLevel(logging.INFO)
    return logger


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=5000)
    args = parser.parse_args()

    without = [m for m in settings.MIDDLEWARE if m != tracing.DJANGO_MIDDLEWARE]
    with override_settings(MIDDLEWARE=without, ALLOWED_HOSTS=["*"]):
        _requests(Client(), 200)  # Warm-up.
        bare = _requests(Client(), args.requests)
    with override_settings(ALLOWED_HOSTS=["*"]):
        _requests(Client(), 200)
        traced = _requests(Client(), args.requests)

    plain = logging.StreamHandler(io.StringIO())
    plain.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    ours = logging.StreamHandler(io.StringIO())
    ours.setFormatter(logs.JsonFormatter())
    buffer = logs.RedisLogHandler(maxlen=1000)
    buffer._start = lambda: None  # Measure the caller's share: the flush runs on its own thread.
    for handler in (ours, buffer):
        handler.addFilter(logs.ContextFilter())
        handler.addFilter(logs.RedactingFilter())
    baseline = _lines(_logger("bench.plain", [plain]), args.lines, ORDINARY)
    project = _lines(_logger("bench.ours", [ours, buffer]), args.lines, ORDINARY)
    with_secret = _lines(_logger("bench.ours", [ours, buffer]), args.lines, SECRET)

    def ms(values, q):
        return statistics.quantiles(values, n=100)[q - 1] * 1000

    print(f"GET /healthz, {args.requests} requests (ms)      p50     p99")
    print(f"  without the OTel middleware             {ms(bare, 50):6.3f}  {ms(bare, 99):6.3f}")
    print(f"  with it (exporter none)                 {ms(traced, 50):6.3f}  {ms(traced, 99):6.3f}")
    print(f"  ratio p50                               {ms(traced, 50) / ms(bare, 50):6.2f}x")
    print(f"one log line, {args.lines} lines (µs per line)")
    print(f"  stdlib plain formatter                  {baseline * 1e6:7.1f}")
    print(f"  project (context, redaction, JSON, buffer) {project * 1e6:7.1f}  ({project / baseline:.1f}x)")
    print(f"  project, a line with a header to redact {with_secret * 1e6:7.1f}  ({with_secret / baseline:.1f}x)")


if __name__ == "__main__":
    main()
