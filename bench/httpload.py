"""A small HTTP/1.1 keep-alive load generator on asyncio streams (lighter than an HTTP library, so
the client steals less CPU from the server on a 2-core machine).

``closed_loop``: N connections each sending back-to-back for a duration → requests/s.
``open_loop``: requests started on a fixed schedule whatever the answers → latency measured from the
scheduled start, so a slow server cannot hide its queueing (no coordinated omission).
"""

import asyncio
import statistics
import time
from dataclasses import dataclass, field


class Connection:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict | None = None
    ) -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed by server")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                close = True
        if chunked:
            data = b""
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            data = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, data

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Result:
    latencies_ms: list = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    @property
    def rps(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99(self) -> float:
        return self.pct(99)


async def closed_loop(host, port, make_request, concurrency: int, duration: float, expect=(200, 204)) -> Result:
    result = Result()
    deadline = time.perf_counter() + duration

    async def worker():
        connection = await Connection(host, port).open()
        while time.perf_counter() < deadline:
            method, path, body, headers = make_request()
            started = time.perf_counter()
            try:
                status, _ = await connection.request(method, path, body, headers)
            except (ConnectionError, asyncio.IncompleteReadError):
                result.errors += 1
                connection.close()
                continue
            if status not in expect:
                result.errors += 1
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    return result


async def open_loop(host, port, make_request, rate: float, count: int, on_sent=None, expect=(200, 204)) -> Result:
    result = Result()
    idle: list[Connection] = []

    async def one(scheduled: float, request):
        connection = idle.pop() if idle else Connection(host, port)
        method, path, body, headers = request
        if on_sent is not None:
            on_sent(request)
        try:
            status, _ = await connection.request(method, path, body, headers)
        except (ConnectionError, asyncio.IncompleteReadError):
            result.errors += 1
            connection.close()
            return
        if status not in expect:
            result.errors += 1
        result.latencies_ms.append((time.perf_counter() - scheduled) * 1000)
        idle.append(connection)

    start = time.perf_counter() + 0.05
    tasks = []
    for index in range(count):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, make_request())))
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - start
    for connection in idle:
        connection.close()
    return result
